"""Coarse-to-fine: the pure narrowing functions and the oracle on a driver."""

from __future__ import annotations

import copy
import json
import math

import keras_tuner as kt
import pytest

from kt_ext.oracles import CoarseToFineOracle
from kt_ext.oracles._coarse_to_fine import narrow_entry, narrow_space, top_count
from kt_ext.oracles._space import initial_space
from kt_ext.testing import get_objective, make_oracle, run_oracle


def _entry(hps, name):
    return next(hp for hp in hps.space if hp.name == name)


@pytest.fixture
def hps():
    hps = kt.HyperParameters()
    hps.Float("learning_rate", 1e-5, 1e-1, sampling="log")
    hps.Float("dropout", 0.0, 0.5)
    hps.Int("units", 32, 512, step=32)
    hps.Choice("activation", ["relu", "tanh", "gelu"])
    hps.Boolean("batch_norm")
    hps.Choice("regularizer", ["none", "l2"])
    with hps.conditional_scope("regularizer", ["l2"]):
        hps.Float("reg_strength", 1e-6, 1e-2, sampling="log")
    return hps


def test_top_count_keeps_at_least_two_and_at_most_all():
    assert [top_count(n, 1 / 3) for n in (0, 1, 2, 3, 9, 10)] == [0, 1, 2, 2, 3, 4]
    assert top_count(10, 1.0) == 10


def test_log_range_narrows_in_log_space(hps):
    lr = _entry(hps, "learning_rate")
    entry = {"min": 1e-5, "max": 1e-1, "sampling": "log"}
    exact = narrow_entry(lr, entry, [1e-3, 1e-2], margin=0.0, min_width=0.0)
    assert exact["min"] == pytest.approx(1e-3)
    assert exact["max"] == pytest.approx(1e-2)
    # A margin of a quarter of the width (one decade of four) on each side.
    wide = narrow_entry(lr, entry, [1e-3, 1e-2], margin=0.25, min_width=0.0)
    assert wide["min"] == pytest.approx(1e-4)
    assert wide["max"] == pytest.approx(1e-1)
    assert wide["sampling"] == "log"


def test_linear_range_narrows_and_is_clipped_to_the_original(hps):
    dropout = _entry(hps, "dropout")
    entry = {"min": 0.0, "max": 0.5, "sampling": "linear"}
    new = narrow_entry(dropout, entry, [0.1, 0.2], margin=0.1, min_width=0.0)
    assert new["min"] == pytest.approx(0.05)
    assert new["max"] == pytest.approx(0.25)
    edge = narrow_entry(dropout, entry, [0.0, 0.45], margin=0.5, min_width=0.0)
    assert (edge["min"], edge["max"]) == (0.0, 0.5)


def test_int_with_step_stays_on_the_grid_and_keeps_the_top_values(hps):
    units = _entry(hps, "units")
    entry = {"min": 32, "max": 512, "sampling": "linear"}
    new = narrow_entry(units, entry, [128, 192], margin=0.1, min_width=0.0)
    assert isinstance(new["min"], int) and isinstance(new["max"], int)
    assert new["min"] % 32 == 0 and new["max"] % 32 == 0
    assert 32 < new["min"] <= 128 and 192 <= new["max"] < 512


def test_collapsed_range_keeps_the_minimum_width(hps):
    lr = _entry(hps, "learning_rate")
    entry = {"min": 1e-5, "max": 1e-1, "sampling": "log"}
    new = narrow_entry(lr, entry, [1e-3, 1e-3, 1e-3], margin=0.0, min_width=0.25)
    assert math.log10(new["max"] / new["min"]) == pytest.approx(1.0)
    assert new["min"] < 1e-3 < new["max"]
    # At the edge of the original range the window shifts inside it.
    edge = narrow_entry(lr, entry, [1e-1], margin=0.0, min_width=0.25)
    assert edge["max"] == pytest.approx(1e-1)
    assert edge["min"] == pytest.approx(1e-2)


def test_choices_keep_the_values_seen_in_their_order(hps):
    activation = _entry(hps, "activation")
    entry = {"values": ["relu", "tanh", "gelu"]}
    new = narrow_entry(activation, entry, ["gelu", "relu"], margin=0, min_width=0)
    assert new == {"values": ["relu", "gelu"]}
    unseen = narrow_entry(
        activation, {"values": ["tanh"]}, ["relu"], margin=0, min_width=0
    )
    assert unseen == {"values": ["relu"]}
    assert narrow_entry(activation, entry, [], margin=0, min_width=0) == entry


def test_conditional_entries_narrow_over_active_trials_only(hps):
    space = initial_space(hps)
    inactive = [
        {"learning_rate": 1e-3, "regularizer": "none", "batch_norm": True},
        {"learning_rate": 2e-3, "regularizer": "none", "batch_norm": True},
    ]
    new = narrow_space(hps, space, inactive, margin=0.0, min_width=0.0)
    assert new["reg_strength"] == space["reg_strength"]
    assert new["batch_norm"] == {"values": [True]}
    assert new["regularizer"] == {"values": ["none"]}
    # A stale value of an inactive entry does not count.
    mixed = [
        {"learning_rate": 1e-3, "regularizer": "l2", "reg_strength": 1e-4},
        {"learning_rate": 1e-3, "regularizer": "none", "reg_strength": 1e-2},
    ]
    new = narrow_space(hps, space, mixed, margin=0.0, min_width=0.1)
    assert new["reg_strength"]["max"] < 1e-3


def test_narrowing_returns_a_new_space_and_mutates_nothing(hps):
    space = initial_space(hps)
    before_space = copy.deepcopy(space)
    before_hps = [repr(hp) for hp in hps.space]
    top = [{"learning_rate": 1e-3, "dropout": 0.1, "units": 64, "activation": "relu"}]
    new = narrow_space(hps, space, top, margin=0.1, min_width=0.05)
    assert new is not space and new != space
    assert space == before_space
    assert [repr(hp) for hp in hps.space] == before_hps
    json.dumps(new)  # plain JSON


def test_ranges_close_in_on_the_optimum_round_after_round():
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=27, seed=0)
    result = run_oracle(oracle, objective)
    history = oracle.narrowing_history
    assert [h["round"] for h in history] == list(range(len(history)))
    assert [h["epochs"] for h in history[:4]] == [1, 3, 9, 27]
    decades = [
        math.log10(
            h["space"]["learning_rate"]["max"] / h["space"]["learning_rate"]["min"]
        )
        for h in history
    ]
    assert decades[-1] < decades[0] < 4.0
    for h in history[1:]:
        lr = h["space"]["learning_rate"]
        assert lr["min"] <= 3e-3 <= lr["max"]
    assert abs(math.log10(result.best_values["learning_rate"] / 3e-3)) < 0.5
    assert result.total_epochs <= oracle.epoch_budget
    assert result.total_epochs >= 0.9 * oracle.epoch_budget


@pytest.mark.parametrize("budget", [10, 40, 100])
def test_never_exceeds_the_epoch_budget(budget):
    objective = get_objective("mlp", seed=1)
    oracle = make_oracle(
        CoarseToFineOracle, objective, max_epochs=9, epoch_budget=budget, seed=2
    )
    assert run_oracle(oracle, objective).total_epochs <= budget


def test_failed_trials_are_never_among_the_top():
    objective = get_objective("lr_only", seed=0, diverge_above=1e-2)
    oracle = make_oracle(
        CoarseToFineOracle,
        objective,
        max_epochs=9,
        seed=1,
        max_consecutive_failed_trials=100,
    )
    result = run_oracle(oracle, objective)
    failed = {t.trial_id for t in result.trials if t.status != "COMPLETED"}
    assert failed
    for h in oracle.narrowing_history:
        assert not failed & set(h["top_trial_ids"])
        assert h["best_score"] is None or math.isfinite(h["best_score"])


def test_seed_zero_is_reproducible():
    objective = get_objective("mlp", seed=0)

    def values_of_a_run():
        oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=9, seed=0)
        return [t.values for t in run_oracle(oracle, objective).trials]

    assert values_of_a_run() == values_of_a_run()


def test_reload_in_the_middle_of_a_round_continues_exactly(tmp_path):
    objective = get_objective("mlp", seed=2)
    full = make_oracle(
        CoarseToFineOracle, objective, max_epochs=9, initial_trials=9, seed=3
    )
    expected = [t.values for t in run_oracle(full, objective).trials]

    first = make_oracle(
        CoarseToFineOracle, objective, max_epochs=9, initial_trials=9, seed=3
    )
    head = run_oracle(first, objective, max_trials=12, directory=tmp_path)
    assert len(first.rounds) == 2 and len(first.narrowing_history) == 1
    state = json.loads(json.dumps(first.get_state()))
    second = make_oracle(
        CoarseToFineOracle, objective, max_epochs=9, initial_trials=9, seed=3
    )
    second._set_project_dir(str(tmp_path), objective.name)
    second.reload()
    assert second.get_state()["narrowing_history"] == state["narrowing_history"]
    tail = run_oracle(second, objective)
    assert [t.values for t in head.trials + tail.trials] == expected
    assert second.narrowing_history == full.narrowing_history


def test_idle_only_while_other_workers_train_the_round(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(
        CoarseToFineOracle, objective, max_epochs=3, initial_trials=3, seed=0
    )
    oracle._set_project_dir(str(tmp_path), "idle")
    for _ in range(2):
        trial = oracle.create_trial("worker0")
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5}, step=0)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
    # One slot left in round 0: worker1 takes it, worker0 must wait.
    last = oracle.create_trial("worker1")
    assert last.status == "RUNNING"
    assert oracle.create_trial("worker0").status == "IDLE"
    oracle.update_trial(last.trial_id, {"val_accuracy": 0.6}, step=0)
    last.status = "COMPLETED"
    oracle.end_trial(last)
    assert oracle.create_trial("worker0").status == "RUNNING"
    assert len(oracle.narrowing_history) == 1


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"initial_trials": 1}, ValueError, ["initial_trials", "1"]),
        ({"initial_trials": 2.0}, TypeError, ["initial_trials", "2.0"]),
        ({"final_trials": 0}, ValueError, ["final_trials", "0"]),
        ({"top_fraction": 0}, ValueError, ["top_fraction", "0"]),
        ({"top_fraction": "a"}, TypeError, ["top_fraction", "'a'"]),
        ({"margin": -0.1}, ValueError, ["margin", "-0.1"]),
        ({"min_width": 1.5}, ValueError, ["min_width", "1.5"]),
        ({"max_epochs": 0}, ValueError, ["max_epochs", "0"]),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, error, names):
    with pytest.raises(error) as raised:
        CoarseToFineOracle(objective="val_accuracy", **kwargs)
    for name in names:
        assert name in str(raised.value)


def test_a_single_rung_search_runs_with_the_defaults():
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=1, max_trials=6)
    assert oracle.initial_trials == 2
    assert len(run_oracle(oracle, objective).trials) == 6


def test_the_recommendation_is_the_best_measured_score_not_a_prediction(tmp_path):
    # Regression: after the trust merge, get_best_trials ranked on the
    # curve fit that chooses which trials continue, and recommended steep
    # short curves whose extrapolation never came true (synthetic 1.39x ->
    # 3.66x Hyperband's median regret).
    oracle = CoarseToFineOracle(
        objective=kt.Objective("val_accuracy", "max"),
        max_epochs=27,
        min_epochs=3,
        initial_trials=2,
        seed=0,
    )
    oracle._set_project_dir(str(tmp_path), "recommend")
    oracle.update_space(get_objective("lr_only").hyperparameters())
    curves = {"steep": [0.3, 0.5, 0.65], "flat": [0.7, 0.7, 0.7]}
    ids = {}
    for name, curve in curves.items():
        trial = oracle.create_trial("t")
        for step, score in enumerate(curve):
            oracle.update_trial(trial.trial_id, {"val_accuracy": score}, step=step)
        trial.status = "COMPLETED"
        oracle.end_trial(trial)
        ids[name] = trial.trial_id
    # The fit ranks the steep curve first (it predicts more at epoch 27) ...
    assert oracle._ranked(list(ids.values()))[0].trial_id == ids["steep"]
    # ... but the recommendation is what was measured.
    assert oracle.get_best_trials(1)[0].trial_id == ids["flat"]
