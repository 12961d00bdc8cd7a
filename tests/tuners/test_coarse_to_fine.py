"""Tiny end-to-end searches with the coarse-to-fine tuner."""

from __future__ import annotations

import pytest

import kt_ext


@pytest.mark.backends
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


@pytest.mark.backends
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
    # A rerun with the same settings resumes; entries that the hypermodel
    # creates mid-search (batch_size, in fit) are not compared.
    again = small_coarse_to_fine("mlp", units=(4, 16), batch_size=20)
    assert again.oracle.epochs_used == tuner.oracle.epochs_used
    with pytest.raises(ValueError, match=r"`units`: saved .*16.*, given .*32"):
        small_coarse_to_fine("mlp", units=(4, 32), batch_size=20)


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


@pytest.mark.backends
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


def _files(folder) -> dict:
    return {p: p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_a_rerun_with_other_settings_is_refused_before_any_training(
    binary_data, model_builder, tmp_path
):
    (x, y), (x_val, y_val) = binary_data

    def make(builder=model_builder, **kwargs):
        settings = {
            "objective": "val_accuracy",
            "max_epochs": 3,
            "epoch_budget": 3,
            "seed": 0,
            **kwargs,
        }
        return kt_ext.CoarseToFine(
            builder, directory=tmp_path, project_name="rerun", **settings
        )

    make().search(x, y, validation_data=(x_val, y_val), verbose=0)  # finished
    before = _files(tmp_path)
    # The reported bug: this switched to val_loss, kept max_epochs=3 from disk,
    # took the default budget of max_epochs=27 and restarted the search.
    with pytest.raises(ValueError) as raised:
        make(objective="val_loss", max_epochs=27, epoch_budget=None)
    message = str(raised.value)
    assert "`objective`: saved 'val_accuracy' (max), given 'val_loss' (min)" in message
    assert "`max_epochs`: saved 3, given 27" in message
    assert "overwrite=True" in message and "project_name" in message
    with pytest.raises(ValueError, match="`executions_per_trial`: saved 1, given 2"):
        make(executions_per_trial=2)

    def wider_builder(hp):
        hp.Int("units", 32, 1024, step=32)
        return model_builder(hp)

    with pytest.raises(ValueError, match=r"`units`: saved .*512.*, given .*1024"):
        make(wider_builder)
    assert _files(tmp_path) == before  # nothing saved is lost
    # A larger budget extends the search (the README says so).
    spent = make().oracle.epochs_used
    extended = make(epoch_budget=spent + 3)
    extended.search(x, y, validation_data=(x_val, y_val), verbose=0)
    assert spent < extended.oracle.epochs_used <= spent + 3
