"""Tiny end-to-end searches with stock Keras Tuner tuners and kt_ext templates."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest

from kt_ext import datasets
from kt_ext.hypermodels import CNNHyperModel, MLPHyperModel


@pytest.fixture(scope="module")
def breast_cancer():
    return datasets.load("breast_cancer", seed=0)


def test_hyperband_on_breast_cancer_reaches_95_percent(breast_cancer, tmp_path):
    (x, y), (x_val, y_val), _ = breast_cancer
    tuner = kt.Hyperband(
        MLPHyperModel.for_data(x, y, overrides={"num_layers": (1, 2)}),
        objective="val_accuracy",
        max_epochs=3,
        factor=3,
        seed=1,
        directory=tmp_path,
        project_name="bc",
    )
    tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.score >= 0.95
    assert len(tuner.oracle.trials) > 1
    model = tuner.get_best_models(1)[0]
    assert model.output_shape == (None, 1)


def test_batch_size_is_tuned_unless_search_gets_one(breast_cancer, tmp_path):
    (x, y), (x_val, y_val), _ = breast_cancer
    hypermodel = MLPHyperModel.for_data(
        x, y, overrides={"num_layers": 1, "units": 8, "batch_size": [64, 128]}
    )
    tuner = kt.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=2,
        seed=3,
        directory=tmp_path,
        project_name="tuned",
    )
    tuner.search(x, y, epochs=1, validation_data=(x_val, y_val), verbose=0)
    assert "batch_size" in tuner.oracle.get_space().values

    fixed = kt.RandomSearch(
        hypermodel,
        objective="val_accuracy",
        max_trials=1,
        directory=tmp_path,
        project_name="given",
    )
    fixed.search(
        x, y, epochs=1, batch_size=50, validation_data=(x_val, y_val), verbose=0
    )
    assert "batch_size" not in fixed.oracle.get_space().values


def test_lr_schedule_entry_scales_the_tuned_rate(breast_cancer):
    (x, y), _, _ = breast_cancer
    hypermodel = MLPHyperModel.for_data(
        x,
        y,
        overrides={
            "num_layers": 1,
            "units": 4,
            "learning_rate": 0.02,
            "lr_schedule": "step",
        },
    )
    hp = kt.HyperParameters()
    model = hypermodel.build(hp)
    history = hypermodel.fit(hp, model, x[:64], y[:64], epochs=6, verbose=0)
    rates = history.history["learning_rate"]
    assert rates[0] == pytest.approx(0.02)
    assert rates[-1] < rates[0]


def test_cnn_search_on_digit_images(tmp_path):
    (x, y), (x_val, y_val), _ = datasets.load("digits_images", seed=0)
    tuner = kt.RandomSearch(
        CNNHyperModel.for_data(x, y, overrides={"filters": 8, "units": 16}),
        objective="val_accuracy",
        max_trials=1,
        directory=tmp_path,
        project_name="cnn",
    )
    tuner.search(x[:300], y[:300], epochs=1, validation_data=(x_val, y_val), verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    assert np.isfinite(best.score)
    assert best.score > 0.1  # ten classes: better than chance after one epoch
