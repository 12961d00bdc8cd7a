"""How a distributed worker finds the chief's split (no training here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kt_ext.model_selection._split import FoldAssignment
from kt_ext.tuners._cv_state import chief_folds


def _split(seed: int) -> FoldAssignment:
    return FoldAssignment.split(2, np.zeros((8, 1)), np.arange(8) % 2, seed)


def test_a_worker_reads_the_chiefs_split_and_not_an_older_one(tmp_path):
    live, old = _split(1), _split(2)
    assert live.digest() != old.digest()
    (tmp_path / "chief.json").write_text(json.dumps({"cv": live.to_json()}))
    assert chief_folds(str(tmp_path), live.digest(), 2) == live.to_json()
    # An older search's file in the directory is not taken for the chief's.
    (tmp_path / "chief.json").write_text(json.dumps({"cv": old.to_json()}))
    with pytest.raises(ValueError, match=r"digest .* was not found .* within 0 s"):
        chief_folds(str(tmp_path), live.digest(), 2, timeout=0.3)


def test_a_worker_must_search_with_cv_exactly_when_the_chief_does(tmp_path):
    with pytest.raises(ValueError, match=r"the chief has no cv, got cv=3"):
        chief_folds(str(tmp_path), None, 3)
    assert chief_folds(str(tmp_path), None, None) is None
    with pytest.raises(ValueError, match=r"the chief searches with cv, got cv=None"):
        chief_folds(str(tmp_path), _split(1).digest(), None)


# -- the fold seed: the search's, never the oracle's ----------------------------


def _rows(count: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    return rng.normal(size=(count, 3)).astype("float32"), np.arange(count) % 2


def _builder(hp):
    import keras

    model = keras.Sequential(
        [keras.Input((3,)), keras.layers.Dense(hp.Int("units", 1, 2))]
    )
    model.add(keras.layers.Dense(1, activation="sigmoid"))
    model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
    return model


def _split_of(tuner, cv=3, **fit_kwargs) -> FoldAssignment:
    x, y = _rows()
    tuner.set_folds(cv, x, y, fit_kwargs)
    return tuner.folds


def test_every_tuner_given_one_seed_splits_the_rows_the_same_way(tmp_path):
    import keras_tuner as kt

    import kt_ext
    from kt_ext.compare import stock_seed
    from kt_ext.tuners import FidelityTuner

    where = {"directory": tmp_path, "objective": "val_accuracy"}
    kt_ext_tuners = [
        kt_ext.CoarseToFine(_builder, seed=1, project_name="c", **where),
        kt_ext.RankPruning(_builder, seed=1, project_name="r", **where),
    ]
    stock = [
        # Keras Tuner's oracle seeds differ from the search's seed.
        kt.oracles.HyperbandOracle("val_accuracy", max_epochs=3, seed=stock_seed(1)),
        kt.oracles.RandomSearchOracle("val_accuracy", max_trials=2, seed=7),
        kt.oracles.BayesianOptimizationOracle("val_accuracy", max_trials=2),
    ]
    stock_tuners = [
        FidelityTuner(oracle, _builder, seed=1, directory=tmp_path, project_name=n)
        for oracle, n in zip(stock, "hab", strict=True)
    ]
    splits = [_split_of(tuner) for tuner in kt_ext_tuners + stock_tuners]
    assert {split.fold_digest() for split in splits} == {splits[0].fold_digest()}
    assert all(split.seed == 1 for split in splits)
    other = FidelityTuner(
        stock[0], _builder, seed=2, directory=tmp_path, project_name="o"
    )
    assert _split_of(other).fold_digest() != splits[0].fold_digest()


def test_without_a_seed_one_is_drawn_and_saved_with_the_split(tmp_path):
    import kt_ext

    tuners = [
        kt_ext.CoarseToFine(_builder, "val_loss", directory=tmp_path, project_name=n)
        for n in "ab"
    ]
    first, second = (_split_of(tuner) for tuner in tuners)
    assert isinstance(first.seed, int) and first.seed != second.seed
    assert tuners[0].get_state()["cv"]["seed"] == first.seed
    assert first == FoldAssignment.split(3, *_rows(), first.seed)


def test_a_seed_that_is_not_an_int_is_refused(tmp_path):
    import keras_tuner as kt

    from kt_ext.tuners import FidelityTuner

    oracle = kt.oracles.RandomSearchOracle("val_loss", max_trials=1)
    with pytest.raises(ValueError, match=r"`seed` must be .*got -1"):
        FidelityTuner(oracle, _builder, seed=-1, directory=tmp_path)


def test_groups_reach_the_splitter_and_given_splits_resume(tmp_path):
    from sklearn.model_selection import GroupKFold

    import kt_ext

    x, y = _rows()
    groups = np.arange(len(y)) // 10  # six groups of ten rows

    def tuner(**kwargs):
        return kt_ext.CoarseToFine(
            _builder,
            "val_loss",
            max_epochs=1,
            seed=0,
            directory=tmp_path,
            project_name="g",
            **kwargs,
        )

    grouped = tuner(max_trials=1)
    grouped.search(x, y, cv=GroupKFold(3), groups=groups, verbose=0)
    for _, validation in grouped.folds.splits:
        assert len(set(groups[validation]) & set(np.delete(groups, validation))) == 0
    with pytest.raises(ValueError, match=r"`groups` .* without cv"):
        tuner(overwrite=True).search(x, y, groups=groups, validation_split=0.2)

    # A generator of splits is read once and described by its pairs, so that
    # a rerun with the same splits resumes (a generator's repr would differ).
    given = tuner(max_trials=1, overwrite=True)
    given.search(x, y, cv=GroupKFold(3).split(x, y, groups), verbose=0)
    assert given.folds.fold_digest() == grouped.folds.fold_digest()
    again = tuner(max_trials=2)
    again.search(x, y, cv=GroupKFold(3).split(x, y, groups), verbose=0)
    assert len(again.oracle.trials) == 2 and again.folds == given.folds
    with pytest.raises(ValueError, match=r"`cv`: saved <3 given splits"):
        tuner(max_trials=3).search(x, y, cv=GroupKFold(2).split(x, y, groups))
