"""The typical Keras Tuner script that kt_ext's tuners must run unchanged."""

from __future__ import annotations

import keras
import numpy as np
import pytest


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
