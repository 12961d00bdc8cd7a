"""The typical Keras Tuner script that kt_ext's tuners must run unchanged."""

from __future__ import annotations

import keras
import numpy as np
import pytest

import kt_ext
from kt_ext.callbacks import ClearTrainingOutput
from kt_ext.hypermodels import MLPHyperModel


def _typical_model_builder(hp):
    """The `model_builder(hp)` of Keras Tuner's introduction, on 4 features."""
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


@pytest.fixture
def model_builder():
    return _typical_model_builder


@pytest.fixture(scope="module")
def binary_data():
    """60 rows: ((x, y), (x_val, y_val)), the label a noisy sign of x[:, 0]."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 4)).astype("float32")
    y = (x[:, 0] + 0.3 * rng.normal(size=60) > 0).astype("int32")
    return (x[:40], y[:40]), (x[40:], y[40:])


@pytest.fixture
def typical_search():
    """Runs the typical script's search() and its checks on the best trial."""

    def search(tuner, data):
        (x, y), (x_val, y_val) = data
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
        assert tuner.get_best_models()[0].output_shape == (None, 1)

    return search


@pytest.fixture
def small_coarse_to_fine(binary_data, tmp_path):
    """Makes a CoarseToFine of three tiny MLPs on `binary_data`, 9 epochs in all."""

    def make(project_name, *, units=(2, 8), batch_size=16, **kwargs):
        (x, y), _ = binary_data
        hypermodel = MLPHyperModel.for_data(
            x,
            y,
            overrides={"num_layers": 1, "units": units, "batch_size": batch_size},
        )
        return kt_ext.CoarseToFine(
            hypermodel,
            objective="val_loss",
            max_epochs=3,
            epoch_budget=9,
            initial_trials=3,
            seed=1,
            directory=tmp_path,
            project_name=project_name,
            **kwargs,
        )

    return make
