"""Tiny end-to-end searches with the coarse-to-fine tuner."""

from __future__ import annotations

import pytest

import kt_ext


def test_drop_in_for_hyperband_with_a_model_builder(
    binary_data, model_builder, typical_search, tmp_path
):
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
    typical_search(tuner, binary_data)
    assert tuner.oracle.epochs_used <= 10
    history = tuner.oracle.narrowing_history
    assert history and history[0]["epochs"] == 1
    assert set(history[0]["space"]) == {"units", "learning_rate"}


def test_mlp_hypermodel_continues_trials_from_their_weights(
    binary_data, small_coarse_to_fine
):
    (x, y), (x_val, y_val) = binary_data
    tuner = small_coarse_to_fine("mlp", units=(4, 16), batch_size=20)
    tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)
    trials = tuner.oracle.trials.values()
    continued = [t for t in trials if "tuner/trial_id" in t.hyperparameters.values]
    assert continued
    assert all(t.hyperparameters.values["tuner/initial_epoch"] == 1 for t in continued)
    assert all(t.status == "COMPLETED" for t in trials)
    assert tuner.oracle.epochs_used <= 9


def test_hyperband_iterations_points_to_epoch_budget(model_builder):
    with pytest.raises(TypeError, match=r"hyperband_iterations.*epoch_budget"):
        kt_ext.CoarseToFine(
            model_builder, objective="val_accuracy", hyperband_iterations=2
        )


def test_bad_knob_fails_before_any_training(model_builder, tmp_path):
    with pytest.raises(ValueError, match="margin"):
        kt_ext.CoarseToFine(
            model_builder, objective="val_accuracy", margin=-1, directory=tmp_path
        )


def test_schedules_follow_the_searchs_max_epochs_in_continued_trials(
    binary_data, tmp_path
):
    from kt_ext.callbacks import step_decay
    from kt_ext.hypermodels import MLPHyperModel

    (x, y), (x_val, y_val) = binary_data
    hypermodel = MLPHyperModel.for_data(
        x,
        y,
        overrides={
            "num_layers": 1,
            "units": 2,
            "batch_size": 40,
            "learning_rate": 0.02,
            "lr_schedule": "step",
        },
    )
    tuner = kt_ext.CoarseToFine(
        hypermodel,
        objective="val_loss",
        max_epochs=9,
        epoch_budget=7,
        initial_trials=3,
        seed=1,
        directory=tmp_path,
        project_name="schedules",
    )
    tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)
    trials = list(tuner.oracle.trials.values())
    assert any("tuner/trial_id" in t.hyperparameters.values for t in trials)
    for trial in trials:
        for observation in trial.metrics.get_history("learning_rate"):
            # "step" drops every third of max_epochs (9), never of the trial's 3.
            want = step_decay(observation.step, 0.02, drop_every=3)
            assert observation.value[0] == pytest.approx(want, rel=1e-5)
