"""The round-based oracle base: rungs, budget, carrying, state, IDLE."""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
import pytest
from keras_tuner.engine.trial import Trial
from keras_tuner.oracles import HyperbandOracle

from kt_ext.oracles import RoundOracle, hyperband_epoch_budget, rung_epochs
from kt_ext.oracles._space import initial_space, sample_values
from kt_ext.testing import get_objective, make_oracle, run_oracle


@pytest.mark.parametrize(("max_epochs", "factor"), [(27, 3), (9, 3), (10, 2), (50, 3)])
def test_default_budget_is_what_one_hyperband_iteration_trains(max_epochs, factor):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(
        HyperbandOracle, objective, max_epochs=max_epochs, factor=factor
    )
    trained = run_oracle(oracle, objective).total_epochs
    assert hyperband_epoch_budget(max_epochs, factor) == trained


def test_rungs_grow_by_factor_up_to_max_epochs():
    assert rung_epochs(1, 27, 3) == [1, 3, 9, 27]
    assert rung_epochs(1, 30, 3) == [1, 3, 9, 27, 30]
    assert rung_epochs(5, 5, 3) == [5]


def test_search_stays_within_budget_and_continues_the_best_trials():
    objective = get_objective("mlp", seed=1)
    oracle = make_oracle(RoundOracle, objective, max_epochs=9, factor=3, seed=4)
    result = run_oracle(oracle, objective)
    assert result.total_epochs <= oracle.epoch_budget
    assert result.total_epochs >= 0.8 * oracle.epoch_budget
    assert [r.epochs for r in oracle.rounds[:3]] == [1, 3, 9]
    continued = [t for t in result.trials if t.continued_from is not None]
    assert continued
    for record in continued:
        parent = next(t for t in result.trials if t.trial_id == record.continued_from)
        assert record.initial_epoch == parent.initial_epoch + parent.epochs_trained
        assert record.values == parent.values
    # Carried trials were among the best of their round.
    first = oracle.rounds[0]
    carried = set(oracle.rounds[1].carry)
    scores = {
        t.trial_id: t.score for t in result.trials if t.trial_id in first.trial_ids
    }
    worst_carried = max(scores[i] for i in carried)  # val_loss: lower is better
    assert sum(score < worst_carried for score in scores.values()) < len(carried)


def test_max_trials_alone_bounds_the_search():
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=9, max_trials=12, seed=0)
    assert oracle.epoch_budget is None
    assert len(run_oracle(oracle, objective).trials) == 12


def test_seed_zero_is_reproducible():
    objective = get_objective("mlp", seed=0)

    def values_of_a_run():
        oracle = make_oracle(RoundOracle, objective, max_epochs=9, seed=0)
        return [t.values for t in run_oracle(oracle, objective).trials]

    assert values_of_a_run() == values_of_a_run()


def test_reloaded_state_continues_exactly(tmp_path):
    objective = get_objective("mlp", seed=2)
    full = make_oracle(RoundOracle, objective, max_epochs=9, seed=3)
    expected = [t.values for t in run_oracle(full, objective).trials]

    first = make_oracle(RoundOracle, objective, max_epochs=9, seed=3)
    head = run_oracle(first, objective, max_trials=7, directory=tmp_path)
    second = make_oracle(RoundOracle, objective, max_epochs=9, seed=3)
    second._set_project_dir(str(tmp_path), objective.name)
    second.reload()
    tail = run_oracle(second, objective)
    assert [t.values for t in head.trials + tail.trials] == expected


def test_idle_only_while_other_workers_train_the_round(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=3, factor=3, seed=0)
    oracle._set_project_dir(str(tmp_path), "idle")
    first_round = oracle._plan_round(0)
    trials = [oracle.create_trial(f"worker{i}") for i in range(first_round.size)]
    assert all(t.status == "RUNNING" for t in trials)
    # The round is fully handed out and still running elsewhere: wait.
    assert oracle.create_trial("late").status == "IDLE"
    for trial in trials:
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5}, step=0)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    assert oracle.create_trial("late").status == "RUNNING"


class Clock:
    """A stand-in for ``time.monotonic`` that moves only when told."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def first_round(tmp_path, monkeypatch, **kwargs):
    clock = Clock()
    monkeypatch.setattr("kt_ext.oracles._workers.time.monotonic", clock)
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=3, seed=0, **kwargs)
    oracle._set_project_dir(str(tmp_path), "workers")
    size = oracle._plan_round(0).size
    trials = [oracle.create_trial(f"worker{i}") for i in range(size)]
    return oracle, trials, clock


def finish(oracle, trial, score=0.5):
    oracle.update_trial(trial.trial_id, {"val_accuracy": score}, step=0)
    trial.status = "COMPLETED"
    oracle.end_trial(trial)


def test_a_silent_workers_trial_goes_to_the_next_worker(tmp_path, monkeypatch):
    oracle, trials, clock = first_round(tmp_path, monkeypatch, worker_timeout=60)
    used = oracle.epochs_used
    for trial in trials[1:]:
        finish(oracle, trial)
    clock.now += 30
    assert oracle.create_trial("late").status == "IDLE"  # worker0 may be alive
    clock.now += 31
    assert oracle.release_silent_workers() == [trials[0].trial_id]
    assert "worker0" not in oracle.tuner_ids  # the chief no longer waits for it
    retried = oracle.create_trial("late")
    assert retried.trial_id == trials[0].trial_id
    assert oracle.epochs_used == used  # its epochs are not charged twice
    finish(oracle, retried, score=0.9)
    assert oracle.trials[retried.trial_id].status == "COMPLETED"
    assert oracle.create_trial("late").status == "RUNNING"  # the next round
    assert oracle._run_times[retried.trial_id] == 1


def test_a_rerun_is_scored_on_its_own_epochs_only(tmp_path, monkeypatch):
    oracle, trials, clock = first_round(tmp_path, monkeypatch, worker_timeout=60)
    lost = trials[0]
    oracle.update_trial(lost.trial_id, {"val_accuracy": 0.1}, step=0)
    for trial in trials[1:]:
        finish(oracle, trial)
    clock.now += 61
    assert oracle.release_silent_workers() == [lost.trial_id]
    retried = oracle.create_trial("late")
    finish(oracle, retried, score=0.9)  # Keras Tuner would score the mean, 0.5
    assert oracle.trials[lost.trial_id].score == pytest.approx(0.9)


def test_a_resumed_trial_is_scored_on_its_rerun_only(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=1, max_trials=2, seed=0)
    oracle._set_project_dir(str(tmp_path), "resume")
    trial = oracle.create_trial("t")
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.1}, step=0)
    oracle.save()  # then the process is killed
    resumed = make_oracle(RoundOracle, objective, max_epochs=1, max_trials=2, seed=0)
    resumed._set_project_dir(str(tmp_path), "resume")
    resumed.reload()
    rerun = resumed.create_trial("t")
    assert rerun.trial_id == trial.trial_id
    finish(resumed, rerun, score=0.9)
    assert resumed.trials[trial.trial_id].score == pytest.approx(0.9)


def test_heartbeats_and_reports_keep_a_worker_alive(tmp_path, monkeypatch):
    oracle, trials, clock = first_round(tmp_path, monkeypatch, worker_timeout=60)
    for _ in range(3):
        clock.now += 50
        for trial in trials:
            oracle.get_trial(trial.trial_id)  # a worker's heartbeat
        assert oracle.release_silent_workers() == []
    clock.now += 61
    oracle.update_trial(trials[0].trial_id, {"val_accuracy": 0.4}, step=0)
    assert oracle.release_silent_workers() == [t.trial_id for t in trials[1:]]


def test_without_timeout_a_silent_worker_is_waited_for(tmp_path, monkeypatch):
    oracle, _, clock = first_round(tmp_path, monkeypatch, worker_timeout=None)
    clock.now += 10**6
    assert oracle.release_silent_workers() == []
    assert oracle.create_trial("late").status == "IDLE"


def test_a_late_report_from_a_worker_presumed_dead(tmp_path, monkeypatch):
    oracle, trials, clock = first_round(tmp_path, monkeypatch, worker_timeout=60)
    lost = trials[0]
    clock.now += 61
    for other in trials[1:]:
        finish(oracle, other)  # heard just in time
    assert oracle.release_silent_workers() == [lost.trial_id]
    # Still waiting for a worker: its late result is taken.
    finish(oracle, lost, score=0.8)
    assert oracle.trials[lost.trial_id].status == "COMPLETED"
    assert lost.trial_id not in oracle._retry_queue
    # Ended already: a second report changes nothing.
    end_order = list(oracle.end_order)
    reported = oracle.update_trial(lost.trial_id, {"val_accuracy": 0.1}, step=1)
    assert reported.status == "STOPPED"
    finish(oracle, lost, score=0.1)
    assert oracle.end_order == end_order
    assert oracle.trials[lost.trial_id].score == pytest.approx(0.8)


def test_infinite_scores_fail_and_are_never_best(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=1, max_trials=3, seed=0)
    oracle._set_project_dir(str(tmp_path), "inf")
    scores = [0.7, float("inf"), 0.6]
    for score in scores:
        trial = oracle.create_trial("t")
        oracle.update_trial(trial.trial_id, {"val_accuracy": score}, step=0)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    best = oracle.get_best_trials(1)[0]
    assert best.score == pytest.approx(0.7)
    assert [t.status for t in oracle.trials.values()].count("COMPLETED") == 2


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"max_epochs": 0}, ValueError, ["max_epochs", "0"]),
        ({"max_epochs": 2.5}, TypeError, ["max_epochs", "2.5"]),
        ({"min_epochs": 10, "max_epochs": 5}, ValueError, ["min_epochs", "10"]),
        ({"factor": 1}, ValueError, ["factor", "1"]),
        ({"epoch_budget": 0}, ValueError, ["epoch_budget", "0"]),
        ({"max_trials": -1}, ValueError, ["max_trials", "-1"]),
        ({"seed": "a"}, TypeError, ["seed", "'a'"]),
        ({"worker_timeout": 0}, ValueError, ["worker_timeout", "0"]),
        ({"worker_timeout": "1m"}, TypeError, ["worker_timeout", "'1m'"]),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, error, names):
    with pytest.raises(error) as raised:
        RoundOracle(objective="val_accuracy", **kwargs)
    for name in names:
        assert name in str(raised.value)


def test_sampling_respects_ranges_and_conditions_without_mutating_the_space():
    objective = get_objective("mlp", seed=0)
    hps = objective.hyperparameters()
    before = [repr(hp) for hp in hps.space]
    space = initial_space(hps)
    space["learning_rate"] = {"min": 1e-3, "max": 2e-3, "sampling": "log"}
    space["regularizer"] = {"values": ["none"]}
    rng = np.random.default_rng(0)
    for _ in range(50):
        values = sample_values(hps, space, rng)
        assert 1e-3 <= values["learning_rate"] <= 2e-3
        assert "reg_strength" not in values
    assert [repr(hp) for hp in hps.space] == before
    assert isinstance(hps, kt.HyperParameters)


def end(oracle, trial, status, score=0.5):
    oracle.update_trial(trial.trial_id, {"val_accuracy": score}, step=0)
    trial.status = status
    oracle.end_trial(trial)


def test_retries_are_charged_and_stop_at_the_budget(tmp_path):
    oracle = RoundOracle(
        objective="val_accuracy",
        max_epochs=3,
        min_epochs=3,
        epoch_budget=9,
        max_retries_per_trial=5,
        seed=0,
    )
    oracle._set_project_dir(str(tmp_path), "retry")
    oracle.update_space(get_objective("lr_only").hyperparameters())
    first = oracle.create_trial("t")
    end(oracle, first, "INVALID")  # queued for a retry
    again = oracle.create_trial("t")
    assert again.trial_id == first.trial_id
    assert oracle.epochs_trained[first.trial_id] == 6
    end(oracle, again, "INVALID")
    third = oracle.create_trial("t")  # 9 epochs spent: a retry would exceed it
    assert third.trial_id == first.trial_id and oracle.epochs_used == 9
    end(oracle, third, "INVALID")
    assert oracle.create_trial("t").status == "STOPPED"
    assert oracle.trials[first.trial_id].status == "FAILED"
    assert oracle.epochs_used <= 9


def test_numpy_arguments_are_stored_as_plain_ints(tmp_path):
    oracle = RoundOracle(
        objective="val_accuracy",
        max_epochs=np.int64(3),
        epoch_budget=np.int64(20),
        seed=np.int64(2),
    )
    oracle._set_project_dir(str(tmp_path), "np")
    oracle.save()  # json.dumps would fail on numpy ints
    assert isinstance(oracle.seed, int) and isinstance(oracle.epoch_budget, int)


def test_a_resumed_search_keeps_the_budget_it_is_given(tmp_path):
    objective = get_objective("lr_only", seed=0)
    first = make_oracle(RoundOracle, objective, max_epochs=3, epoch_budget=10, seed=1)
    run_oracle(first, objective, directory=tmp_path)
    assert first.epochs_used <= 10
    second = make_oracle(RoundOracle, objective, max_epochs=3, epoch_budget=30, seed=1)
    second._set_project_dir(str(tmp_path), objective.name)
    second.reload()
    more = run_oracle(second, objective)
    assert more.trials and 10 < second.epochs_used <= 30


def test_state_is_written_atomically(tmp_path, monkeypatch):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=3, max_trials=3, seed=0)
    run_oracle(oracle, objective, directory=tmp_path)
    state_file = tmp_path / objective.name / "oracle.json"
    before = state_file.read_text()

    def killed(*args):
        raise KeyboardInterrupt  # as if the process died before the rename

    monkeypatch.setattr("kt_ext.oracles._journal.os.replace", killed)
    oracle.rounds.clear()
    with pytest.raises(KeyboardInterrupt):
        oracle.save()
    assert state_file.read_text() == before  # the old state is intact


@pytest.mark.parametrize("damaged", ["oracle.json", "trial_1/trial.json"])
def test_a_corrupt_state_file_is_named_and_nothing_is_lost(tmp_path, damaged):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=3, max_trials=3, seed=0)
    run_oracle(oracle, objective, directory=tmp_path)
    project = tmp_path / objective.name
    (project / damaged).write_text('{"truncated": ')
    files = sorted(p.name for p in project.rglob("*"))
    again = make_oracle(RoundOracle, objective, max_epochs=3, max_trials=3, seed=0)
    again._set_project_dir(str(tmp_path), objective.name)
    with pytest.raises(ValueError, match=damaged.replace("/", ".") + ".*corrupt"):
        again.reload()
    assert sorted(p.name for p in project.rglob("*")) == files


def _raised(check) -> str | None:
    try:
        check()
    except RuntimeError as error:
        return str(error)
    return None


def test_consecutive_failures_are_checked_as_keras_tuner_does():
    rng = np.random.default_rng(0)
    oracle = RoundOracle(objective="val_accuracy", max_consecutive_failed_trials=3)
    raised = 0
    for index in range(300):
        trial = Trial(kt.HyperParameters(), trial_id=str(index))
        trial.status = "FAILED" if rng.random() < 0.4 else "COMPLETED"
        trial.message = f"trial {index}"
        oracle.trials[trial.trial_id] = trial
        oracle.end_order.append(trial.trial_id)
        ours = _raised(oracle._check_consecutive_failures)
        theirs = _raised(lambda: kt.Oracle._check_consecutive_failures(oracle))
        assert (ours is None) == (theirs is None)
        if ours:  # Keras Tuner would stop here; go on with a higher limit
            # Keras Tuner's message names the limit and the last failure; ours
            # leads with the first failure of the run.
            first = index - oracle.max_consecutive_failed_trials + 1
            assert ours.endswith("\n" + theirs.split("\n", 1)[1])
            assert f"the first, trial {first}, failed with trial {first}\n" in ours
            raised += 1
            oracle.max_consecutive_failed_trials += 1
    assert raised  # both raised, at the same trial


def test_every_retry_waiting_is_checked_against_the_budget(tmp_path):
    oracle = RoundOracle(
        objective="val_accuracy",
        max_epochs=1,
        epoch_budget=2,
        max_retries_per_trial=3,
        seed=0,
    )
    oracle._set_project_dir(str(tmp_path), "retries")
    oracle.update_space(get_objective("lr_only").hyperparameters())
    first, second = oracle.create_trial("a"), oracle.create_trial("b")
    end(oracle, first, "INVALID")
    end(oracle, second, "INVALID")  # both wait for a retry; 2 epochs spent
    third = oracle.create_trial("c")
    assert third.status != "RUNNING"
    assert oracle.epochs_used <= 2
    assert {oracle.trials[t.trial_id].status for t in (first, second)} == {"FAILED"}


def test_a_budget_below_one_first_round_trial_is_refused_at_construction():
    # Before: nothing ran, silently.
    with pytest.raises(ValueError, match=r"`epoch_budget` must be at least 3.*got 1"):
        RoundOracle(objective="val_accuracy", min_epochs=3, epoch_budget=1)
    RoundOracle(objective="val_accuracy", min_epochs=3, epoch_budget=3)


def test_a_budget_below_one_trial_of_every_execution_is_refused():
    oracle = RoundOracle(
        objective="val_accuracy", max_epochs=9, min_epochs=3, epoch_budget=5
    )
    oracle.check_epoch_budget()
    oracle.executions_per_trial = 2  # the tuner sets it
    with pytest.raises(ValueError, match=r"`epoch_budget` must be at least 6.*got 5"):
        oracle.check_epoch_budget()


def test_diverged_trials_fail_with_their_epoch_and_do_not_stop_the_search():
    # Half the learning-rate range diverges (NaN from the first epoch): far more
    # than 3 failures in a row, which must not stop the search.
    objective = get_objective("lr_only", seed=0, diverge_above=1e-3)
    oracle = make_oracle(
        RoundOracle, objective, max_epochs=3, max_consecutive_failed_trials=3, seed=0
    )
    result = run_oracle(oracle, objective)
    diverged = [t for t in oracle.trials.values() if t.status == "FAILED"]
    assert len(diverged) > 3
    for trial in diverged:
        assert trial.message == "diverged at epoch 1"
        assert trial.hyperparameters.values["learning_rate"] > 1e-3
    best = oracle.get_best_trials(len(oracle.trials))
    assert best and all(t.status == "COMPLETED" for t in best)
    assert result.best_score is not None


def test_a_trial_that_becomes_nan_later_fails_at_that_epoch(tmp_path):
    oracle = RoundOracle(
        objective="val_accuracy", max_epochs=3, min_epochs=3, epoch_budget=20, seed=0
    )
    oracle._set_project_dir(str(tmp_path), "nan")
    oracle.update_space(get_objective("lr_only").hyperparameters())
    trial = oracle.create_trial("t")
    for step, score in enumerate([0.5, 0.6, float("nan")]):
        oracle.update_trial(trial.trial_id, {"val_accuracy": score}, step=step)
    trial.status = "COMPLETED"  # a tuner that did not look
    oracle.end_trial(trial)
    ended = oracle.trials[trial.trial_id]
    assert (ended.status, ended.message) == ("FAILED", "diverged at epoch 3")
    assert oracle.get_best_trials(1) == []
    # A NaN loss counts as well, with a finite objective.
    second = oracle.create_trial("t")
    oracle.update_trial(
        second.trial_id, {"val_accuracy": 0.5, "loss": float("inf")}, step=0
    )
    second.status = "COMPLETED"
    oracle.end_trial(second)
    assert oracle.trials[second.trial_id].message == "diverged at epoch 1"


def test_diverged_trials_are_left_out_of_the_consecutive_failures():
    oracle = RoundOracle(objective="val_accuracy", max_consecutive_failed_trials=2)
    outcomes = ["FAILED", "diverged", "diverged", "diverged", "FAILED"]
    with pytest.raises(RuntimeError, match="Number of consecutive failures"):
        for index, outcome in enumerate(outcomes):
            trial = Trial(kt.HyperParameters(), trial_id=str(index), status="FAILED")
            if outcome == "diverged":
                trial.message = "diverged at epoch 2"
            oracle.trials[trial.trial_id] = trial
            oracle.end_order.append(trial.trial_id)
            oracle._check_consecutive_failures()
    assert len(oracle.end_order) == 5  # raised at the second real failure only


def test_best_trials_are_completed_ones_only(tmp_path):
    objective = get_objective("lr_only", seed=0, diverge_above=1e-9)
    oracle = make_oracle(RoundOracle, objective, max_epochs=1, max_trials=3, seed=0)
    run_oracle(oracle, objective, directory=tmp_path)
    assert [t.status for t in oracle.trials.values()] == ["FAILED"] * 3
    # Keras Tuner would pad the list with failed trials.
    assert oracle.get_best_trials(2) == []


def test_every_trial_records_its_wall_time(tmp_path, monkeypatch):
    clock = [100.0]
    monkeypatch.setattr("kt_ext.oracles._rounds.time.monotonic", lambda: clock[0])
    settings = {"max_epochs": 1, "epoch_budget": 20, "max_retries_per_trial": 1}
    oracle = RoundOracle(objective="val_accuracy", seed=0, **settings)
    oracle._set_project_dir(str(tmp_path), "timed")
    oracle.update_space(get_objective("lr_only").hyperparameters())
    for status, seconds in [("COMPLETED", 2.5), ("FAILED", 1.0), ("INVALID", 4.0)]:
        trial = oracle.create_trial("t")
        clock[0] += seconds
        if status == "COMPLETED":
            oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5}, step=0)
        trial.status = status
        oracle.end_trial(trial)
    retried = oracle.create_trial("t")  # the INVALID one, again
    clock[0] += 3.0
    retried.status = "FAILED"
    oracle.end_trial(retried)
    walls = {
        trial_id: trial.metrics.get_last_value("kt_ext/wall_time")
        for trial_id, trial in oracle.trials.items()
    }
    # A retried trial's wall time adds up its runs.
    assert sorted(walls.values()) == [1.0, 2.5, 7.0]
    again = RoundOracle(objective="val_accuracy", seed=0, **settings)
    again._set_project_dir(str(tmp_path), "timed")
    again.reload()
    assert {
        trial_id: trial.metrics.get_last_value("kt_ext/wall_time")
        for trial_id, trial in again.trials.items()
    } == walls
