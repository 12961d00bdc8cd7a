"""The RankPruning tuner: a drop-in for kt.Hyperband that stops losing trials."""

from __future__ import annotations

import warnings

import pytest
from keras_tuner.engine.trial import TrialStatus

import kt_ext
from kt_ext.hypermodels import MLPHyperModel


@pytest.mark.backends
def test_typical_hyperband_script_runs_with_only_the_class_name_changed(
    binary_data, model_builder, typical_search, tmp_path
):
    tuner = kt_ext.RankPruning(
        model_builder,
        objective="val_accuracy",
        max_epochs=3,
        factor=3,
        epoch_budget=8,
        directory=tmp_path,
        project_name="intro_to_kt",
    )
    with warnings.catch_warnings():
        # Keras Tuner's warning for per-epoch reports must not appear.
        warnings.filterwarnings(
            "error", message="The use case of calling", category=DeprecationWarning
        )
        typical_search(tuner, binary_data)
    assert tuner.oracle.epochs_used <= 8


def test_hyperband_iterations_is_rejected(model_builder):
    with pytest.raises(TypeError, match=r"hyperband_iterations.*epoch_budget"):
        kt_ext.RankPruning(model_builder, objective="val_loss", hyperband_iterations=2)


@pytest.mark.backends
def test_a_losing_trial_is_stopped_and_ends_completed_with_fewer_epochs(
    binary_data, tmp_path
):
    (x, y), (x_val, y_val) = binary_data
    hypermodel = MLPHyperModel.for_data(
        x, y, overrides={"num_layers": 1, "units": 4, "batch_norm": None}
    )
    tuner = kt_ext.RankPruning(
        hypermodel,
        objective="val_loss",
        min_epochs=3,
        max_epochs=3,
        max_trials=4,
        seed=0,
        prune_quantile=1.0,  # any trial behind a peer stops
        min_peers=1,
        directory=tmp_path,
        project_name="prune",
    )
    tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)
    oracle = tuner.oracle
    assert oracle.stopped_trials
    for trial_id, epoch in oracle.stopped_trials.items():
        trial = oracle.get_trial(trial_id)
        assert trial.status == TrialStatus.COMPLETED
        steps = [obs.step for obs in trial.metrics.get_history("val_loss")]
        assert max(steps) == epoch < 2
        assert oracle.epochs_trained[trial_id] == epoch + 1
        assert trial.message == f"stopped early at epoch {epoch + 1}"
    assert oracle.epochs_used < 4 * 3
    assert all(
        t.metrics.get_last_value("kt_ext/wall_time") > 0 for t in oracle.trials.values()
    )


def test_prune_trials_is_the_oracles_and_a_rerun_cannot_change_it(
    model_builder, tmp_path
):
    def make(**kwargs):
        return kt_ext.RankPruning(
            model_builder,
            objective="val_accuracy",
            max_epochs=3,
            directory=tmp_path,
            project_name="p",
            **kwargs,
        )

    tuner = make()
    assert tuner.prune_trials and tuner.reports_each_epoch()
    # One source of truth: the tuner reports as the oracle prunes.
    tuner.oracle.prune_trials = False
    assert not tuner.prune_trials and not tuner.reports_each_epoch()
    tuner.save()
    # A rerun that changes it would report otherwise than the saved search
    # pruned: refused, before anything is reloaded.
    with pytest.raises(ValueError, match="`prune_trials`: saved False, given True"):
        make()
    assert not make(prune_trials=False).prune_trials
