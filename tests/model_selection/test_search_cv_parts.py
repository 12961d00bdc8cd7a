"""SearchCV's parts that need no search: arguments, tags, directories, results."""

from __future__ import annotations

import doctest
import math
import os

import keras
import keras_tuner as kt
import numpy as np
import pytest
from keras_tuner.engine.trial import Trial, TrialStatus
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.model_selection import KFold

import kt_ext
from kt_ext.hypermodels import MLPHyperModel
from kt_ext.model_selection import (
    _search_folds,
    _search_results,
    _search_scoring,
    _search_setup,
)
from kt_ext.model_selection._search_results import param_columns, search_results
from kt_ext.model_selection._search_setup import build_tuner, fresh_directory
from kt_ext.oracles import hyperband_epoch_budget


class NeverBuilt:
    """A model_builder that fails the test if a search ever builds a model."""

    def __call__(self, hp):
        raise AssertionError("a model was built before the arguments were checked")


def tiny_builder(hp):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1)), "mse")
    return model


X = np.random.default_rng(0).normal(size=(20, 3))
Y = np.arange(20) % 2


@pytest.mark.parametrize(
    ("arguments", "error", "named"),
    [
        ({"tuner": "bayesian"}, ValueError, "`tuner`"),
        ({"tuner": None}, TypeError, "`tuner`"),
        ({"cv": "3"}, TypeError, "`cv`"),
        ({"cv": 3.0}, TypeError, "`cv`"),
        ({"cv": True}, TypeError, "`cv`"),
        ({"cv": 1}, ValueError, "`cv`"),
        ({"max_epochs": 0}, ValueError, "`max_epochs`"),
        ({"epoch_budget": 0}, ValueError, "`epoch_budget`"),
        ({"epoch_budget": 2.5}, TypeError, "`epoch_budget`"),
        ({"seed": "0"}, TypeError, "`seed`"),
        ({"seed": 0, "random_state": 1}, ValueError, "`seed` is deprecated"),
        ({"random_state": "0"}, TypeError, "`random_state`"),
        ({"random_state": -1}, ValueError, "`random_state`"),
        ({"random_state": np.random.default_rng(0)}, TypeError, "`random_state`"),
        ({"scoring": ["accuracy"]}, ValueError, "`scoring` must be a single"),
        ({"scoring": {"a": "accuracy"}}, ValueError, "`scoring` must be a single"),
        ({"scoring": "accuracyy"}, ValueError, "`scoring` must be a scikit-learn"),
        ({"scoring": 3}, TypeError, "`scoring`"),
        ({"scoring": "f1", "objective": "val_loss"}, ValueError, "not both"),
        ({"refit": "yes"}, TypeError, "`refit`"),
        ({"n_jobs": 0}, ValueError, r"`n_jobs` must be at least 1.*got 0"),
        ({"n_jobs": -2}, ValueError, r"`n_jobs`.*-2"),
        ({"n_jobs": 1.5}, TypeError, r"`n_jobs` must be an int, got 1\.5"),
        ({"n_jobs": True}, TypeError, r"`n_jobs`.*True"),
        ({"cv": {"train": [0]}}, TypeError, "`cv`"),
        ({"cv": [([0, 1], [2])]}, ValueError, "`cv` must give at least 2 folds"),
        ({"cv": [([0, 1], [2, 3, 4]), (1, 2, 3)]}, ValueError, "`cv` must give"),
        ({"cv": [([0], []), ([1], [0])]}, ValueError, "fold 0 has 1 and 0"),
        ({"cv": [([0], [99]), ([1], [0])]}, ValueError, "among the 20 rows"),
        ({"objective": ["val_loss", 1]}, TypeError, "`objective`"),
        ({"directory": 3}, TypeError, "`directory`"),
        ({"verbose": -1}, ValueError, "`verbose`"),
        ({"verbose": "1"}, TypeError, "`verbose`"),
    ],
)
def test_bad_arguments_raise_naming_them_before_training(arguments, error, named):
    search = kt_ext.SearchCV(NeverBuilt(), **arguments)
    with pytest.raises(error, match=named) as raised:
        search.fit(X, Y)
    if not isinstance(arguments.get("cv"), list):
        assert repr(next(iter(arguments.values()))) in str(raised.value)


def test_a_hypermodel_that_is_no_model_builder_is_a_type_error():
    with pytest.raises(TypeError, match="`hypermodel` must be None"):
        kt_ext.SearchCV(hypermodel="mlp").fit(X, Y)


@pytest.mark.parametrize(
    ("template", "y", "message"),
    [
        (MLPHyperModel(4, "binary"), Y, "shape \\(4,\\), but `X` has 3 features"),
        (MLPHyperModel(3, "binary"), Y + 0.5, "'binary' task, but `y` holds cont"),
        (MLPHyperModel(3, "regression"), Y, None),
        (MLPHyperModel(3, "multiclass", num_classes=3), Y, "3 outputs, but `y`"),
    ],
)
def test_a_template_must_fit_the_data(template, y, message, monkeypatch):
    # Stop where the search would start: only the checks before it run.
    monkeypatch.setattr(kt_ext.SearchCV, "_search", lambda *args: None)
    search = kt_ext.SearchCV(template)
    if message is None:
        search.fit(X, y)  # whole-number targets and a regression template
        assert is_regressor(search) and not hasattr(search, "classes_")
        return
    with pytest.raises(ValueError, match=message):
        search.fit(X, y)


def test_non_numeric_or_non_finite_x_is_refused_before_training():
    with pytest.raises(ValueError, match=r"could not convert|numeric"):
        kt_ext.SearchCV(NeverBuilt()).fit(np.array([["a", "b"]] * 20), Y)
    with pytest.raises(ValueError, match="NaN"):
        kt_ext.SearchCV(NeverBuilt()).fit(np.full((20, 3), np.nan), Y)


def test_the_estimator_type_comes_from_a_templates_task_else_from_fit(monkeypatch):
    assert is_classifier(kt_ext.SearchCV(MLPHyperModel(3, "binary")))
    assert is_regressor(kt_ext.SearchCV(MLPHyperModel(3, "regression")))
    unknown = kt_ext.SearchCV()
    assert not is_classifier(unknown) and not is_regressor(unknown)
    assert hasattr(unknown, "predict_proba")  # not known to be a regressor yet
    monkeypatch.setattr(kt_ext.SearchCV, "_search", lambda *args: None)
    assert is_classifier(kt_ext.SearchCV().fit(X, np.array(["no", "yes"] * 10)))
    regressor = kt_ext.SearchCV().fit(X, X[:, 0])
    assert is_regressor(regressor) and not hasattr(regressor, "predict_proba")
    assert not is_classifier(clone(regressor))  # a clone has seen no data


@pytest.mark.parametrize(
    ("y", "task"),
    [
        (np.array(["no", "yes"] * 10), "binary"),
        (np.arange(20) % 3, "multiclass"),
        ((np.arange(20) % 2).astype(float), "binary"),  # 0/1 floats
        (np.arange(20) * 25.0, "regression"),  # whole floats, as diabetes's
        (np.linspace(0, 1, 20), "regression"),
    ],
)
def test_the_task_follows_the_rule_of_cv(y, task, monkeypatch):
    built = []
    monkeypatch.setattr(
        kt_ext.SearchCV, "_search", lambda self, *rest: built.append(self._task)
    )
    search = kt_ext.SearchCV().fit(X, y)
    assert built == [task]
    assert is_regressor(search) == (task == "regression")


def test_a_single_class_is_refused_before_training():
    with pytest.raises(ValueError, match="at least two classes, got one class"):
        kt_ext.SearchCV(NeverBuilt()).fit(X, np.ones(20, dtype=int))


def test_labels_are_encoded_in_the_order_of_classes(monkeypatch):
    seen = {}
    monkeypatch.setattr(
        kt_ext.SearchCV, "_search", lambda self, data, *rest: seen.update(y=data.y)
    )
    search = kt_ext.SearchCV().fit(X, np.array(["b", "a", "c", "a"] * 5))
    assert search.classes_.tolist() == ["a", "b", "c"]
    assert seen["y"][:4].tolist() == [1, 0, 2, 0]


def test_every_fit_gets_a_fresh_folder(tmp_path):
    first, second = fresh_directory(tmp_path), fresh_directory(tmp_path)
    assert first != second and os.listdir(first) == os.listdir(second) == []
    assert os.path.dirname(first) == str(tmp_path)
    temporary = fresh_directory(None)
    assert os.path.isdir(temporary) and not temporary.startswith(str(tmp_path))
    os.rmdir(temporary)


def test_random_search_runs_the_trials_the_budget_pays_for(tmp_path):
    def tuner(name, budget, folds=2):
        return build_tuner(
            name,
            tiny_builder,
            objective="val_loss",
            max_epochs=3,
            epoch_budget=budget,
            folds=folds,
            seed=0,
            path=str(tmp_path / f"{name}{budget}{folds}"),
        )

    assert tuner("random", 13).oracle.max_trials == 2  # 13 // (3 epochs x 2)
    iteration = hyperband_epoch_budget(3, 3)  # 11 epochs
    assert tuner("random", None, 1).oracle.max_trials == iteration // 3
    assert tuner("hyperband", None).oracle.hyperband_iterations == 1
    assert tuner("hyperband", 2 * iteration * 2).oracle.hyperband_iterations == 2
    with pytest.raises(ValueError, match="`epoch_budget` must pay for one iter"):
        tuner("hyperband", 2 * iteration - 1)
    with pytest.raises(ValueError, match="`epoch_budget` must pay for one trial"):
        tuner("random", 5)
    assert tuner("rank_pruning", 6).oracle.epoch_budget == 6


# -- cv_results_ from a search's trials ---------------------------------------


def make_trial(trial_id, values, score, best_step=0, metrics=None, status=None):
    hp = kt.HyperParameters()
    for name, value in values.items():
        hp.Fixed(name, value)
    trial = Trial(hp, trial_id=trial_id, status=status or TrialStatus.COMPLETED)
    trial.score, trial.best_step = score, best_step
    for name, value in (metrics or {}).items():
        trial.metrics.register(name, "min" if "loss" in name else "max")
        trial.metrics.update(name, value, step=best_step)
    return trial


def cv_metrics(mean, folds):
    return {
        "val_loss": mean,
        "val_loss_std": float(np.std(folds)),
        **{f"val_loss_fold{i}": value for i, value in enumerate(folds)},
    }


@pytest.fixture
def hyperband_like_trials():
    """Two configurations; "a" continues from 1 to 3 epochs, "b" fails."""
    first = {"units": 8, "tuner/epochs": 1, "tuner/initial_epoch": 0, "tuner/round": 0}
    trials = [
        make_trial("0", first, 0.5, 0, cv_metrics(0.5, [0.4, 0.6])),
        make_trial("1", {**first, "units": 16}, None, status=TrialStatus.FAILED),
        make_trial(
            "2",
            {
                **first,
                "tuner/epochs": 3,
                "tuner/initial_epoch": 1,
                "tuner/round": 1,
                "tuner/trial_id": "0",
            },
            0.25,
            1,
            cv_metrics(0.25, [0.2, 0.3]),
        ),
        make_trial("3", {**first, "units": 32}, 0.75, 0, cv_metrics(0.75, [0.5, 1.0])),
    ]
    return {trial.trial_id: trial for trial in trials}


def test_one_row_per_configuration_at_its_most_epochs(hyperband_like_trials):
    found = search_results(
        hyperband_like_trials,
        objective="val_loss",
        direction="min",
        absolute_steps=False,
        max_epochs=3,
    )
    results = found.cv_results
    assert results["trial_id"].tolist() == ["2", "1", "3"]
    assert results["params"] == [{"units": 8}, {"units": 16}, {"units": 32}]
    # val_loss is minimised: scores are negated, so greater is better.
    np.testing.assert_allclose(results["mean_test_score"], [-0.25, math.nan, -0.75])
    np.testing.assert_allclose(results["std_test_score"], [0.05, math.nan, 0.25])
    np.testing.assert_allclose(results["split0_test_score"], [-0.2, math.nan, -0.5])
    np.testing.assert_allclose(results["split1_test_score"], [-0.3, math.nan, -1.0])
    assert "split2_test_score" not in results
    # A failed configuration ranks below every scored one, as in GridSearchCV.
    assert results["rank_test_score"].tolist() == [1, 3, 2]
    # "a": 1 inherited epoch + its best step (1, counted from its own fit) + 1.
    assert results["n_resources"].tolist() == [3, 1, 1]
    assert results["iter"].tolist() == [1, 0, 0]
    assert results["param_units"].tolist() == [8, 16, 32]
    assert found.best_index == 0 and found.best_trial.trial_id == "2"


def test_maximised_scores_are_kept_and_ties_go_to_the_earlier_configuration():
    trials = {
        str(i): make_trial(str(i), {"units": units}, score, 0, {"val_auc": score})
        for i, (units, score) in enumerate([(8, 0.5), (16, 0.9), (32, 0.9)])
    }
    found = search_results(
        trials, objective="val_auc", direction="max", absolute_steps=False, max_epochs=4
    )
    assert found.cv_results["mean_test_score"].tolist() == [0.5, 0.9, 0.9]
    assert found.cv_results["rank_test_score"].tolist() == [3, 1, 1]
    assert found.best_index == 1
    assert np.isnan(found.cv_results["std_test_score"]).all()  # no cv metrics
    assert found.cv_results["n_resources"].tolist() == [1, 1, 1]


def test_a_search_without_a_score_has_nothing_to_refit():
    trials = {"0": make_trial("0", {"units": 8}, None, status=TrialStatus.FAILED)}
    with pytest.raises(RuntimeError, match="No configuration completed"):
        search_results(
            trials,
            objective="val_loss",
            direction="min",
            absolute_steps=False,
            max_epochs=1,
        )


def test_param_columns_are_masked_where_an_entry_was_not_active():
    columns = param_columns(
        [{"optimizer": "sgd", "momentum": 0.9}, {"optimizer": "adam"}]
    )
    assert columns["param_optimizer"].dtype == object
    assert columns["param_momentum"].mask.tolist() == [False, True]
    assert columns["param_momentum"].dtype == np.float64


def test_a_splitter_or_a_numpy_int_is_a_valid_cv(monkeypatch):
    folds = []
    monkeypatch.setattr(
        kt_ext.SearchCV, "_search", lambda self, *rest: folds.append(self.cv)
    )
    kt_ext.SearchCV(cv=KFold(3)).fit(X, Y)
    kt_ext.SearchCV(cv=np.int64(3)).fit(X, Y)
    assert isinstance(folds[0], KFold) and folds[1] == 3


@pytest.mark.parametrize(
    "module", [_search_folds, _search_results, _search_scoring, _search_setup]
)
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed


def test_searchcv_is_public_and_imported_on_first_use():
    assert "SearchCV" in kt_ext.__all__
    assert kt_ext.SearchCV.__module__ == "kt_ext.model_selection._search"


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.zeros(20), "all zero"),
        (-np.ones(20), "finite and >= 0"),
        (np.ones(3), r"one weight per row of `X` \(20\)"),
    ],
)
def test_bad_sample_weight_is_refused_before_training(weights, message):
    with pytest.raises(ValueError, match=message):
        kt_ext.SearchCV(NeverBuilt()).fit(X, Y, sample_weight=weights)
