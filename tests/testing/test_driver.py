"""Tests of the oracle driver, with stock Keras Tuner oracles and fakes."""

from __future__ import annotations

import math
import os

import pytest
from keras_tuner.engine.trial import TrialStatus
from keras_tuner.oracles import (
    BayesianOptimizationOracle,
    HyperbandOracle,
    RandomSearchOracle,
)

from kt_ext.testing import (
    DriverResult,
    LearningRateObjective,
    MLPObjective,
    TrialRecord,
    get_objective,
    make_oracle,
    run_oracle,
)


class StopAfterTwoEpochsOracle(RandomSearchOracle):
    """Prunes every trial once it has reported two epochs."""

    def update_trial(self, trial_id, metrics, step=0):
        trial = super().update_trial(trial_id, metrics, step=step)
        if step >= 1:
            trial.status = TrialStatus.STOPPED
        return trial


class AlwaysIdleOracle(RandomSearchOracle):
    """Breaks the single-process contract: IDLE with nothing running."""

    def populate_space(self, trial_id):
        return {"status": TrialStatus.IDLE}


class NoEpochOracle(RandomSearchOracle):
    """Schedules a continuation that has nothing left to train."""

    def populate_space(self, trial_id):
        values = self._random_values()
        values.update({"tuner/epochs": 2, "tuner/initial_epoch": 2})
        return {"status": TrialStatus.RUNNING, "values": values}


class InvalidStatusOracle(RandomSearchOracle):
    """Answers with a status that `create_trial` should never give."""

    def populate_space(self, trial_id):
        return {"status": TrialStatus.COMPLETED}


def record(trial_id: str, status: str, score: float | None, cumulative: int):
    return TrialRecord(
        trial_id=trial_id,
        values={"x": int(trial_id)},
        status=status,
        score=score,
        epochs_trained=1,
        cumulative_epochs=cumulative,
        initial_epoch=0,
        continued_from=None,
        stopped_early=False,
        curve=() if score is None else (score,),
    )


def test_random_search_runs_its_trials_and_agrees_with_the_oracle():
    objective = MLPObjective(seed=0)
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=8, seed=1)
    result = run_oracle(oracle, objective, epochs=3)

    assert len(result.trials) == 8
    assert result.oracle_stopped
    assert result.total_epochs == 24
    assert [r.cumulative_epochs for r in result.trials] == list(range(3, 25, 3))
    assert {r.status for r in result.trials} == {TrialStatus.COMPLETED}
    assert not oracle.ongoing_trials
    best = oracle.get_best_trials()[0]
    assert result.best_score == pytest.approx(best.score)
    assert result.best_values == best.hyperparameters.values
    assert result.best_score == min(r.score for r in result.trials)
    for r in result.trials:
        assert r.curve == tuple(objective.evaluate(r.values, e) for e in (1, 2, 3))
        assert r.score == min(r.curve)


def test_same_seeds_give_identical_results():
    def run(objective_seed: int) -> list[dict]:
        objective = LearningRateObjective(seed=objective_seed)
        oracle = make_oracle(RandomSearchOracle, objective, max_trials=8, seed=1)
        return run_oracle(oracle, objective, epochs=4).rows()

    first, second = run(0), run(0)
    assert first == second
    other = run(1)
    assert [r["hp_learning_rate"] for r in other] == [
        r["hp_learning_rate"] for r in first
    ]
    assert [r["score"] for r in other] != [r["score"] for r in first]


@pytest.mark.parametrize("report_every_epoch", [True, False])
def test_hyperband_epochs_match_its_schedule(report_every_epoch):
    objective = MLPObjective(seed=0)
    oracle = make_oracle(HyperbandOracle, objective, max_epochs=9, factor=3, seed=1)
    result = run_oracle(oracle, objective, report_every_epoch=report_every_epoch)

    assert result.oracle_stopped
    completed = [t for t in oracle.trials.values() if t.status == "COMPLETED"]
    assert len(completed) == len(result.trials) == len(oracle.trials)
    scheduled = sum(
        t.hyperparameters.values["tuner/epochs"]
        - t.hyperparameters.values["tuner/initial_epoch"]
        for t in completed
    )
    assert result.total_epochs == scheduled
    continued = [r for r in result.trials if r.continued_from is not None]
    assert continued
    for r in continued:
        assert r.initial_epoch > 0
        parent = oracle.get_trial(r.continued_from).hyperparameters.values
        assert parent["tuner/epochs"] == r.initial_epoch
        assert r.values == {k: v for k, v in parent.items() if "/" not in k}
        assert r.curve[0] == objective.evaluate(r.values, r.initial_epoch + 1)
    for row in result.rows():
        assert not any(key.startswith("hp_tuner/") for key in row)
        assert row["epochs"] > 0


def test_hyperband_makes_the_same_choices_with_one_report_per_trial():
    def run(report_every_epoch: bool) -> list[dict]:
        objective = LearningRateObjective(seed=2)
        oracle = make_oracle(HyperbandOracle, objective, max_epochs=9, seed=3)
        return run_oracle(
            oracle, objective, report_every_epoch=report_every_epoch
        ).rows()

    assert run(True) == run(False)


def test_bayesian_optimization_runs_on_a_conditional_space():
    objective = MLPObjective(seed=0)
    oracle = make_oracle(BayesianOptimizationOracle, objective, max_trials=6, seed=1)
    result = run_oracle(oracle, objective, epochs=2)

    assert len(result.trials) == 6
    assert result.oracle_stopped
    assert result.total_epochs == 12
    assert all(math.isfinite(r.score) for r in result.trials)
    assert result.best_score == pytest.approx(oracle.get_best_trials()[0].score)


def test_oracle_that_answers_stopped_prunes_the_trial():
    objective = LearningRateObjective(seed=0)
    oracle = make_oracle(StopAfterTwoEpochsOracle, objective, max_trials=4, seed=1)
    result = run_oracle(oracle, objective, epochs=10)

    assert [r.epochs_trained for r in result.trials] == [2, 2, 2, 2]
    assert result.total_epochs == 8
    assert all(r.stopped_early for r in result.trials)
    assert {r.status for r in result.trials} == {TrialStatus.COMPLETED}
    for r in result.trials:
        history = oracle.get_trial(r.trial_id).metrics.get_history("val_accuracy")
        assert [obs.step for obs in history] == [0, 1]


def test_stopped_at_the_last_epoch_is_not_early():
    objective = LearningRateObjective(seed=0)
    oracle = make_oracle(StopAfterTwoEpochsOracle, objective, max_trials=2, seed=1)
    result = run_oracle(oracle, objective, epochs=2)
    assert not any(r.stopped_early for r in result.trials)


# KT's metric tracker warns when a trial's only reported value is NaN.
@pytest.mark.filterwarnings("ignore:All-NaN:RuntimeWarning")
def test_diverging_configurations_fail_and_are_never_best():
    objective = LearningRateObjective(seed=0, diverge_above=3e-3)
    oracle = make_oracle(
        RandomSearchOracle,
        objective,
        max_trials=12,
        seed=1,
        max_consecutive_failed_trials=12,
    )
    result = run_oracle(oracle, objective, epochs=5)

    failed = [r for r in result.trials if r.status == TrialStatus.FAILED]
    completed = [r for r in result.trials if r.status == TrialStatus.COMPLETED]
    assert failed
    assert completed
    for r in failed:
        assert r.values["learning_rate"] > 3e-3
        assert r.score is None
        assert r.epochs_trained == 1
        assert math.isnan(r.curve[0])
        assert "diverged" in oracle.get_trial(r.trial_id).message
    assert result.best_values["learning_rate"] <= 3e-3
    assert result.best_trial in completed
    assert oracle.get_best_trials()[0].status == TrialStatus.COMPLETED
    assert result.total_epochs == 5 * len(completed) + len(failed)
    assert all(math.isfinite(best) for _, best in result.best_so_far())


def test_idle_in_a_single_process_run_raises():
    objective = LearningRateObjective()
    oracle = make_oracle(AlwaysIdleOracle, objective, max_trials=3)
    with pytest.raises(RuntimeError, match="IDLE"):
        run_oracle(oracle, objective)


def test_unexpected_status_raises():
    objective = LearningRateObjective()
    oracle = make_oracle(InvalidStatusOracle, objective, max_trials=3)
    with pytest.raises(RuntimeError, match="'COMPLETED'"):
        run_oracle(oracle, objective)


def test_trial_with_nothing_to_train_raises():
    objective = LearningRateObjective()
    oracle = make_oracle(NoEpochOracle, objective, max_trials=3, seed=1)
    with pytest.raises(ValueError, match="tuner/epochs=2, tuner/initial_epoch=2"):
        run_oracle(oracle, objective)


def test_driver_max_trials_stops_before_the_oracle():
    objective = LearningRateObjective()
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=10, seed=1)
    result = run_oracle(oracle, objective, max_trials=3)
    assert len(result.trials) == 3
    assert not result.oracle_stopped
    assert result.total_epochs == 3


def test_files_go_to_the_given_directory_and_reload(tmp_path):
    objective = MLPObjective(seed=0)
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=4, seed=1)
    result = run_oracle(oracle, objective, directory=tmp_path)
    assert (tmp_path / objective.name / "oracle.json").is_file()

    reloaded = make_oracle(RandomSearchOracle, objective, max_trials=4, seed=1)
    reloaded._set_project_dir(str(tmp_path), objective.name)
    reloaded.reload()
    assert sorted(reloaded.trials) == sorted(r.trial_id for r in result.trials)
    assert reloaded.get_best_trials()[0].score == pytest.approx(result.best_score)


def test_temporary_directory_is_removed():
    objective = LearningRateObjective()
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=2, seed=1)
    run_oracle(oracle, objective)
    assert not os.path.exists(oracle._directory)


def test_oracle_for_another_objective_is_rejected():
    oracle = make_oracle(RandomSearchOracle, MLPObjective(), max_trials=2)
    with pytest.raises(ValueError, match="val_accuracy"):
        run_oracle(oracle, LearningRateObjective())


@pytest.mark.parametrize("argument", ["max_trials", "epochs"])
@pytest.mark.parametrize(
    ("value", "error"), [(0, ValueError), (-2, ValueError), (1.5, TypeError)]
)
def test_bad_counts_are_rejected(argument, value, error):
    objective = LearningRateObjective()
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=2)
    with pytest.raises(error, match=f"`{argument}`"):
        run_oracle(oracle, objective, **{argument: value})


def test_make_oracle_uses_the_objective_and_passes_arguments():
    objective = get_objective("mlp")
    oracle = make_oracle(HyperbandOracle, objective, max_epochs=27, factor=3, seed=4)
    assert oracle.objective == objective.objective
    assert oracle.max_epochs == 27
    assert oracle.seed == 4
    assert oracle.verbose == 0
    names = {hp.name for hp in oracle.get_space().space}
    assert names == {hp.name for hp in objective.hyperparameters().space}


def test_best_so_far_and_epochs_to_reach_for_a_min_objective():
    result = DriverResult(
        "val_loss",
        "min",
        [
            record("0", TrialStatus.FAILED, None, 1),
            record("1", TrialStatus.COMPLETED, 0.8, 4),
            record("2", TrialStatus.COMPLETED, 0.9, 7),
            record("3", TrialStatus.COMPLETED, 0.5, 10),
            record("4", TrialStatus.COMPLETED, 0.5, 12),
        ],
    )
    assert result.best_so_far() == [(4, 0.8), (7, 0.8), (10, 0.5), (12, 0.5)]
    assert result.best_score == 0.5
    assert result.best_trial.trial_id == "3"
    assert result.best_values == {"x": 3}
    assert result.total_epochs == 12
    assert result.epochs_to_reach(0.8) == 4
    assert result.epochs_to_reach(0.6) == 10
    assert result.epochs_to_reach(0.5) == 10
    assert result.epochs_to_reach(0.4) is None


def test_epochs_to_reach_for_a_max_objective():
    result = DriverResult(
        "val_accuracy",
        "max",
        [
            record("0", TrialStatus.COMPLETED, 0.7, 3),
            record("1", TrialStatus.COMPLETED, 0.9, 6),
        ],
    )
    assert result.epochs_to_reach(0.8) == 6
    assert result.epochs_to_reach(0.6) == 3
    assert result.epochs_to_reach(0.95) is None


def test_rows_are_flat_and_prefixed():
    result = DriverResult("val_loss", "min", [record("7", "COMPLETED", 0.3, 2)])
    assert result.rows() == [
        {
            "trial_id": "7",
            "status": "COMPLETED",
            "score": 0.3,
            "epochs": 1,
            "cumulative_epochs": 2,
            "initial_epoch": 0,
            "continued_from": None,
            "stopped_early": False,
            "hp_x": 7,
        }
    ]
