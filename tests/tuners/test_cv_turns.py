"""search(cv=...) survives misuse: Ctrl-C, a failing fold, the caller's Keras
state, callbacks that stop training, progress output, memory."""

from __future__ import annotations

import gc
import signal
import threading
import weakref
from typing import ClassVar

import keras
import keras_tuner as kt
import numpy as np
import pytest
import tensorflow as tf
from keras_tuner import errors
from sklearn.datasets import load_iris

import kt_ext
from kt_ext.hypermodels import MLPHyperModel
from kt_ext.tuners import FidelityTuner
from kt_ext.tuners import _cv as cv_module


def _data(rows: int = 60) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 4)).astype("float32")
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
    model.compile(
        keras.optimizers.Adam(hp.Float("learning_rate", 1e-3, 1e-1, sampling="log")),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def _random_search(tmp_path, name: str, hypermodel=build, trials: int = 1):
    oracle = kt.oracles.RandomSearchOracle(
        objective=kt.Objective("val_loss", "min"), max_trials=trials, seed=0
    )
    return FidelityTuner(oracle, hypermodel, directory=tmp_path, project_name=name)


class PerFold(keras.callbacks.Callback):
    """Copies know their fold (copies are made in fold order, one per fold)."""

    folds = 3
    copies = 0

    def __deepcopy__(self, memo):
        copy = type(self)()
        copy.fold = type(self).copies % type(self).folds
        type(self).copies += 1
        return copy


class Interrupts(PerFold):
    """Fold 1 presses Ctrl-C at its first epoch end, and again when it ends."""

    models: ClassVar[list[weakref.ref]] = []
    threads: ClassVar[list[threading.Thread]] = []

    def on_train_begin(self, logs=None):
        Interrupts.models.append(weakref.ref(self.model))

    def on_epoch_end(self, epoch, logs=None):
        if self.fold == 1:
            Interrupts.threads.append(threading.current_thread())
            signal.raise_signal(signal.SIGINT)

    def on_train_end(self, logs=None):
        if self.fold == 1:
            signal.raise_signal(signal.SIGINT)


@pytest.fixture
def default_ctrl_c():
    """Ctrl-C as Python handles it by default, whatever an earlier test in this
    process installed (the whole suite at the floors once saw none raised)."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


@pytest.mark.usefixtures("default_ctrl_c")
def test_ctrl_c_twice_leaves_no_fold_thread_and_no_model_alive(tmp_path):
    before = set(threading.enumerate())
    x, y = _data()
    tuner = _random_search(tmp_path, "interrupted")
    for _ in range(2):  # as a notebook user would, twice in a row
        Interrupts.copies = 0
        with pytest.raises(KeyboardInterrupt):
            tuner.search(x, y, cv=3, epochs=3, callbacks=[Interrupts()], verbose=0)
    gc.collect()
    assert set(threading.enumerate()) == before
    # The interrupt reached the trial's own thread, which trains every fold.
    assert Interrupts.threads == [threading.main_thread()] * 2
    assert Interrupts.models and all(ref() is None for ref in Interrupts.models)
    Interrupts.models.clear()


class FailsInFold1(PerFold):
    began: ClassVar[list[tuple[int, int]]] = []

    def on_epoch_begin(self, epoch, logs=None):
        FailsInFold1.began.append((self.fold, epoch))

    def on_epoch_end(self, epoch, logs=None):
        if self.fold == 1:
            raise errors.FatalValueError("fold 1 fails")


def test_a_fold_error_stops_every_fold_at_once(tmp_path):
    FailsInFold1.copies, FailsInFold1.began = 0, []
    x, y = _data()
    tuner = _random_search(tmp_path, "fails")
    with pytest.raises(errors.FatalValueError, match="fold 1 fails"):
        tuner.search(x, y, cv=3, epochs=3, callbacks=[FailsInFold1()], verbose=0)
    # Fold 1's error ends the trial: fold 2 does not train its epoch.
    assert FailsInFold1.began == [(0, 0), (1, 0)]


class SeesKerasState(keras.callbacks.Callback):
    """Keras keeps its global state (dtype policy, seed generator) per thread."""

    seen: ClassVar[set[tuple[str, str, bool]]] = set()

    def on_epoch_end(self, epoch, logs=None):
        SeesKerasState.seen.add(
            (
                keras.config.dtype_policy().name,
                self.model.layers[0].dtype_policy.name,
                threading.current_thread() is threading.main_thread(),
            )
        )


def test_the_callers_keras_and_tensorflow_state_applies_in_every_fold(tmp_path):
    SeesKerasState.seen = set()
    x, y = _data()
    tuner = _random_search(tmp_path, "state")
    keras.config.set_dtype_policy("mixed_float16")
    try:
        with tf.device("/cpu:0"):
            tuner.search(x, y, cv=2, epochs=1, callbacks=[SeesKerasState()], verbose=0)
    finally:
        keras.config.set_dtype_policy("float32")
    assert SeesKerasState.seen == {("mixed_float16", "mixed_float16", True)}
    trial = next(iter(tuner.oracle.trials.values()))
    assert trial.status == "COMPLETED"


def test_the_learning_rate_schedule_is_logged_under_cv(tmp_path):
    x, y = load_iris(return_X_y=True)
    x, y = x[::2].astype("float32"), y[::2]
    hypermodel = MLPHyperModel.for_data(
        x,
        y,
        overrides={
            "num_layers": 1,
            "units": 4,
            "lr_schedule": "step",
            "learning_rate": 0.01,
        },
    )
    tuner = kt_ext.CoarseToFine(
        hypermodel,
        objective="val_accuracy",
        max_epochs=3,
        min_epochs=3,
        max_trials=1,
        seed=0,
        directory=tmp_path,
        project_name="lr",
    )
    tuner.search(x, y, cv=2, verbose=0)
    trial = next(iter(tuner.oracle.trials.values()))
    rates = trial.metrics.get_history("learning_rate")
    assert len(rates) >= 1
    for fold in (0, 1):
        fold_rates = trial.metrics.get_history(f"learning_rate_fold{fold}")
        assert [r.value for r in fold_rates] == [r.value for r in rates]
    assert trial.metrics.get_last_value("learning_rate_std") == 0.0


class RecordedEarlyStopping(keras.callbacks.EarlyStopping):
    seen: ClassVar[list[tuple[int, bool, bool]]] = []

    def on_epoch_end(self, epoch, logs=None):
        RecordedEarlyStopping.seen.append(
            (
                epoch,
                "val_loss_fold1" in logs,
                threading.current_thread() is threading.main_thread(),
            )
        )
        super().on_epoch_end(epoch, logs)


class EarlyStoppingHyperModel(kt.HyperModel):
    """Stops after epoch 1: no later epoch improves val_loss by 1e9."""

    def build(self, hp):
        return build(hp)

    def fit(self, hp, model, *args, callbacks=None, **kwargs):
        stop = RecordedEarlyStopping(monitor="val_loss", patience=0, min_delta=1e9)
        return model.fit(*args, callbacks=[*(callbacks or []), stop], **kwargs)


class Epochs(PerFold):
    folds = 2
    trained: ClassVar[dict[int, list[int]]] = {}

    def on_epoch_end(self, epoch, logs=None):
        Epochs.trained.setdefault(self.fold, []).append(epoch)


def test_a_hypermodels_early_stopping_stops_every_fold_at_the_same_epoch(tmp_path):
    RecordedEarlyStopping.seen, Epochs.trained, Epochs.copies = [], {}, 0
    x, y = _data()
    tuner = kt_ext.CoarseToFine(
        EarlyStoppingHyperModel(),
        objective="val_loss",
        max_epochs=4,
        min_epochs=4,
        max_trials=1,
        seed=0,
        directory=tmp_path,
        project_name="es",
    )
    tuner.search(x, y, cv=2, callbacks=[Epochs()], verbose=0)
    # Each fold's EarlyStopping saw the merged logs, on the trial's thread.
    assert RecordedEarlyStopping.seen == [(0, True, True)] * 2 + [(1, True, True)] * 2
    assert Epochs.trained == {0: [0, 1], 1: [0, 1]}
    trained = sum(len(epochs) for epochs in Epochs.trained.values())
    assert trained <= tuner.oracle.epochs_used


def test_one_progress_line_per_epoch_replaces_the_fold_bars(tmp_path, capsys):
    x, y = _data()
    tuner = _random_search(tmp_path, "progress")
    tuner.search(x, y, cv=2, epochs=2)
    lines = [line for line in capsys.readouterr().out.splitlines() if "Epoch" in line]
    assert [line.split(" - ")[0] for line in lines] == [
        "Epoch 1/2 (mean of 2 folds)",
        "Epoch 2/2 (mean of 2 folds)",
    ]


def test_search_cv_verbose_shows_one_line_per_trial_and_no_fold_bars(capsys):
    x, y = load_iris(return_X_y=True)
    search = kt_ext.SearchCV(
        cv=2, max_epochs=2, epoch_budget=2 * 2, random_state=0, verbose=1
    )
    search.fit(x[::3].astype("float32"), y[::3])
    lines = capsys.readouterr().out.splitlines()
    trials = [line for line in lines if line.startswith("trial ")]
    assert len(trials) == len(search.cv_results_["params"])
    assert all("over 2 folds" in line for line in trials)
    assert not [line for line in lines if "step" in line or "Epoch" in line]


def test_folds_are_sliced_once_per_search_and_the_reuse_cache_is_bounded(
    tmp_path, monkeypatch
):
    calls = []

    def counted(data, rows):
        calls.append(len(rows))
        return np.asarray(data)[rows]

    monkeypatch.setattr(cv_module, "take_rows", counted)
    x, y = _data()
    tuner = _random_search(tmp_path, "sliced", trials=3)
    tuner.search(x, y, cv=5, epochs=1, verbose=0)
    assert len(tuner.oracle.trials) == 3
    assert len(calls) == 5 * 4  # x and y, training and validation rows, per fold
    assert tuner._lean.models.capacity == 16
    assert tuner._fold_rows is None  # dropped when the search ends
