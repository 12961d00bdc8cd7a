"""Tiny end-to-end searches with the coarse-to-fine tuner."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kt_ext
from kt_ext.callbacks import ClearTrainingOutput
from kt_ext.hypermodels import MLPHyperModel


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x[:, 0] + x[:, 1] > 0).astype("int32")
    return (x[:40], y[:40]), (x[40:], y[40:])


def model_builder(hp):
    model = keras.Sequential(
        [
            keras.Input(shape=(4,)),
            keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"),
            keras.layers.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    return model


def test_drop_in_for_hyperband_with_a_model_builder(data, tmp_path):
    (x, y), (x_val, y_val) = data
    tuner = kt_ext.CoarseToFine(
        model_builder,
        objective="val_accuracy",
        max_epochs=3,
        factor=3,
        epoch_budget=10,
        seed=0,
        directory=tmp_path,
        project_name="intro_to_kt",
    )
    tuner.search(
        x,
        y,
        epochs=30,
        batch_size=50,
        validation_data=(x_val, y_val),
        callbacks=[ClearTrainingOutput()],
        verbose=0,
    )
    best_hps = tuner.get_best_hyperparameters(num_trials=1)[0]
    assert best_hps.get("learning_rate") in (1e-2, 1e-3, 1e-4)
    assert tuner.get_best_models()[0].output_shape == (None, 2)
    assert tuner.oracle.epochs_used <= 10
    history = tuner.oracle.narrowing_history
    assert history and history[0]["epochs"] == 1
    assert set(history[0]["space"]) == {"units", "learning_rate"}


def test_mlp_hypermodel_continues_trials_from_their_weights(data, tmp_path):
    (x, y), (x_val, y_val) = data
    hypermodel = MLPHyperModel.for_data(
        x, y, overrides={"num_layers": 1, "units": (4, 16), "batch_size": 20}
    )
    tuner = kt_ext.CoarseToFine(
        hypermodel,
        objective="val_loss",
        max_epochs=3,
        epoch_budget=9,
        initial_trials=3,
        seed=1,
        directory=tmp_path,
        project_name="mlp",
    )
    tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)
    trials = tuner.oracle.trials.values()
    continued = [t for t in trials if "tuner/trial_id" in t.hyperparameters.values]
    assert continued
    assert all(t.hyperparameters.values["tuner/initial_epoch"] == 1 for t in continued)
    assert all(t.status == "COMPLETED" for t in trials)
    assert tuner.oracle.epochs_used <= 9


def test_hyperband_iterations_points_to_epoch_budget():
    with pytest.raises(TypeError, match=r"hyperband_iterations.*epoch_budget"):
        kt_ext.CoarseToFine(
            model_builder, objective="val_accuracy", hyperband_iterations=2
        )


def test_bad_knob_fails_before_any_training(tmp_path):
    with pytest.raises(ValueError, match="margin"):
        kt_ext.CoarseToFine(
            model_builder, objective="val_accuracy", margin=-1, directory=tmp_path
        )
