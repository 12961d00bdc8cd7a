"""A seeded search reproduces on CPU, keeps the caller's random state, and
continued trials go on with their parent's optimizer state."""

from __future__ import annotations

import io
import logging
import math
import random
import warnings
from typing import ClassVar

import keras
import numpy as np
import pytest

import kt_ext
from kt_ext.datasets import load
from kt_ext.hypermodels import MLPHyperModel

MAX_EPOCHS = 3


@pytest.fixture(scope="module")
def cancer():
    """150 training rows of breast cancer and its validation split."""
    data = load("breast_cancer", seed=0)
    (x, y), validation = data.train, data.validation
    return (x[:150], y[:150]), validation


def make_tuner(
    tmp_path, name, cancer, *, epoch_budget=12, min_epochs=1, seed=7, **overrides
):
    """Four 1-epoch trials, then the best continued to 3 epochs (with 12)."""
    (x, y), _ = cancer
    hypermodel = MLPHyperModel.for_data(
        x,
        y,
        overrides={"num_layers": 1, "units": (4, 16), "batch_size": 32, **overrides},
    )
    return kt_ext.CoarseToFine(
        hypermodel,
        objective="val_loss",
        max_epochs=MAX_EPOCHS,
        min_epochs=min_epochs,
        epoch_budget=epoch_budget,
        initial_trials=4,
        seed=seed,
        directory=tmp_path,
        project_name=name,
    )


def search(tuner, cancer, **kwargs):
    (x, y), validation = cancer
    tuner.search(x, y, validation_data=validation, verbose=0, **kwargs)
    return sorted(tuner.oracle.trials.values(), key=lambda trial: trial.trial_id)


def continued(trials):
    return [t for t in trials if t.hyperparameters.values.get("tuner/trial_id")]


@pytest.mark.backends
def test_two_runs_of_a_seeded_search_give_the_same_trials(tmp_path, cancer):
    first = search(make_tuner(tmp_path, "first", cancer), cancer)
    # Lean trials reuse traced models (optimizer state copied in); Keras
    # Tuner's way builds and traces each: the same trials either way.
    keras_tuners_way = make_tuner(tmp_path, "second", cancer)
    keras_tuners_way._lean_trials = False
    second = search(keras_tuners_way, cancer)
    assert continued(first), "no continued trial: the test would miss them"
    assert [(t.trial_id, t.status, t.hyperparameters.values) for t in first] == [
        (t.trial_id, t.status, t.hyperparameters.values) for t in second
    ]
    for one, other in zip(first, second, strict=True):
        assert math.isclose(one.score, other.score, rel_tol=1e-6), one.trial_id


def _draws():
    """One draw from each random stream a caller may use."""
    draws = [
        random.random(),
        float(np.random.rand()),
        # The global SeedGenerator.
        keras.ops.convert_to_numpy(keras.random.uniform((2,))).tolist(),
    ]
    backend = keras.backend.backend()
    if backend == "tensorflow":
        import tensorflow as tf

        draws.append(tf.random.uniform((2,)).numpy().tolist())  # its global seed
    elif backend == "torch":
        import torch

        draws.append(torch.rand(2).tolist())  # PyTorch's generator
    return draws


def _seeded_afresh(seed):
    # Keras before 3.8 keeps its global SeedGenerator through set_random_seed
    # (and creates it from Python's `random`): start both runs without one.
    keras.backend.clear_session()
    keras.utils.set_random_seed(seed)


@pytest.mark.backends
def test_a_seeded_search_leaves_the_callers_random_state_as_it_was(tmp_path, cancer):
    _seeded_afresh(123)
    _draws()
    expected = _draws()
    _seeded_afresh(123)
    _draws()  # the global SeedGenerator exists and has advanced
    search(make_tuner(tmp_path, "seeded", cancer, epoch_budget=4), cancer)
    assert _draws() == expected


class _Recorder(keras.callbacks.Callback):
    """Records each fit's optimizer steps at its start and rate per epoch.

    Keras Tuner deep-copies callbacks for every trial: the records are kept on
    the class.
    """

    fits: ClassVar[list[dict]] = []

    def on_train_begin(self, logs=None):
        steps = int(self.model.optimizer.iterations.numpy())
        _Recorder.fits.append({"steps_at_start": steps, "rates": []})

    def on_epoch_end(self, epoch, logs=None):
        rate = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        _Recorder.fits[-1]["rates"].append(rate)


@pytest.fixture
def recorded(monkeypatch):
    monkeypatch.setattr(_Recorder, "fits", [])
    return _Recorder


@pytest.fixture
def captured_logs():
    """Everything logged (TensorFlow's Python logger included) while it lives."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    loggers = [logging.getLogger(), logging.getLogger("tensorflow")]
    for logger in loggers:
        logger.addHandler(handler)
    yield stream
    for logger in loggers:
        logger.removeHandler(handler)


def test_continued_trials_go_on_with_their_parents_optimizer_state_quietly(
    tmp_path, cancer, recorded, captured_logs
):
    tuner = make_tuner(tmp_path, "quiet", cancer)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        trials = search(tuner, cancer, callbacks=[recorded()])
    said = [str(w.message) for w in caught] + captured_logs.getvalue().splitlines()
    assert not [line for line in said if "Skipping variable loading" in line]
    assert not [line for line in said if "retracing" in line]

    fits = dict(zip([t.trial_id for t in trials], recorded.fits, strict=True))
    steps_per_epoch = math.ceil(150 / 32)
    assert continued(trials)
    for trial in continued(trials):
        parent = tuner.oracle.get_trial(trial.hyperparameters.values["tuner/trial_id"])
        # The parent trained 1 epoch: its checkpoint is after that epoch.
        assert parent.hyperparameters.values["tuner/epochs"] == 1
        assert fits[trial.trial_id]["steps_at_start"] == steps_per_epoch


def test_a_continued_hold_exp_trial_follows_the_uninterrupted_rate_path(
    tmp_path, cancer, recorded
):
    # Two-epoch trials, then continued to 3: hold_exp holds epoch 0 only, so
    # a parent's checkpoint after epoch 1 holds a decayed rate.
    tuner = make_tuner(
        tmp_path,
        "hold_exp",
        cancer,
        epoch_budget=14,
        min_epochs=2,
        lr_schedule="hold_exp",
    )
    trials = search(tuner, cancer, callbacks=[recorded()])
    fits = dict(zip([t.trial_id for t in trials], recorded.fits, strict=True))
    (x, y), _ = cancer
    parents = [
        tuner.oracle.get_trial(t.hyperparameters.values["tuner/trial_id"])
        for t in continued(trials)
    ]
    assert 1 in [parent.best_step for parent in parents], "no decayed checkpoint"
    for trial in continued(trials):
        values = trial.hyperparameters.values
        start = values["tuner/initial_epoch"]
        # The same configuration trained from scratch, without a stop.
        hp = tuner.oracle.get_space()
        hp.values.update({k: v for k, v in values.items() if "/" not in k})
        keras.backend.clear_session()
        model = tuner.hypermodel.build(hp)
        history = tuner.hypermodel.fit(
            hp, model, x, y, epochs=MAX_EPOCHS, schedule_epochs=MAX_EPOCHS, verbose=0
        )
        rates = history.history["learning_rate"]
        assert start == 2 and rates[start] < rates[0]  # decayed by then
        np.testing.assert_allclose(fits[trial.trial_id]["rates"], rates[start:])
