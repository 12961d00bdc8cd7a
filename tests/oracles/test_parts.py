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
    # An earlier round not yet ended (asynchronous promotions) may still end.
    assert plan.rounds_json()[0]["ended"] is False
    plan.rounds[0].ended = True
    state = plan.get_state()
    assert state["rounds"][0]["ended"] is True
    assert plan.rounds_json()[0] is state["rounds"][0]  # settled: converted once
    plan.rounds[-1].trial_ids.append("3")
    assert plan.rounds_json()[-1]["trial_ids"] == ["3"]
    resumed = RoundPlan(1, 9, 3)
    resumed.set_state(state, reopen=False)
    assert resumed.rounds == [
        Round(1, [], 3, ["0", "1", "2"], ended=True),
        Round(3, ["1"], 1, full=True),
    ]
    resumed.set_state(state, reopen=True)
    assert resumed.index == 1 and not resumed.rounds[-1].full


def test_the_pruner_stops_the_bottom_quantile_once_it_has_enough_peers():
    from kt_ext.oracles._trial_pruning import TrialPruner

    pruner = TrialPruner(prune_quantile=0.5, min_peers=2)

    def report(trial_id, step, value, last_epoch=3):
        return pruner.report(
            trial_id, step, value, last_epoch=last_epoch, direction="min"
        )

    assert not report("a", 0, 0.1) and not report("b", 0, 0.2)  # too few peers
    assert report("c", 0, 0.9)  # both peers beat it (loss: lower is better)
    assert report("c", 1, 0.0)  # once stopped, stopped at every later epoch
    assert not report("d", 3, 5.0)  # never at its last epoch
    assert report("e", 0, float("nan"))  # a non-finite value always stops
    assert pruner.stopped_at == {"c": 0, "e": 0}
    assert pruner.epochs_trained("c", 0) == 1
    assert pruner.epochs_trained("a", 0) is None
    assert pruner.peers("0").finite_count() == 3


def test_only_a_trials_first_execution_decides():
    from kt_ext.oracles._trial_pruning import TrialPruner

    pruner = TrialPruner(prune_quantile=0.5, min_peers=2)
    for trial_id, value in [("a", 0.9), ("b", 0.8), ("c", 0.85)]:
        pruner.report(trial_id, 0, value, last_epoch=3, direction="max")
    # A second execution of "b" drags its mean to the bottom: not stopped.
    assert not pruner.report("b", 0, 0.0, last_epoch=3, direction="max")
    assert pruner.epoch_values["0"]["b"] == [0.8, 0.0]


def test_a_disabled_pruner_records_nothing():
    from kt_ext.oracles._trial_pruning import TrialPruner

    pruner = TrialPruner(prune_trials=False, min_peers=1)
    for trial_id in "abc":
        assert not pruner.report(trial_id, 0, 0.0, last_epoch=3, direction="max")
    assert pruner.epoch_values == {} and pruner.stopped_at == {}


def test_a_forgotten_run_leaves_the_peers_and_the_state_round_trips():
    import json

    from kt_ext.oracles._trial_pruning import TrialPruner

    pruner = TrialPruner(prune_quantile=0.5, min_peers=1)
    pruner.report("a", 0, 0.9, last_epoch=3, direction="max")
    assert pruner.report("b", 0, 0.1, last_epoch=3, direction="max")
    assert pruner.peers("0").finite_count() == 2
    pruner.forget("b")
    assert pruner.peers("0").finite_count() == 1 and pruner.stopped_at == {}
    pruner.report("b", 1, 0.5, last_epoch=3, direction="max")
    state = json.loads(json.dumps(pruner.get_state()))
    assert list(state) == [
        "prune_trials",
        "prune_quantile",
        "min_peers",
        "epoch_values",
        "stopped_at",
    ]
    resumed = TrialPruner()
    resumed.set_state({**state, "quiet": {}})  # the oracle's other keys
    assert resumed.get_state() == state
    assert resumed.peers("1").finite_count() == 1  # rebuilt from the state


@pytest.mark.parametrize(
    ("name", "value", "error"),
    [
        ("prune_trials", 1, TypeError),
        ("prune_quantile", 0.0, ValueError),
        ("min_peers", 0, ValueError),
    ],
)
def test_a_bad_pruner_setting_names_the_argument(name, value, error):
    from kt_ext.oracles._trial_pruning import TrialPruner

    with pytest.raises(error, match=f"`{name}`.*{value!r}"):
        TrialPruner(**{name: value})


def _completed_trial(trial_id, lr, curve, parent=None, start=0):
    import keras_tuner

    from kt_ext.oracles._persistence import COMPLETED

    hps = keras_tuner.HyperParameters()
    hps.Float("lr", 1e-4, 1e-1, sampling="log")
    hps.values.update({"lr": lr, "tuner/initial_epoch": start})
    if parent is not None:
        hps.values["tuner/trial_id"] = parent
    trial = keras_tuner.engine.trial.Trial(hps, trial_id, status=COMPLETED)
    for step, value in enumerate(curve, start=start):
        trial.metrics.update("acc", value, step=step)
    trial.score = max(curve)
    return trial


def test_a_continued_trials_curve_starts_with_its_parents():
    from kt_ext.oracles._modelled import learning_curve

    parent = _completed_trial("0", 1e-3, [0.1, 0.2, 0.3])
    child = _completed_trial("1", 1e-3, [0.5, 0.6], parent="0", start=3)
    trials = {"0": parent, "1": child}
    assert learning_curve(child, trials, "acc") == pytest.approx(
        [0.1, 0.2, 0.3, 0.5, 0.6]
    )
    orphan = _completed_trial("2", 1e-3, [0.5], parent="9", start=3)
    assert learning_curve(orphan, trials, "acc") == pytest.approx([0.5])
    short = _completed_trial("3", 1e-3, [0.5], parent="0", start=5)
    assert learning_curve(short, {**trials, "3": short}, "acc") == []


def test_the_sampler_ranks_on_the_predicted_final_score():
    import keras_tuner

    from kt_ext.oracles._modelled import ModelSampler

    objective = keras_tuner.Objective("acc", "max")
    # Ahead now but flat, against behind now but still climbing fast.
    flat = _completed_trial("0", 1e-3, [0.60, 0.61, 0.61, 0.61])
    climbing = _completed_trial("1", 1e-2, [0.20, 0.40, 0.52, 0.59])
    trials = {"0": flat, "1": climbing}
    sampler = ModelSampler()
    predict = lambda trial: sampler.predicted(trial, trials, objective, 30)  # noqa: E731
    assert predict(climbing) > predict(flat)
    ranked = sampler.rank([flat, climbing], predict, "max")
    assert [trial.trial_id for trial in ranked] == ["1", "0"]
    few = _completed_trial("2", 1e-3, [0.3, 0.4])  # under 3 epochs: its score
    assert sampler.predicted(few, trials, objective, 30) == pytest.approx(0.4)


def test_the_sampler_draws_with_the_generator_it_is_handed_and_refits_per_key():
    import keras_tuner
    import numpy as np

    from kt_ext.oracles._modelled import ModelSampler
    from kt_ext.oracles._sampling import fit_model, propose

    hps = keras_tuner.HyperParameters()
    hps.Float("lr", 1e-4, 1e-1, sampling="log")
    space = {"lr": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}
    good = [_completed_trial(str(i), 10 ** (-4 + i / 4), [0.1 * i]) for i in range(8)]
    read = []

    def history():
        read.append(1)
        yield good

    sampler = ModelSampler(window=8, gamma=0.25)
    predict = lambda trial: trial.score  # noqa: E731
    sampler.fit(hps, space, (1, 1), history(), predict, "max")
    sampler.fit(hps, space, (1, 1), history(), predict, "max")  # same key
    assert len(read) == 1
    drawn = sampler.draw(hps, space, np.random.default_rng(3), lambda v: True)
    # The same draw as the model fitted by hand, from the same generator.
    percentiles = [i / 7 for i in range(8)]  # each trial's rank in its round
    observations = [
        ({"lr": trial.hyperparameters.values["lr"]}, percentile)
        for trial, percentile in zip(good, percentiles, strict=True)
    ]
    model = fit_model(hps, space, observations, gamma=0.25)
    assert model is not None
    assert drawn == propose(hps, space, model, np.random.default_rng(3))
    sampler.reset()
    sampler.fit(hps, space, (1, 1), history(), predict, "max")
    assert len(read) == 2  # refitted after a reload


def test_the_sampler_draws_again_while_a_draw_was_tried():
    import keras_tuner
    import numpy as np

    from kt_ext.oracles._modelled import ModelSampler

    hps = keras_tuner.HyperParameters()
    hps.Choice("units", [8, 16])
    space = {"units": {"values": [8, 16]}}
    sampler = ModelSampler()
    seen = []

    def is_new(values):
        seen.append(values["units"])
        return len(seen) == 3

    rng = np.random.default_rng(0)
    sampler.draw(hps, space, rng, is_new)
    assert len(seen) == 3
    seen.clear()
    sampler.draw(hps, space, rng, lambda values: seen.append(values) and False)
    assert len(seen) == 20  # then a duplicate is accepted
