"""SearchCV end to end: tiny cross-validated searches, refit, scikit-learn tools."""

from __future__ import annotations

import os
import tempfile

import numpy as np
import pytest
from sklearn.compose import ColumnTransformer
from sklearn.datasets import load_breast_cancer, load_diabetes
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import kt_ext
from kt_ext.analysis import trials_dataframe
from kt_ext.hypermodels import MLPHyperModel

SMALL = {"num_layers": 1, "units": 8, "batch_norm": None, "lr_schedule": None}


@pytest.fixture(scope="module")
def cancer():
    """90 rows of breast cancer, scaled, with string labels."""
    x, y = load_breast_cancer(return_X_y=True)
    rows = np.random.default_rng(0).permutation(len(y))[:90]
    x = StandardScaler().fit_transform(x[rows])
    return x, np.array(["malignant", "benign"])[y[rows]]


@pytest.fixture(scope="module")
def diabetes():
    """80 rows; whole-number float targets (as diabetes's own), a regression."""
    x, y = load_diabetes(return_X_y=True)
    x, y = x[:80], y[:80]
    return StandardScaler().fit_transform(x), np.round((y - y.mean()) / y.std() * 4)


class SpyMLP(MLPHyperModel):
    """Logs every fit: its rows, keyword arguments and model."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fits = []

    def fit(self, hp, model, x, y, **kwargs):
        self.fits.append((len(x), kwargs, model))
        return super().fit(hp, model, x, y, **kwargs)


@pytest.fixture(scope="module")
def searched(cancer, tmp_path_factory):
    """A coarse-to-fine search of 3 rounds (1, 1 and 3 epochs) on 3 folds."""
    search = kt_ext.SearchCV(
        SpyMLP.for_data(cancer[0], cancer[1] == "benign", overrides=SMALL),
        cv=3,
        max_epochs=3,
        epoch_budget=3 * 8,
        random_state=0,
        directory=tmp_path_factory.mktemp("searches"),
    )
    return search.fit(*cancer)


@pytest.mark.backends
@pytest.mark.floors
def test_cv_results_have_a_row_per_configuration_and_gridsearchcvs_columns(searched):
    results = searched.cv_results_
    names = {name for name in results if name.startswith("param_")}
    assert {"param_learning_rate", "param_optimizer", "param_dropout"} <= names
    assert not any(name.startswith("param_tuner/") for name in results)
    rows = len(results["params"])
    assert rows >= 3
    for name in (
        "mean_test_score",
        "std_test_score",
        "rank_test_score",
        "n_resources",
        "iter",
        "split0_test_score",
        "split2_test_score",
        *names,
    ):
        assert len(results[name]) == rows, name
    assert "split3_test_score" not in results
    splits = np.column_stack([results[f"split{i}_test_score"] for i in range(3)])
    np.testing.assert_allclose(splits.mean(axis=1), results["mean_test_score"], 1e-5)
    np.testing.assert_allclose(splits.std(axis=1), results["std_test_score"], 1e-5)
    # Ranks follow the scores; the best row is the one refit.
    order = np.argsort(-results["mean_test_score"], kind="stable")
    assert np.all(np.diff(results["rank_test_score"][order]) >= 0)
    best = searched.best_index_
    assert results["rank_test_score"][best] == 1
    assert searched.best_score_ == results["mean_test_score"][best]
    assert searched.best_params_ == results["params"][best]
    assert not any(name.startswith("tuner/") for name in searched.best_params_)
    # Later rounds train longer: configurations continued there show it.
    assert results["iter"].max() >= 1
    assert results["n_resources"][results["iter"] > 0].min() >= 2


@pytest.mark.floors
def test_one_row_per_configuration_even_when_trials_continue(searched):
    df = trials_dataframe(searched.search_directory_)
    continued = df["hp_units"].notna() & (df["epochs_reached"] > df["epochs"])
    assert continued.any()  # trials that continued another trial's weights
    configurations = df.drop_duplicates([c for c in df if c.startswith("hp_")])
    assert len(searched.cv_results_["params"]) == len(configurations) < len(df)


@pytest.mark.backends
@pytest.mark.floors
def test_the_refit_trains_the_best_configuration_on_all_rows_for_its_epochs(
    searched, cancer
):
    rows, kwargs, model = searched.hypermodel.fits[-1]
    assert rows == len(cancer[0]) and "validation_data" not in kwargs
    assert kwargs["epochs"] == searched.cv_results_["n_resources"][searched.best_index_]
    assert kwargs["schedule_epochs"] == 3  # the search's max_epochs
    assert model is searched.best_model_
    assert {rows for rows, _, _ in searched.hypermodel.fits[:-1]} == {60}  # folds


@pytest.mark.backends
@pytest.mark.floors
def test_classification_predicts_labels_probabilities_and_scores_accuracy(
    searched, cancer
):
    x, y = cancer
    assert searched.classes_.tolist() == ["benign", "malignant"]
    proba = searched.predict_proba(x)
    assert proba.shape == (len(x), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1, atol=1e-6)
    predicted = searched.predict(x)
    assert set(predicted) <= {"benign", "malignant"}
    assert predicted.tolist() == searched.classes_[proba.argmax(axis=1)].tolist()
    assert searched.score(x, y) == accuracy_score(y, predicted)
    assert searched.n_features_in_ == 30


@pytest.mark.floors
def test_a_minimised_objective_is_reported_negated(diabetes, tmp_path):
    x, y = diabetes
    assert np.all(y == np.round(y))
    search = kt_ext.SearchCV(
        tuner="random",
        cv=2,
        max_epochs=2,
        epoch_budget=8,
        random_state=0,
        directory=tmp_path,
    ).fit(x, y)
    df = trials_dataframe(search.search_directory_).set_index("trial_id")
    assert df.attrs["objective"] == "val_loss"  # the regression default
    losses = df.loc[search.cv_results_["trial_id"], "score"].to_numpy()
    np.testing.assert_allclose(search.cv_results_["mean_test_score"], -losses)
    assert search.best_score_ == -losses.min() < 0
    assert search.score(x, y) == pytest.approx(r2_score(y, search.predict(x)))
    assert not hasattr(search, "predict_proba") and not hasattr(search, "classes_")
    assert search.best_model_.output_shape == (None, 1)  # the default MLP regresses


def test_every_fit_searches_afresh_in_a_new_folder(cancer, tmp_path, monkeypatch):
    x, y = cancer
    search = kt_ext.SearchCV(
        MLPHyperModel.for_data(x, y == "benign", overrides=SMALL),
        cv=2,
        max_epochs=1,
        epoch_budget=4,
        random_state=0,
        directory=tmp_path,
    )
    first = search.fit(x, y).search_directory_
    trials = len(search.cv_results_["params"])
    second = search.fit(x, y).search_directory_
    assert first != second
    assert sorted(os.listdir(tmp_path)) == sorted(
        [os.path.basename(first), os.path.basename(second)]
    )
    # Not resumed: the second search had its whole budget again.
    assert len(search.cv_results_["params"]) == trials == 2
    # Without `directory`, the temporary folder is gone once fit returns.
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path / "temporary"))
    os.mkdir(tmp_path / "temporary")
    search.set_params(directory=None).fit(x, y)
    assert search.search_directory_ is None
    assert os.listdir(tmp_path / "temporary") == []


def test_works_after_a_column_transformer_in_a_pipeline_under_cross_val_score():
    rng = np.random.default_rng(0)
    colour = rng.choice(["red", "green", "blue"], size=80)
    size = rng.normal(size=80)
    x = np.empty((80, 2), dtype=object)
    x[:, 0], x[:, 1] = colour, size
    y = ((colour == "red") | (size > 1)).astype(int)
    pipeline = make_pipeline(
        ColumnTransformer(
            [("colour", OneHotEncoder(), [0]), ("size", StandardScaler(), [1])]
        ),
        kt_ext.SearchCV(cv=2, max_epochs=1, epoch_budget=2, random_state=0),
    )
    scores = cross_val_score(pipeline, x, y, cv=2)
    assert scores.shape == (2,) and np.all((scores >= 0) & (scores <= 1))
    fitted = pipeline.fit(x, y)
    assert fitted[-1].n_features_in_ == 4  # three colours and the size
    assert fitted.predict(x).shape == (80,)


@pytest.mark.parametrize(
    ("tuner", "budget"), [("hyperband", None), ("rank_pruning", 24)]
)
def test_the_other_tuners_search_the_same_cross_validated_objective(
    tuner, budget, cancer
):
    x, y = cancer
    search = kt_ext.SearchCV(
        MLPHyperModel.for_data(x, y == "benign", overrides=SMALL),
        tuner=tuner,
        cv=2,
        max_epochs=3,
        epoch_budget=budget,
        random_state=0,
    ).fit(x, y)
    results = search.cv_results_
    assert "split1_test_score" in results and "split2_test_score" not in results
    assert search.best_score_ == np.nanmax(results["mean_test_score"])
    assert results["iter"].max() >= 1  # a second round, continued trials
    assert 0 <= search.score(x, y) <= 1


def test_hyperband_and_coarse_to_fine_split_the_same_way_for_one_seed(cancer, tmp_path):
    import json

    from kt_ext.model_selection._split import FoldAssignment

    x, y = cancer
    digests = {}
    for tuner in ("hyperband", "coarse_to_fine"):
        search = kt_ext.SearchCV(
            MLPHyperModel.for_data(x, y == "benign", overrides=SMALL),
            tuner=tuner,
            cv=2,
            max_epochs=1,
            seed=3,
            directory=tmp_path / tuner,
        ).fit(x, y)
        with open(os.path.join(search.search_directory_, "tuner0.json")) as file:
            state = json.load(file)
        digests[tuner] = FoldAssignment.from_json(state["cv"]).fold_digest()
    assert digests["hyperband"] == digests["coarse_to_fine"] != ""


@pytest.mark.slow
def test_n_jobs_trains_in_worker_processes(cancer, tmp_path):
    environ = dict(os.environ)
    search = kt_ext.SearchCV(
        MLPHyperModel.for_data(cancer[0], cancer[1] == "benign", overrides=SMALL),
        cv=2,
        max_epochs=2,
        epoch_budget=16,
        random_state=0,
        n_jobs=2,
        directory=tmp_path,
    ).fit(*cancer)
    assert dict(os.environ) == environ
    logs = list(tmp_path.rglob("workers/worker*.log"))
    assert len(logs) == 2
    results = search.cv_results_
    assert np.isfinite(results["mean_test_score"]).all()
    # Fit times are measured in the workers, which do not send them back.
    assert np.isnan(results["mean_fit_time"]).all()
    assert search.predict(cancer[0][:5]).shape == (5,)
