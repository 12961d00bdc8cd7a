"""The parts an oracle is composed of, each alone (issue 20)."""

from __future__ import annotations

import pytest

from kt_ext.oracles._budget import EpochBudget

_FOLDS = {"cv": "2", "rows": 4, "seed": 0, "folds": [{"test": [0, 1]}] * 2}


def test_the_budget_charges_planned_epochs_times_the_models():
    budget = EpochBudget(20, None)
    budget.executions_per_trial = 2
    values = {"tuner/epochs": 3, "tuner/initial_epoch": 1}
    assert budget.cost(values) == 4
    budget.charge("0", 2)
    budget.charge("1", 3)
    assert budget.used == 10 and budget.affordable(10) and not budget.affordable(11)
    budget.charge("1", 1)  # refunded: stopped early
    assert budget.used == 6


def test_a_retry_is_charged_again_unless_it_was_cut_short():
    budget = EpochBudget(7, None)
    budget.charge("0", 3)
    assert budget.charge_retry("0", 3) and budget.trained["0"] == 6
    assert not budget.charge_retry("0", 3)  # 9 > 7
    budget.interrupted.add("0")
    assert budget.charge_retry("0", 3) and budget.trained["0"] == 6
    assert not budget.interrupted


def test_a_default_budget_grows_with_the_folds_a_given_one_does_not():
    default, given = EpochBudget(30, 30), EpochBudget(50, None)
    for budget in (default, given):
        budget.set_folds(2, _FOLDS)
    assert (default.limit, given.limit) == (60, 50)
    assert default.fold_budget == 30 and default.models_per_trial == 2
    assert default.limit_for({"cv_folds": 3}) == 90
    assert given.limit_for({"cv_folds": 3}) == 50


def test_the_budget_state_round_trips_and_a_resumed_limit_is_kept():
    budget = EpochBudget(40, None)
    budget.set_folds(2, _FOLDS)
    budget.executions_per_trial = 3
    budget.charge("0", 2)
    state = {**budget.get_state(), "epochs_trained": dict(budget.trained)}
    assert state["epoch_budget"] == 40 and state["cv"] == _FOLDS
    resumed = EpochBudget(100, None)
    resumed.set_state(state)
    assert resumed.used == budget.used == 12 == EpochBudget.spent(state)
    assert resumed.limit == 100 and resumed.grew(state)
    assert not EpochBudget(40, None).grew(state)


def test_a_budget_below_one_trial_names_the_argument():
    budget = EpochBudget(5, None)
    budget.check(5)
    budget.set_folds(2, _FOLDS)
    with pytest.raises(ValueError, match=r"`epoch_budget` must be at least 10.*got 5"):
        budget.check(5)


def test_the_journal_appends_changes_and_snapshots_after_a_restart(tmp_path):
    from kt_ext.oracles import _journal
    from kt_ext.oracles._persistence import StateJournal

    path = str(tmp_path / "oracle.json")
    journal = StateJournal({("order",): _journal.APPEND, ("epochs",): "per_trial"})

    def save(order, epochs):
        journal.save(
            path,
            {"order": order, "epochs": epochs},
            started=order,
            ended=[],
            busy=set(),
            hashes={},
            tried=set(),
        )

    save(["0"], {"0": 1})
    first = journal.generation
    save(["0", "1"], {"0": 1, "1": 3})
    journal.touch("0")
    save(["0", "1"], {"0": 2, "1": 3})  # "0" changed outside its own start
    assert journal.generation == first
    assert len((tmp_path / _journal.JOURNAL_NAME).read_text().splitlines()) == 2
    assert _journal.read_state(path)["epochs"] == {"0": 2, "1": 3}
    journal.restart()
    save(["0", "1"], {"1": 3})  # an entry removed: a whole snapshot
    assert journal.generation != first
    assert _journal.read_state(path)["epochs"] == {"1": 3}


def test_the_release_names_workers_silent_too_long_once(monkeypatch):
    from kt_ext.oracles._workers import WorkerRelease

    now = [100.0]
    monkeypatch.setattr("kt_ext.oracles._workers.time.monotonic", lambda: now[0])
    release = WorkerRelease(60)
    release.hear("w1")
    release.hear_from("7", {"w2": type("T", (), {"trial_id": "7"})()})
    now[0] += 61
    release.hear("w1")
    assert release.silent(["w2", "w1", "w3"]) == [("w2", 61.0)]
    assert release.silent(["w2"]) == []  # forgotten, then counted from now
    assert WorkerRelease(None).silent(["w1"]) == []


def test_the_round_plan_keeps_its_rounds_and_reopens_the_last():
    from kt_ext.oracles._plan import Round, RoundPlan

    plan = RoundPlan(1, 9, 3)
    assert plan.rungs == [1, 3, 9] and plan.index == -1
    assert [plan.epochs_of(i) for i in range(5)] == [1, 3, 9, 9, 9]
    plan.start(Round(epochs=1, carry=[], new=3, trial_ids=["0", "1", "2"]))
    plan.start(Round(epochs=3, carry=["1"], new=1, full=True))
    state = plan.get_state()
    assert plan.rounds_json()[0] is state["rounds"][0]  # settled: converted once
    plan.rounds[-1].trial_ids.append("3")
    assert plan.rounds_json()[-1]["trial_ids"] == ["3"]
    resumed = RoundPlan(1, 9, 3)
    resumed.set_state(state, reopen=False)
    assert resumed.rounds == [
        Round(1, [], 3, ["0", "1", "2"]),
        Round(3, ["1"], 1, full=True),
    ]
    resumed.set_state(state, reopen=True)
    assert resumed.index == 1 and not resumed.rounds[-1].full
