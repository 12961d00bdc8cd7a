"""``promotion="async"``: promotions as ASHA makes them, and no worker waits.

The oracles are driven directly, with several tuner ids asking at once on a
simulated clock (each epoch of a trial takes a random 5 to 20 s), on
kt_ext.testing's synthetic objectives: no Keras training.
"""

from __future__ import annotations

import heapq
import itertools
import json
import math
import random

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle, RoundOracle
from kt_ext.testing import first_difference, get_objective, make_oracle, run_oracle

ORACLES = [CoarseToFineOracle, RankPruningOracle]
OBJECTIVE = get_objective("mlp", seed=0)


class Clock:
    """The simulated time, also the workers' ``time.monotonic``."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def run_workers(oracle, workers, *, clock=None, seed=0, dies=None):
    """Runs a search with ``workers`` tuner ids on a simulated clock.

    ``dies`` (tuner id, n): that worker goes silent during its n-th trial.
    Returns the IDLE answers ``(tuner id, epochs_used then)`` and the epochs
    the living workers trained (every epoch reported).
    """
    clock, rng, order = clock or Clock(), random.Random(seed), itertools.count()
    asking = [f"tuner{i}" for i in range(workers)]
    running, idle, trained, started = [], [], 0, dict.fromkeys(asking, 0)
    waited = 0
    oracle.update_space(OBJECTIVE.hyperparameters())
    while asking or running:
        for tuner_id in list(asking):
            trial = oracle.create_trial(tuner_id)
            if trial.status == "IDLE":
                idle.append((tuner_id, oracle.epochs_used))
                continue
            asking.remove(tuner_id)
            if trial.status != "RUNNING":
                continue
            started[tuner_id] += 1
            values = trial.hyperparameters.values
            epochs = values["tuner/epochs"] - values["tuner/initial_epoch"]
            seconds = epochs * rng.uniform(5, 20)
            item = (clock.now + seconds, next(order), tuner_id, trial)
            heapq.heappush(running, item)
        assert oracle.epochs_used <= oracle.epoch_budget
        if not running and not asking:
            break
        if not running:
            # Only a silent worker's trial runs: wait (as the chief does) until
            # it counts as dead and its trial goes to a worker that asks.
            assert dies and waited < 10, "IDLE while nothing runs: forever"
            clock.now, waited = clock.now + 61, waited + 1
            continue
        clock.now, _, tuner_id, trial = heapq.heappop(running)
        for *_, alive in running:  # heartbeats, as kt_ext's tuners send
            oracle.get_trial(alive.trial_id)
        if dies and dies == (tuner_id, started[tuner_id]):
            continue  # silent from now on: never reports, never asks again
        trained += report(oracle, trial)
        asking.append(tuner_id)
    return idle, trained


def report(oracle, trial):
    """Trains ``trial`` (every epoch reported, as kt_ext's tuners do); ends it."""
    values = trial.hyperparameters.values
    start, stop = values["tuner/initial_epoch"], values["tuner/epochs"]
    epochs = 0
    for epoch in range(start, stop):
        score = OBJECTIVE.evaluate(values, epoch + 1)
        answer = oracle.update_trial(trial.trial_id, {OBJECTIVE.metric: score}, epoch)
        epochs += 1
        if answer.status == "STOPPED" or not math.isfinite(score):
            break
    trial.status = "COMPLETED" if math.isfinite(score) else "FAILED"
    oracle.end_trial(trial)
    return epochs


def async_oracle(cls, tmp_path, **kwargs):
    settings = {"max_epochs": 27, "seed": 1, "promotion": "async", **kwargs}
    oracle = make_oracle(cls, OBJECTIVE, **settings)
    oracle._set_project_dir(str(tmp_path), OBJECTIVE.name)
    return oracle


@pytest.mark.parametrize("cls", ORACLES)
def test_a_trial_is_promoted_as_soon_as_it_ranks_in_the_top_third(cls, tmp_path):
    oracle = async_oracle(cls, tmp_path, max_epochs=9, epoch_budget=200)
    sync = make_oracle(cls, OBJECTIVE, max_epochs=9, epoch_budget=200, seed=1)
    assert sync._plan_round(0).size > 4  # a sync round would promote later
    result = run_oracle(oracle, OBJECTIVE, max_trials=4)
    first, fourth = result.trials[:3], result.trials[3]
    assert [record.initial_epoch for record in first] == [0, 0, 0]
    best = min(first, key=lambda record: record.score)  # val_loss
    assert fourth.continued_from == best.trial_id and fourth.initial_epoch == 1
    assert oracle.trials[fourth.trial_id].hyperparameters["tuner/epochs"] == 3


def test_promotions_go_from_the_highest_rung_and_each_trial_once(tmp_path):
    oracle = async_oracle(RoundOracle, tmp_path, epoch_budget=400)
    run_workers(oracle, 4)
    parents = [
        trial.hyperparameters.values.get("tuner/trial_id")
        for trial in oracle.trials.values()
    ]
    parents = [parent for parent in parents if parent]
    assert parents and len(parents) == len(set(parents))
    epochs = {trial.hyperparameters["tuner/epochs"] for trial in oracle.trials.values()}
    assert epochs == {1, 3, 9, 27}


@pytest.mark.parametrize("cls", ORACLES)
@pytest.mark.parametrize("workers", [1, 3, 8])
def test_no_worker_waits_while_the_budget_pays_for_a_trial(cls, workers, tmp_path):
    oracle = async_oracle(cls, tmp_path, epoch_budget=300)
    idle, trained = run_workers(oracle, workers)
    cheapest = oracle.min_epochs * oracle.models_per_trial
    assert all(oracle.epoch_budget - used < cheapest for _, used in idle), idle
    assert trained == oracle.epochs_used <= oracle.epoch_budget
    assert oracle.epoch_budget - oracle.epochs_used < cheapest  # all spent


@pytest.mark.parametrize("cls", ORACLES)
def test_sync_rounds_make_workers_wait(cls, tmp_path):
    oracle = async_oracle(cls, tmp_path, epoch_budget=300, promotion="sync")
    idle, trained = run_workers(oracle, 8)
    cheapest = oracle.min_epochs * oracle.models_per_trial
    assert any(oracle.epoch_budget - used >= cheapest for _, used in idle)
    assert trained == oracle.epochs_used <= oracle.epoch_budget


@pytest.mark.parametrize("cls", ORACLES)
def test_the_budget_holds_with_a_worker_presumed_dead(cls, tmp_path, monkeypatch):
    clock = Clock()
    monkeypatch.setattr("kt_ext.oracles._workers.time.monotonic", clock)
    oracle = async_oracle(cls, tmp_path, epoch_budget=300, worker_timeout=60)
    idle, trained = run_workers(oracle, 6, clock=clock, dies=("tuner2", 3))
    # The dead worker's epochs are not charged; its trial ran on another.
    assert trained == oracle.epochs_used <= oracle.epoch_budget
    assert "tuner2" not in oracle.tuner_ids
    assert all(trial.status != "RUNNING" for trial in oracle.trials.values())
    cheapest = oracle.min_epochs * oracle.models_per_trial
    assert all(oracle.epoch_budget - used < cheapest for _, used in idle), idle
    assert oracle.epoch_budget - oracle.epochs_used < cheapest


@pytest.mark.parametrize("cls", ORACLES)
def test_what_a_round_is_under_async(cls, tmp_path):
    oracle = async_oracle(cls, tmp_path, epoch_budget=400)
    run_workers(oracle, 5)
    share = oracle.fold_budget / len(oracle._plan.rungs)
    assert len(oracle.rounds) > 1 and all(r.ended for r in oracle.rounds)
    for index, current in enumerate(oracle.rounds):
        trials = [oracle.trials[trial_id] for trial_id in current.trial_ids]
        assert {t.hyperparameters["tuner/round"] for t in trials} == {index}
        assert current.epochs == max(t.hyperparameters["tuner/epochs"] for t in trials)
        # A round takes trials until they are charged one rung's share.
        spent = [oracle.epochs_trained[trial_id] for trial_id in current.trial_ids]
        assert sum(spent[:-1]) < share
    log = getattr(oracle, "narrowing_history", None) or oracle.pruning_log
    rounds = [entry["round"] for entry in log]
    assert rounds == sorted(rounds) and set(rounds) <= set(range(len(oracle.rounds)))


@pytest.mark.parametrize("cls", ORACLES)
def test_a_round_ends_only_when_its_trials_have(cls, tmp_path):
    oracle = async_oracle(cls, tmp_path, epoch_budget=400)
    seen = []
    ended = oracle._end_round

    def end_round(index, completed):
        running = {t.trial_id for t in oracle.ongoing_trials.values()}
        earlier = [r for r in oracle.rounds[:index] if not r.ended]
        seen.append((index, running & set(oracle.rounds[index].trial_ids), earlier))
        ended(index, completed)

    oracle._end_round = end_round
    run_workers(oracle, 6)
    assert [index for index, _, _ in seen] == list(range(len(oracle.rounds)))
    assert all(not running and not earlier for _, running, earlier in seen)


def decisions(oracle):
    trials = {
        trial_id: [trial.hyperparameters.values, trial.status, trial.score]
        for trial_id, trial in sorted(oracle.trials.items())
    }
    logs = getattr(oracle, "narrowing_history", None) or oracle.pruning_log
    return json.loads(json.dumps([trials, logs, oracle.epochs_used]))


@pytest.mark.parametrize("cls", ORACLES)
def test_a_killed_async_search_resumes_to_the_uninterrupted_end(cls, tmp_path):
    settings = {"max_epochs": 9, "epoch_budget": 120, "seed": 3, "promotion": "async"}
    whole = make_oracle(cls, OBJECTIVE, **settings)
    run_oracle(whole, OBJECTIVE, directory=tmp_path / "whole")
    for kill_at in (9, 23, 40):
        killed = make_oracle(cls, OBJECTIVE, **settings)
        killed._set_project_dir(str(tmp_path / "killed"), OBJECTIVE.name)
        if kill_at != 9:
            killed.reload()
        run_oracle(killed, OBJECTIVE, max_trials=kill_at - len(killed.trials))
        trial = killed.create_trial("tuner0")  # cut short after one epoch
        values = trial.hyperparameters.values
        epoch = values["tuner/initial_epoch"]
        score = OBJECTIVE.evaluate(values, epoch + 1)
        killed.update_trial(trial.trial_id, {OBJECTIVE.metric: score}, step=epoch)
        killed.save()  # then the process is killed
    resumed = make_oracle(cls, OBJECTIVE, **settings)
    resumed._set_project_dir(str(tmp_path / "killed"), OBJECTIVE.name)
    resumed.reload()
    assert resumed.promotion == "async"
    run_oracle(resumed, OBJECTIVE)
    difference = first_difference(decisions(whole), decisions(resumed))
    assert difference is None, difference
