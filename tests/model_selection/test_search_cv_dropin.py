"""SearchCV as a drop-in for GridSearchCV: typed estimators, random_state,
groups/sample_weight/fit params, scoring, refit, times and verbosity."""

from __future__ import annotations

import random
import re
import warnings

import keras
import keras_tuner as kt
import numpy as np
import pytest
from sklearn.base import clone, is_classifier, is_regressor
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import StackingClassifier, VotingClassifier
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold, cross_val_score

import kt_ext
from kt_ext._internal.seam_random import keras_seed_state
from kt_ext.model_selection import SearchCVClassifier, SearchCVRegressor, refit_best
from kt_ext.model_selection._search_folds import make_splits
from kt_ext.model_selection._search_scoring import search_objective
from kt_ext.model_selection._search_setup import SEED_NOT_GIVEN, fit_seed

RNG = np.random.default_rng(0)
X = RNG.normal(size=(48, 4)).astype(np.float32)
Y = (X[:, 0] + X[:, 1] > 0).astype(int)
TINY = {"cv": 2, "max_epochs": 1, "epoch_budget": 2, "random_state": 0}


class SpyBuilder(kt.HyperModel):
    """A tiny model; logs every fit's keyword arguments and row count."""

    def __init__(self):
        super().__init__()
        self.fits = []

    def build(self, hp):
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(hp.Choice("units", [2, 3])),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    def fit(self, hp, model, x, y, **kwargs):
        self.fits.append({"rows": len(x), **kwargs})
        return model.fit(x, y, **kwargs)


class Counting(keras.callbacks.Callback):
    began = 0

    def on_train_begin(self, logs=None):
        type(self).began += 1


def global_random_state():
    """Python's, NumPy's and Keras's (seed, global SeedGenerator) random state."""
    generator = keras_seed_state()["global_seed_generator"]
    return (
        random.getstate(),
        np.random.get_state()[1].tolist(),
        keras_seed_state()["global_random_seed"],
        id(generator),
        None
        if generator is None
        else keras.ops.convert_to_numpy(generator.state).tolist(),
    )


# -- typed estimators ---------------------------------------------------------


def test_typed_estimators_are_typed_before_fit():
    assert is_classifier(SearchCVClassifier()) and not is_regressor(
        SearchCVClassifier()
    )
    assert is_regressor(SearchCVRegressor()) and not is_classifier(SearchCVRegressor())
    assert is_classifier(clone(SearchCVClassifier(cv=3)))
    assert not hasattr(SearchCVRegressor(), "predict_proba")
    assert SearchCVClassifier().get_params() == kt_ext.SearchCV().get_params()


def test_a_classifier_refuses_a_continuous_target_and_a_regressor_takes_ints(
    monkeypatch,
):
    with pytest.raises(ValueError, match="Unknown label type"):
        SearchCVClassifier().fit(X, X[:, 0])
    tasks = []
    monkeypatch.setattr(
        kt_ext.SearchCV, "_search", lambda self, *rest: tasks.append(self._task)
    )
    SearchCVRegressor().fit(X, Y)  # 0/1 ints: targets, not classes
    SearchCVClassifier().fit(X, Y * 2.0)  # whole float labels are classes
    assert tasks == ["regression", "binary"]


@pytest.fixture
def dummy_search(monkeypatch):
    """SearchCV's search replaced by a DummyClassifier that logs its rows."""
    seen = []

    def search(self, data, splits, seed, path, fit_params):
        seen.append(np.bincount(data.y, minlength=2))
        self.refit, self.cv_results_ = True, {}
        self.best_estimator_ = DummyClassifier().fit(data.x, data.labels)

    monkeypatch.setattr(kt_ext.SearchCV, "_search", search)
    return seen


def test_cross_val_score_stratifies_a_search_cv_classifier(dummy_search):
    y = np.repeat([0, 1], [36, 12])  # sorted: plain KFold(3) would not stratify
    cross_val_score(SearchCVClassifier(), X, y, cv=3)
    assert [counts.tolist() for counts in dummy_search] == [[24, 8]] * 3


def test_voting_and_stacking_classifiers_accept_it(dummy_search):
    voting = VotingClassifier(
        [("search", SearchCVClassifier()), ("linear", LogisticRegression())],
        voting="soft",
    )
    assert voting.fit(X, Y).predict(X).shape == (48,)
    stacking = StackingClassifier(
        [("search", SearchCVClassifier()), ("linear", LogisticRegression())], cv=2
    )
    assert stacking.fit(X, Y).predict_proba(X).shape == (48, 2)


# -- random_state ---------------------------------------------------------------


def test_one_seed_per_fit_from_random_state_never_from_numpys_global_generator():
    assert fit_seed(5, SEED_NOT_GIVEN) == 5
    state = np.random.RandomState(0)
    draws = [fit_seed(state, SEED_NOT_GIVEN) for _ in range(2)]
    assert draws[0] != draws[1]
    assert draws[0] == fit_seed(np.random.RandomState(0), SEED_NOT_GIVEN)
    np.random.seed(1)
    before = np.random.get_state()[1].copy()
    assert fit_seed(None, SEED_NOT_GIVEN) != fit_seed(None, SEED_NOT_GIVEN)
    assert np.array_equal(np.random.get_state()[1], before)
    with pytest.warns(FutureWarning, match="`seed` is deprecated"):
        assert fit_seed(None, 3) == 3


@pytest.mark.parametrize("random_state", [0, None])
def test_fit_leaves_the_global_random_state_as_it_was(random_state, tmp_path):
    keras.utils.set_random_seed(123)
    random.random(), np.random.random(), keras.random.uniform(())
    before = global_random_state()
    search = SearchCVClassifier(
        SpyBuilder(), **{**TINY, "random_state": random_state}
    ).fit(X, Y)
    assert global_random_state() == before
    assert np.isfinite(search.best_score_)


def test_the_same_random_state_gives_the_same_search_and_seed_still_works():
    first = SearchCVClassifier(SpyBuilder(), **TINY).fit(X, Y)
    second = SearchCVClassifier(SpyBuilder(), **TINY).fit(X, Y)
    with pytest.warns(FutureWarning, match="`seed` is deprecated"):
        third = SearchCVClassifier(
            SpyBuilder(), **{**TINY, "random_state": None, "seed": 0}
        ).fit(X, Y)
    for other in (second, third):
        assert other.best_params_ == first.best_params_
        np.testing.assert_allclose(
            other.cv_results_["mean_test_score"],
            first.cv_results_["mean_test_score"],
            rtol=1e-5,
        )
        np.testing.assert_allclose(
            other.predict_proba(X), first.predict_proba(X), rtol=1e-4, atol=1e-6
        )


# -- groups, sample_weight, fit params, cv pairs --------------------------------


def test_groups_reach_a_group_splitter():
    groups = np.arange(48) // 6
    splits = make_splits(GroupKFold(4), X, Y, groups, seed=0).splits
    assert len(splits) == 4
    for train, test in splits:
        assert not set(groups[train]) & set(groups[test])
    with pytest.raises(ValueError, match="`groups` must have one entry per row"):
        make_splits(GroupKFold(4), X, Y, groups[:5], seed=0)


def test_sample_weight_is_split_with_the_rows_and_fit_params_reach_every_fit():
    builder = SpyBuilder()
    weights = np.linspace(0.5, 2.0, 48)
    Counting.began = 0
    folds = [(np.arange(12, 48), np.arange(12)), (np.arange(36), np.arange(36, 48))]
    search = SearchCVClassifier(builder, **{**TINY, "cv": iter(folds)}).fit(
        X, Y, sample_weight=weights, callbacks=[Counting()]
    )
    assert search.n_splits_ == 2
    *search_fits, refit = builder.fits
    assert len(search_fits) == 2 and Counting.began == 3  # two folds, the refit
    for fit, (train, test) in zip(search_fits, folds, strict=True):
        assert fit["rows"] == len(train)
        np.testing.assert_allclose(fit["sample_weight"], weights[train])
        np.testing.assert_allclose(fit["validation_data"][2], weights[test])
    assert refit["rows"] == 48
    np.testing.assert_allclose(refit["sample_weight"], weights)


# -- scoring, refit, cv_results_, verbose ---------------------------------------


def test_scorer_names_map_to_a_templates_metrics_and_others_take_the_scorer_path():
    assert search_objective("neg_log_loss", None, template=True, classifies=True) == (
        kt.Objective("val_loss", "min"),
        None,
    )
    assert search_objective(
        "neg_mean_absolute_error", None, template=True, classifies=False
    ) == (kt.Objective("val_mae", "min"), None)
    objective, scorer = search_objective(
        "accuracy", None, template=False, classifies=True
    )
    assert objective == kt.Objective("val_score", "max") and callable(scorer)
    assert search_objective(None, None, template=False, classifies=False) == (
        "val_loss",
        None,
    )


@pytest.fixture(scope="module")
def scored():
    """A search ranked by a callable scorer, refit=False, verbose=1."""
    import contextlib
    import io

    def balanced(estimator, x, y, sample_weight=None):
        assert list(estimator.classes_) == ["no", "yes"]  # the original labels
        return float(np.mean(estimator.predict(x) == y))

    labels = np.where(Y == 1, "yes", "no")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        search = SearchCVClassifier(
            SpyBuilder(),
            **{**TINY, "epoch_budget": 4, "verbose": 1},
            scoring=balanced,
            refit=False,
        ).fit(X, labels)
    return search, out.getvalue()


def test_a_callable_scorer_ranks_the_search(scored):
    search, _ = scored
    results = search.cv_results_
    folds = np.column_stack(
        [results["split0_test_score"], results["split1_test_score"]]
    )
    np.testing.assert_allclose(results["mean_test_score"], folds.mean(axis=1))
    assert np.all((folds >= 0) & (folds <= 1))
    assert search.best_score_ == np.nanmax(results["mean_test_score"])
    assert callable(search.scorer_)


def test_refit_false_leaves_no_best_estimator_and_predict_says_why(scored):
    search, _ = scored
    assert not hasattr(search, "best_estimator_") and not hasattr(search, "refit_time_")
    with pytest.raises(NotFittedError, match="refit=False"):
        search.predict(X)


def test_cv_results_have_gridsearchcvs_time_columns(scored):
    search, _ = scored
    results = search.cv_results_
    for name in ("fit_time", "score_time"):
        assert np.all(np.isfinite(results[f"mean_{name}"]))
        assert np.all(results[f"mean_{name}"] > 0)
        assert np.all(results[f"std_{name}"] >= 0)
    assert {"params", "rank_test_score", "n_resources", "iter"} <= set(results)


def test_verbose_1_prints_one_line_per_trial(scored):
    _, printed = scored
    lines = printed.strip().splitlines()
    assert len(lines) == 2  # two one-epoch trials of two folds
    for line in lines:
        assert re.fullmatch(
            r"trial \d{4}: 1 epochs, val_score \d\.\d{4} ± \d\.\d{4} over 2 folds",
            line,
        ), line


def test_verbose_0_prints_nothing_and_2_shows_fold_0s_progress(capfd):
    builder = SpyBuilder()
    # (Keras takes class_weight or sample_weight, not both.)
    SearchCVClassifier(builder, **TINY).fit(X, Y, class_weight={0: 1.0, 1: 2.0})
    assert capfd.readouterr().out == ""
    assert [fit["class_weight"] for fit in builder.fits] == [{0: 1.0, 1: 2.0}] * 3
    search = SearchCVClassifier(SpyBuilder(), **{**TINY, "verbose": 2}).fit(X, Y)
    out = capfd.readouterr().out
    assert out.count("trial 0000: 1 epochs") == 1
    assert out.count("val_loss:") == 1  # fold 0's bar only
    assert search.refit_time_ > 0 and search.best_estimator_.predict(X).shape == (48,)


# -- the refit ------------------------------------------------------------------


def test_compare_and_search_cv_share_the_public_refit():
    from kt_ext.compare import _harness

    assert _harness.refit_best is refit_best


def test_refit_best_is_seeded_and_leaves_the_global_random_state(tmp_path):
    builder = SpyBuilder()
    hp = kt.HyperParameters()
    hp.Choice("units", [2, 3])
    before = global_random_state()
    models = [
        refit_best(builder, hp, 1, X, Y, max_epochs=1, seed=4, verbose=0)
        for _ in range(2)
    ]
    assert global_random_state() == before
    np.testing.assert_allclose(*(m.predict(X, verbose=0) for m in models), rtol=1e-5)


def test_no_warning_without_seed(monkeypatch):
    monkeypatch.setattr(kt_ext.SearchCV, "_search", lambda *args: None)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        SearchCVClassifier(random_state=1).fit(X, Y)
