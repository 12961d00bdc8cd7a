"""search(cv=...): one model per fold, the mean fold curve, per-fold weights."""

from __future__ import annotations

import json
import math
from typing import ClassVar

import keras
import keras_tuner as kt
import numpy as np
import pytest
from keras_tuner.engine.trial import TrialStatus
from sklearn.model_selection import KFold

import kt_ext
from kt_ext.analysis import trials_dataframe
from kt_ext.model_selection import _split
from kt_ext.tuners import FidelityTuner
from kt_ext.tuners._cv import fold_checkpoint_path


def _data(rows: int = 120) -> tuple[np.ndarray, np.ndarray]:
    """Column 0 is the row's number / 1000 (so a fit can tell which rows it got)."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4)).astype("float32")
    x[:, 0] = np.arange(rows) / 1000
    y = (x[:, 1] + 0.3 * rng.normal(size=rows) > 0).astype("int32")
    return x, y


def build(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 2, 4)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    learning_rate = hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")
    model.compile(
        keras.optimizers.Adam(learning_rate),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


class RecordFolds(keras.callbacks.Callback):
    """Every copy (one per fold of each trial, in fold order) records its fold."""

    made: ClassVar[list[RecordFolds]] = []

    def __init__(self) -> None:
        super().__init__()
        self.logs: dict[int, dict[str, float]] = {}
        self.start: list[np.ndarray] = []
        self.ends: dict[int, list[np.ndarray]] = {}

    def __deepcopy__(self, memo):
        copy = RecordFolds()
        RecordFolds.made.append(copy)
        return copy

    def on_train_begin(self, logs=None):
        self.start = [w.copy() for w in self.model.get_weights()]

    def on_epoch_end(self, epoch, logs=None):
        self.logs[epoch] = dict(logs)
        self.ends[epoch] = [w.copy() for w in self.model.get_weights()]


def _per_trial(tuner, folds: int) -> dict[str, list[RecordFolds]]:
    """The recorders of each trial, by trial id (trials ran in creation order)."""
    made = RecordFolds.made
    ids = list(tuner.oracle.trials)
    assert len(made) == folds * len(ids)
    return {tid: made[i * folds : (i + 1) * folds] for i, tid in enumerate(ids)}


def _tuner(tmp_path, name="cv", **kwargs):
    options = {
        "objective": "val_loss",
        "max_epochs": 2,
        "epoch_budget": 8 * 2,
        "seed": 1,
        "directory": tmp_path,
        "project_name": name,
        **kwargs,
    }
    return kt_ext.CoarseToFine(build, **options)


@pytest.mark.floors
# Lean trials are TensorFlow's alone: one run is enough on the other backends.
@pytest.mark.parametrize(
    "lean", [True, pytest.param(False, marks=pytest.mark.backends)]
)
def test_the_mean_curve_is_reported_and_each_fold_continues_its_own_weights(
    tmp_path, monkeypatch, lean
):
    monkeypatch.setattr(FidelityTuner, "_lean_trials", lean)
    RecordFolds.made = []
    x, y = _data()
    tuner = _tuner(tmp_path, initial_trials=3)
    tuner.search(x, y, cv=2, batch_size=32, callbacks=[RecordFolds()], verbose=0)
    oracle = tuner.oracle
    recorded = _per_trial(tuner, 2)
    continued = 0
    for trial_id, trial in oracle.trials.items():
        assert trial.status == TrialStatus.COMPLETED
        folds = recorded[trial_id]
        # What the oracle holds is the mean, std and each fold of the fold logs.
        # CoarseToFine reports once, at the best epoch of this trial's own run.
        step = trial.hyperparameters.values["tuner/initial_epoch"] + trial.best_step
        for name in ("loss", "val_loss", "val_accuracy"):
            values = [fold.logs[step][name] for fold in folds]
            assert trial.metrics.get_last_value(name) == pytest.approx(np.mean(values))
            std = trial.metrics.get_last_value(f"{name}_std")
            assert std == pytest.approx(np.std(values))
            for index, value in enumerate(values):
                fold_value = trial.metrics.get_last_value(f"{name}_fold{index}")
                assert fold_value == pytest.approx(value)
        assert trial.score == pytest.approx(
            np.mean([f.logs[step]["val_loss"] for f in folds])
        )
        parent = trial.hyperparameters.values.get("tuner/trial_id")
        if parent is None:
            continue
        continued += 1
        parent_folds = recorded[parent]
        parent_step = oracle.trials[parent].best_step  # it started at epoch 0
        for index, fold in enumerate(folds):
            # Fold i starts exactly where the parent's fold i was at its best
            # epoch of the mean curve, and not where another fold was.
            own = parent_folds[index].ends[parent_step]
            other = parent_folds[1 - index].ends[parent_step]
            assert all(
                np.array_equal(a, b) for a, b in zip(fold.start, own, strict=True)
            )
            assert not all(
                np.array_equal(a, b) for a, b in zip(fold.start, other, strict=True)
            )
    assert continued
    if lean and keras.backend.backend() == "tensorflow":
        # Lean trials reuse each fold's traced model in that fold only.
        assert tuner._lean.models.adopted > 0
    # Every fold's epochs are charged: k * e per trial.
    trained = sum(
        t.hyperparameters.values["tuner/epochs"]
        - t.hyperparameters.values["tuner/initial_epoch"]
        for t in oracle.trials.values()
    )
    assert oracle.epochs_used == 2 * trained <= 16
    # Fold 0's checkpoint is the trial's: get_best_models gives fold 0's model.
    best = oracle.get_best_trials(1)[0]
    path = tuner.checkpoint_path(best.trial_id)
    assert fold_checkpoint_path(path, 0) == path
    model = tuner.get_best_models()[0]
    best_epoch = best.hyperparameters.values["tuner/initial_epoch"] + best.best_step
    expected = recorded[best.trial_id][0].ends[best_epoch]
    assert all(
        np.array_equal(a, b) for a, b in zip(model.get_weights(), expected, strict=True)
    )


class RowsHyperModel(kt.HyperModel):
    """Records the rows each fold's fit trains and validates on."""

    fits: ClassVar[list[tuple[str | None, set[int], set[int]]]] = []

    def build(self, hp):
        return build(hp)

    def fit(self, hp, model, x, y, validation_data, **kwargs):
        RowsHyperModel.fits.append(
            (
                hp.values.get("tuner/trial_id"),
                set(np.rint(x[:, 0] * 1000).astype(int).tolist()),
                set(np.rint(validation_data[0][:, 0] * 1000).astype(int).tolist()),
            )
        )
        return model.fit(x, y, validation_data=validation_data, **kwargs)


@pytest.mark.backends
def test_no_fold_ever_trains_on_its_validation_rows(tmp_path):
    RowsHyperModel.fits = []
    x, y = _data()
    tuner = kt_ext.CoarseToFine(
        RowsHyperModel(),
        objective="val_loss",
        max_epochs=2,
        epoch_budget=3 * 6,
        initial_trials=3,
        seed=2,
        directory=tmp_path,
        project_name="rows",
    )
    tuner.search(x, y, cv=3, verbose=0)
    splits = tuner.folds.splits
    assert len(RowsHyperModel.fits) == 3 * len(tuner.oracle.trials)
    for index, (_, train, test) in enumerate(RowsHyperModel.fits):
        fold = index % 3  # each trial fits its folds in order
        assert train == set(splits[fold][0].tolist())
        assert test == set(splits[fold][1].tolist())
        assert not train & test
    assert any(parent is not None for parent, _, _ in RowsHyperModel.fits)


@pytest.mark.floors
@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"cv": "3"}, TypeError, r"`cv` must be an int .* got '3'"),
        ({"cv": True}, TypeError, r"`cv` must be an int .* got True"),
        ({"cv": 2.5}, TypeError, r"`cv` must be an int .* got 2.5"),
        ({"cv": 1}, ValueError, r"`cv` must be at least 2 folds, got 1"),
        ({"cv": 100}, ValueError, r"smallest class .*got cv=100"),
        ({"cv": 200}, ValueError, r"at most the 120 rows of `x`, got 200"),
        (
            {"cv": 3, "validation_split": 0.2},
            ValueError,
            r"either `cv` or `validation_split`.*cv=3",
        ),
        (
            {"cv": 3, "validation_data": (np.zeros((2, 4)), np.zeros(2))},
            ValueError,
            r"either `cv` or `validation_data`.*cv=3",
        ),
    ],
)
def test_bad_cv_fails_before_any_training(tmp_path, kwargs, error, match):
    x, y = _data()
    tuner = _tuner(tmp_path)
    with pytest.raises(error, match=match):
        tuner.search(x, y, verbose=0, **kwargs)
    assert not tuner.oracle.trials


@pytest.mark.floors
def test_cv_with_several_executions_is_refused(tmp_path):
    x, y = _data()
    tuner = _tuner(tmp_path, executions_per_trial=2)
    with pytest.raises(ValueError, match=r"executions_per_trial=2 \(got cv=3\)"):
        tuner.search(x, y, cv=3, verbose=0)


@pytest.mark.floors
def test_a_budget_that_cannot_pay_for_one_cross_validated_trial_is_refused(tmp_path):
    x, y = _data()
    tuner = _tuner(tmp_path, epoch_budget=2)
    with pytest.raises(ValueError, match=r"at least 3 .*3 folds of cv\), got 2"):
        tuner.search(x, y, cv=3, verbose=0)
    assert not tuner.oracle.trials


def test_the_split_is_saved_and_a_rerun_reuses_it(tmp_path, monkeypatch):
    x, y = _data()
    first = _tuner(tmp_path, max_trials=2, epoch_budget=None, max_epochs=1)
    first.search(x, y, cv=KFold(2, shuffle=True, random_state=3), verbose=0)
    saved = first.folds
    state = json.loads((tmp_path / "cv" / "oracle.json").read_text())
    assert state["cv"] == saved.to_json() and state["cv_folds"] == 2

    def no_new_split(*args, **kwargs):
        raise AssertionError("a resumed search must not split again")

    monkeypatch.setattr(_split, "fold_indices", no_new_split)

    again = _tuner(
        tmp_path, max_trials=4, epoch_budget=None, max_epochs=1, overwrite=False
    )
    again.search(x, y, cv=KFold(2, shuffle=True, random_state=3), verbose=0)
    assert again.folds == saved
    assert len(again.oracle.trials) == 4
    for cv, data, match in [
        (KFold(3), (x, y), r"`cv`: saved KFold\(n_splits=2.*given KFold\(n_splits=3"),
        (None, (x, y), r"`cv`: saved KFold\(n_splits=2.*given None"),
        (
            KFold(2, shuffle=True, random_state=3),
            (x[:100], y[:100]),
            r"`x` must have the 120 rows .* got 100",
        ),
    ]:
        tuner = _tuner(
            tmp_path, max_trials=6, epoch_budget=None, max_epochs=1, overwrite=False
        )
        with pytest.raises(ValueError, match=match):
            tuner.search(*data, cv=cv, verbose=0)
        assert len(tuner.oracle.trials) == 4
    # A search saved without cv cannot be resumed with it.
    plain = _tuner(tmp_path, name="plain", max_trials=1, max_epochs=1)
    plain.search(x, y, validation_split=0.25, verbose=0)
    with pytest.raises(ValueError, match=r"`cv`: saved None, given 2"):
        _tuner(
            tmp_path, name="plain", max_trials=2, max_epochs=1, overwrite=False
        ).search(x, y, cv=2, verbose=0)


def test_rank_pruning_stops_a_losing_cross_validated_trial(tmp_path):
    keras.utils.set_random_seed(0)
    x, y = _data()
    tuner = kt_ext.RankPruning(
        build,
        objective="val_loss",
        min_epochs=3,
        max_epochs=3,
        # Unless every trial leads all earlier ones at every epoch, one stops
        # (with 4, a fresh clone's run once saw none stop).
        max_trials=8,
        seed=0,
        prune_quantile=1.0,  # any trial behind a peer stops
        min_peers=1,
        directory=tmp_path,
        project_name="prune",
    )
    tuner.search(x, y, cv=2, verbose=0)
    oracle = tuner.oracle
    assert oracle.stopped_trials
    for trial_id, epoch in oracle.stopped_trials.items():
        trial = oracle.get_trial(trial_id)
        assert trial.status == TrialStatus.COMPLETED
        for name in ("val_loss", "val_loss_std", "val_loss_fold1"):
            steps = [obs.step for obs in trial.metrics.get_history(name)]
            assert max(steps) == epoch < 2
        assert oracle.epochs_trained[trial_id] == epoch + 1
    # Charged for both folds, refunded what the stopped trials did not train.
    assert oracle.epochs_used == 2 * sum(oracle.epochs_trained.values()) < 2 * 8 * 3


def test_keras_tuners_hyperband_runs_on_the_same_cross_validated_objective(tmp_path):
    x, y = _data()
    oracle = kt.oracles.HyperbandOracle(
        objective=kt.Objective("val_accuracy", "max"),
        max_epochs=3,
        factor=3,
        hyperband_iterations=1,
        seed=3,
    )
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="hb")
    tuner.search(x, y, cv=2, verbose=0)
    trials = list(oracle.trials.values())
    assert any("tuner/trial_id" in t.hyperparameters.values for t in trials)
    for trial in trials:
        assert trial.status == TrialStatus.COMPLETED
        folds = [trial.metrics.get_last_value(f"val_accuracy_fold{i}") for i in (0, 1)]
        assert trial.score == pytest.approx(np.mean(folds))
    # The split is in the tuner's state (Keras Tuner's oracle has no room for it).
    state = json.loads((tmp_path / "hb" / "tuner0.json").read_text())
    assert state["cv"] == tuner.folds.to_json()
    frame = trials_dataframe(tuner)
    for column in ("metric_val_accuracy_std", "metric_val_accuracy_fold1"):
        assert column in frame.columns and frame[column].notna().all()


class NanInFold(keras.callbacks.Callback):
    """Makes fold 1's loss NaN at its first epoch (fold 0 stays finite)."""

    copies = 0

    def __deepcopy__(self, memo):
        copy = NanInFold()
        copy.fold = NanInFold.copies % 2
        NanInFold.copies += 1
        return copy

    def on_epoch_end(self, epoch, logs=None):
        if self.fold == 1:
            logs["loss"] = math.nan


@pytest.mark.floors
def test_a_fold_that_diverges_makes_the_trial_diverge(tmp_path):
    NanInFold.copies = 0
    x, y = _data()
    tuner = _tuner(tmp_path, max_epochs=1, epoch_budget=2 * 2, initial_trials=2)
    tuner.search(x, y, cv=2, callbacks=[NanInFold()], verbose=0)
    for trial in tuner.oracle.trials.values():
        assert trial.status == TrialStatus.FAILED
        assert trial.message == "diverged at epoch 1"


class StopFold1(keras.callbacks.Callback):
    """Stops fold 1's training at its first epoch, as EarlyStopping would."""

    copies = 0

    def __deepcopy__(self, memo):
        copy = StopFold1()
        copy.fold = StopFold1.copies % 2
        StopFold1.copies += 1
        return copy

    def on_epoch_end(self, epoch, logs=None):
        if self.fold == 1:
            self.model.stop_training = True


def test_a_fold_whose_callbacks_stop_training_stops_the_trial(tmp_path):
    StopFold1.copies = 0
    RecordFolds.made = []
    x, y = _data()
    oracle = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("val_loss", "min"), max_trials=2, seed=0
    )
    tuner = FidelityTuner(oracle, build, directory=tmp_path, project_name="rs")
    tuner.search(
        x, y, cv=2, epochs=3, callbacks=[StopFold1(), RecordFolds()], verbose=0
    )
    for trial_id, folds in _per_trial(tuner, 2).items():
        assert oracle.trials[trial_id].status == TrialStatus.COMPLETED
        assert [sorted(fold.logs) for fold in folds] == [[0], [0]]


def test_a_regression_target_is_split_with_kfold_and_searched(tmp_path):
    x, _ = _data(60)
    y = (x[:, 1] * 2.0 + 0.1).astype("float32")

    def regression(hp):
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(hp.Int("units", 1, 3)),
                keras.layers.Dense(1),
            ]
        )
        model.compile("adam", "mse")
        return model

    tuner = kt_ext.CoarseToFine(
        regression,
        objective="val_loss",
        max_epochs=1,
        max_trials=2,
        seed=0,
        directory=tmp_path,
        project_name="reg",
    )
    tuner.search(x, y, cv=3, verbose=0)
    tests = [test for _, test in tuner.folds.splits]
    assert sorted(np.concatenate(tests).tolist()) == list(range(60))
    assert [len(test) for test in tests] == [20, 20, 20]
    assert all(t.metrics.exists("val_loss_fold2") for t in tuner.oracle.trials.values())


def test_an_objective_the_folds_do_not_produce_stops_the_search(tmp_path):
    x, y = _data(60)
    tuner = _tuner(tmp_path, objective=kt.Objective("val_auc", "max"))
    with pytest.raises(
        ValueError, match=r"'val_auc' is not among .* \['accuracy', 'loss', 'val_acc"
    ):
        tuner.search(x, y, cv=2, verbose=0)


class WeightsHyperModel(kt.HyperModel):
    """Records the sample weights each fold's fit gets."""

    seen: ClassVar[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = []

    def build(self, hp):
        return build(hp)

    def fit(self, hp, model, x, y, validation_data, sample_weight, **kwargs):
        WeightsHyperModel.seen.append((x[:, 0], sample_weight, validation_data))
        return model.fit(
            x, y, validation_data=validation_data, sample_weight=sample_weight, **kwargs
        )


@pytest.mark.backends
@pytest.mark.floors
def test_sample_weights_are_split_with_the_rows(tmp_path):
    WeightsHyperModel.seen = []
    x, y = _data(60)
    weights = np.arange(60, dtype="float32")  # row i weighs i
    tuner = kt_ext.CoarseToFine(
        WeightsHyperModel(),
        objective="val_loss",
        max_epochs=1,
        max_trials=1,
        directory=tmp_path,
        project_name="weights",
    )
    tuner.search(x, y, cv=2, sample_weight=weights, verbose=0)
    assert len(WeightsHyperModel.seen) == 2
    for ids, train_weights, (x_val, _, val_weights) in WeightsHyperModel.seen:
        np.testing.assert_allclose(train_weights, np.rint(ids * 1000))
        np.testing.assert_allclose(val_weights, np.rint(x_val[:, 0] * 1000))
