"""The best configuration: which trial, its epochs, and its one retrain."""

from __future__ import annotations

import dataclasses
import math
from types import SimpleNamespace

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd
import pytest

from kt_ext import datasets
from kt_ext.compare import SearchSpec, compare, register_tuner, run_search
from kt_ext.compare._harness import _as_dataset
from kt_ext.compare._registry import _REGISTRY
from kt_ext.hypermodels import MLPHyperModel
from kt_ext.model_selection._refit import configuration_epochs


class SpyMLP(MLPHyperModel):
    """Logs each fit: its keyword arguments and every epoch's val_accuracy."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fits = []

    def fit(self, hp, model, *args, **kwargs):
        epochs = []
        self.fits.append({"kwargs": dict(kwargs), "epochs": epochs})
        log = keras.callbacks.LambdaCallback(
            on_epoch_end=lambda epoch, logs: epochs.append(
                (epoch, (logs or {}).get("val_accuracy"))
            )
        )
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), log]
        return super().fit(hp, model, *args, **kwargs)


def trained_epochs(fit):
    """Epochs of the fit up to its first best epoch (Keras Tuner's tie rule)."""
    start, best_epoch, best = fit["epochs"][0][0], None, -math.inf
    for epoch, value in fit["epochs"]:
        if value > best:
            best_epoch, best = epoch, value
    return best_epoch - start + 1


@pytest.mark.parametrize(
    ("name", "budget"),
    [("hyperband", None), ("coarse_to_fine", 8), ("rank_pruning", 8)],
)
def test_retrain_repeats_the_scored_models_epochs_and_lr_path(name, budget, tmp_path):
    data = datasets.load("iris", seed=0)
    hypermodel = SpyMLP.for_data(*data.train, overrides={"num_layers": 1, "units": 8})
    spec = SearchSpec(
        hypermodel, "val_accuracy", 3, 3, 1, str(tmp_path), name, epoch_budget=budget
    )
    row, log, tuner = run_search(name, spec, data)

    *search_fits, retrain = hypermodel.fits
    assert [record.trial_id for record in log] == list(tuner.oracle.trials)
    truth: dict[str, int] = {}
    for record, fit in zip(log, search_fits, strict=True):
        trial = tuner.oracle.trials[record.trial_id]
        parent = trial.hyperparameters.values.get("tuner/trial_id")
        truth[record.trial_id] = trained_epochs(fit) + truth.get(parent, 0)
    continued = [
        t
        for t in tuner.oracle.trials.values()
        if t.hyperparameters.values.get("tuner/trial_id")
    ]
    assert continued, "the search must continue a trial for this test to mean much"
    absolute = name == "rank_pruning"
    for trial_id, epochs in truth.items():
        trial = tuner.oracle.trials[trial_id]
        if trial.status == "COMPLETED":
            assert (
                configuration_epochs(
                    tuner.oracle.trials, trial, absolute_steps=absolute, default=3
                )
                == epochs
            ), trial_id
    assert row["retrain_epochs"] == truth[row["best_trial"]]
    assert retrain["kwargs"]["epochs"] == row["retrain_epochs"]
    # Every trial and the retrain size the learning-rate schedule alike.
    for fit in hypermodel.fits:
        assert fit["kwargs"]["schedule_epochs"] == 3
    assert "tuner/epochs" not in row["best_hyperparameters"]
    assert row["best_hyperparameters"]["units"] == 8


def test_configuration_epochs_follow_the_chain_of_continued_trials():
    def trial(values, best_step):
        return SimpleNamespace(
            hyperparameters=SimpleNamespace(values=values), best_step=best_step
        )

    first = trial({"tuner/epochs": 1, "tuner/initial_epoch": 0}, 0)
    second = trial(
        {"tuner/epochs": 3, "tuner/initial_epoch": 1, "tuner/trial_id": "a"}, 1
    )
    third = trial(
        {"tuner/epochs": 9, "tuner/initial_epoch": 3, "tuner/trial_id": "b"}, 2
    )
    trials = {"a": first, "b": second, "c": third}
    assert configuration_epochs(trials, third, absolute_steps=False, default=9) == 6
    # The same trials reported every epoch: best_step is Keras' epoch index.
    second.best_step, third.best_step = 2, 5
    assert configuration_epochs(trials, third, absolute_steps=True, default=9) == 6
    plain = trial({}, 4)  # random search: no tuner/ entries
    assert configuration_epochs({}, plain, absolute_steps=False, default=9) == 5


def failing_model(hp):
    """Builds (Keras Tuner builds once up front), but fails to fit iris."""
    model = keras.Sequential(
        [keras.Input((7,)), keras.layers.Dense(hp.Int("units", 1, 4))]
    )
    model.compile(loss="mse", metrics=["accuracy"])
    return model


def test_a_search_without_a_completed_trial_is_a_row_with_a_note(tmp_path, monkeypatch):
    monkeypatch.setattr("kt_ext.compare._registry._REGISTRY", dict(_REGISTRY))
    register_tuner(
        "broken",
        lambda spec: kt.RandomSearch(
            spec.hypermodel, max_trials=1, max_retries_per_trial=0, **spec.common()
        ),
    )
    data = datasets.load("iris", seed=0)
    spec = SearchSpec(failing_model, "val_accuracy", 1, 3, 1, str(tmp_path), "b")
    row, log, _ = run_search("broken", spec, data)
    assert math.isnan(row["best_val"]) and math.isnan(row["test_score"])
    assert row["best_trial"] == "" and row["retrain_epochs"] is None
    assert "no trial completed" in row["note"] and "FAILED 1" in row["note"]
    # The failed trial is logged, with no score and no epoch trained.
    assert row["trials"] == 1
    assert [(record.score, record.epochs) for record in log] == [(None, 0)]


def test_nan_or_inf_in_arrays_fails_naming_the_array(tmp_path):
    x = np.random.default_rng(0).normal(size=(60, 3))
    y = np.arange(60) % 2
    x[5, 1] = np.nan
    with pytest.raises(ValueError, match=r"`x` must not contain NaN"):
        compare((x, y), tuners="random", out=tmp_path / "out")
    x[5, 1] = 0.0
    with pytest.raises(ValueError, match=r"`y` must not contain NaN"):
        compare((x, np.where(y == 1, np.inf, 0.0)), out=tmp_path / "out")
    data = datasets.load("iris", seed=0)
    x_val = data.validation[0].copy()
    x_val[0, 0] = np.inf
    data = dataclasses.replace(data, validation=(x_val, data.validation[1]))
    with pytest.raises(ValueError, match=r"`data\.validation\[0\]`"):
        compare(data, out=tmp_path / "out")
    assert not (tmp_path / "out").exists()
    # A table's missing cells are imputed, not an error.
    table = pd.DataFrame(x, columns=["a", "b", "c"])
    table.loc[3, "b"] = np.nan
    split = _as_dataset((table, y))
    assert np.isfinite(split.train[0]).all()


def test_out_must_be_inside_an_existing_folder(tmp_path):
    with pytest.raises(ValueError, match=r"`out` must be inside an existing folder"):
        compare("iris", out=tmp_path / "missing" / "out")
    assert not (tmp_path / "missing").exists()
