"""Rank-correlation pruning: the decision rules, and the oracle on synthetic data."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest
from keras_tuner.engine.trial import TrialStatus

from kt_ext.oracles import RankPruningOracle
from kt_ext.oracles import _rank_rules as rules
from kt_ext.testing import get_objective, make_oracle, run_oracle

# -- pure rules --------------------------------------------------------------


def test_spearman_is_nan_on_constant_columns_and_too_few_points():
    assert math.isnan(rules.spearman([0.5] * 10, list(range(10))).rho)
    assert math.isnan(rules.spearman(list(range(10)), [1.0] * 10).p_value)
    assert math.isnan(rules.spearman([0.1, 0.2], [1.0, 2.0]).rho)
    assert math.isnan(rules.spearman([0.1, 0.2, math.nan], [1.0, 2.0, 3.0]).rho)


def test_spearman_handles_ties_and_indicators():
    evidence = rules.spearman([0, 0, 0, 1, 1, 1], [1.0, 2.0, 2.0, 5.0, 5.0, 6.0])
    assert evidence.rho > 0.8 and evidence.p_value < 0.05 and evidence.n == 6


def test_nan_evidence_takes_no_decision():
    nan = rules.Evidence(math.nan, math.nan, 30)
    assert not rules.is_influential(nan, rho_threshold=0.3, alpha=0.05)
    assert not rules.is_quiet(nan, freeze_rho=0.2, freeze_p_value=0.1)
    assert (
        rules.values_to_remove({"a": nan, "b": nan}, rho_threshold=0.3, alpha=1) == []
    )


def test_narrowing_cuts_only_the_bad_side_with_a_margin():
    positions = [0.1, 0.2, 0.3, 0.6, 0.7, 0.8]
    goodness = [0.0, 1.0, 2.0, 3.0, 4.0, 5.0]
    low, high = rules.narrowed_bounds(
        positions, goodness, 0.9, (0.05, 0.9), top_fraction=0.5, margin=0.1
    )
    assert (low, high) == pytest.approx((0.5, 0.9))
    low, high = rules.narrowed_bounds(
        positions, goodness[::-1], -0.9, (0.05, 0.9), top_fraction=0.5, margin=0.1
    )
    assert (low, high) == pytest.approx((0.05, 0.4))


def test_narrowing_stays_inside_the_current_range():
    low, high = rules.narrowed_bounds(
        [0.1, 0.2, 0.3],
        [0.0, 1.0, 2.0],
        1.0,
        (0.25, 0.28),
        top_fraction=0.3,
        margin=0.5,
    )
    assert 0.25 <= low <= high <= 0.28


def test_a_bad_choice_value_is_removed_but_never_the_last():
    bad = rules.Evidence(-0.7, 1e-6, 60)
    good = rules.Evidence(0.4, 1e-3, 60)
    assert rules.values_to_remove(
        {"adam": good, "sgd": bad}, rho_threshold=0.3, alpha=0.05
    ) == ["sgd"]
    assert rules.values_to_remove(
        {"sgd": bad, "x": bad}, rho_threshold=0.3, alpha=0.05
    ) == ["sgd"]
    assert rules.values_to_remove({"sgd": bad}, rho_threshold=0.3, alpha=0.05) == []


def test_choice_p_values_are_corrected_for_the_number_of_values():
    borderline = rules.Evidence(-0.5, 0.03, 60)
    neutral = rules.Evidence(0.1, 0.5, 60)
    evidence = {"a": borderline, "b": neutral, "c": neutral}
    assert rules.values_to_remove(evidence, rho_threshold=0.3, alpha=0.05) == []


def test_only_learning_rate_matters_in_pure_rules():
    rng = np.random.default_rng(0)
    lr = rng.uniform(0, 1, 60)  # unit-cube learning rate; best at 0.74
    units = rng.uniform(0, 1, 60)
    goodness = -((lr - 0.74) ** 2) + 0.001 * rng.normal(size=60)
    lr_evidence = rules.spearman(lr, goodness)
    units_evidence = rules.spearman(units, goodness)
    assert rules.is_influential(lr_evidence, rho_threshold=0.3, alpha=0.05)
    assert rules.is_quiet(units_evidence, freeze_rho=0.2, freeze_p_value=0.1)
    low, high = rules.narrowed_bounds(
        lr, goodness, lr_evidence.rho, (0.0, 1.0), top_fraction=1 / 3, margin=0.1
    )
    assert low < 0.74 < high and high - low < 1.0


def test_trial_stopping_rule():
    peers = [0.5, 0.6, 0.7, 0.8]
    kwargs = {"direction": "max", "quantile": 0.25, "min_peers": 4}
    assert rules.should_stop(0.1, peers, **kwargs)
    assert not rules.should_stop(0.9, peers, **kwargs)
    assert not rules.should_stop(0.65, peers, **kwargs)
    assert not rules.should_stop(0.1, peers[:3], **kwargs)  # too few peers
    assert rules.should_stop(math.nan, peers, **kwargs)
    assert rules.should_stop(0.9, peers, direction="min", quantile=0.25, min_peers=4)
    # The best at an epoch is never stopped, whatever the quantile.
    assert not rules.should_stop(0.8, peers, direction="max", quantile=1.0, min_peers=1)


@pytest.mark.parametrize("direction", ["max", "min"])
def test_sorted_peers_rank_a_trial_as_the_rule_over_all_peers_does(direction):
    rng = np.random.default_rng(0)
    peers = rules.PeerValues()
    means: dict[str, float] = {}
    for step in range(400):
        trial_id = str(rng.integers(60))
        # Ties, repeats (another execution) and non-finite values included.
        value = float(rng.choice([0.5, math.nan, math.inf, round(rng.random(), 2)]))
        peers.set(trial_id, value)
        means[trial_id] = value
        others = [v for t, v in means.items() if t != trial_id and math.isfinite(v)]
        finite = peers.finite_count() - (1 if math.isfinite(value) else 0)
        kwargs = {"quantile": 0.25, "min_peers": 5}
        assert finite == len(others)
        assert rules.stop_by_rank(
            value, peers.better_than(value, direction), finite, **kwargs
        ) == rules.should_stop(value, others, direction=direction, **kwargs), step


# -- the oracle --------------------------------------------------------------


def _actions(oracle):
    return {(entry["name"], entry["action"]) for entry in oracle.pruning_log}


def test_only_learning_rate_matters_freezes_the_rest_and_narrows_it():
    objective = get_objective("lr_only", seed=1)
    oracle = make_oracle(
        RankPruningOracle, objective, max_epochs=27, seed=1, freeze_rounds=1
    )
    run_oracle(oracle, objective)
    actions = _actions(oracle)
    assert {("units", "freeze"), ("dropout", "freeze"), ("activation", "freeze")} <= (
        actions
    )
    assert ("learning_rate", "narrow") in actions
    lr = oracle.space["learning_rate"]
    assert lr["min"] < 3e-3 < lr["max"]
    assert math.log10(lr["max"] / lr["min"]) < 2.5  # from 4 decades
    for entry in oracle.pruning_log:
        assert set(entry) == {
            "round",
            "name",
            "rho",
            "p_value",
            "action",
            "before",
            "after",
        }
    # The user's search space is untouched.
    assert oracle.hyperparameters.get_config() == (
        objective.hyperparameters().get_config()
    )


def test_a_clearly_bad_choice_value_is_removed():
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(RankPruningOracle, objective, max_epochs=27, seed=0)
    run_oracle(oracle, objective)
    removed = [
        entry
        for entry in oracle.pruning_log
        if entry["name"] == "optimizer" and entry["action"] == "remove"
    ]
    assert removed and "sgd" in removed[0]["before"]["values"]
    assert "sgd" not in removed[0]["after"]["values"]
    assert "sgd" not in oracle.space["optimizer"]["values"]


def test_no_decision_on_too_few_trials():
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(
        RankPruningOracle,
        objective,
        max_epochs=9,
        epoch_budget=150,
        seed=0,
        min_trials=1000,
    )
    run_oracle(oracle, objective)
    assert oracle.pruning_log == []


def test_save_and_reload_mid_search_continues_identically(tmp_path):
    """get_state -> JSON -> a fresh oracle's set_state, then the same search."""
    objective = get_objective("mlp", seed=2)
    kwargs = {"max_epochs": 9, "epoch_budget": 150, "seed": 3}
    oracle = make_oracle(RankPruningOracle, objective, **kwargs)
    run_oracle(oracle, objective, max_trials=60, directory=tmp_path / "a")
    assert oracle.pruning_log and oracle.stopped_trials
    shutil.copytree(tmp_path / "a", tmp_path / "b")

    state = oracle.get_state()
    reloaded = make_oracle(RankPruningOracle, objective, **kwargs)
    reloaded._set_project_dir(str(tmp_path / "b"), objective.name)
    reloaded.reload()  # trials from their files, then set_state(oracle.json)
    for key in (
        "rank_pruning",
        "space",
        "rounds",
        "rng",
        "epochs_trained",
        "pruning_log",
    ):
        assert reloaded.get_state()[key] == state[key]

    original_rest = run_oracle(oracle, objective)
    reloaded_rest = run_oracle(reloaded, objective)
    assert [t.values for t in reloaded_rest.trials] == [
        t.values for t in original_rest.trials
    ]
    assert [t.epochs_trained for t in reloaded_rest.trials] == [
        t.epochs_trained for t in original_rest.trials
    ]
    assert reloaded.pruning_log == oracle.pruning_log


def _scripted_oracle(tmp_path, **kwargs):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(
        RankPruningOracle,
        objective,
        min_epochs=9,
        max_epochs=9,
        max_trials=50,
        seed=0,
        **kwargs,
    )
    oracle._set_project_dir(str(tmp_path), "scripted")
    return oracle


def _run_curve(oracle, tuner_id, curve):
    trial = oracle.create_trial(tuner_id)
    trained = 0
    for epoch, value in enumerate(curve):
        trained += 1
        answer = oracle.update_trial(trial.trial_id, {"val_accuracy": value}, epoch)
        if answer.status == TrialStatus.STOPPED:
            break
    trial.status = TrialStatus.COMPLETED
    oracle.end_trial(trial)
    return trial.trial_id, trained


def test_trial_pruning_stops_a_losing_trial_and_never_the_best(tmp_path):
    oracle = _scripted_oracle(tmp_path, prune_quantile=0.25, min_peers=4)
    for index, top in enumerate([0.5, 0.6, 0.7, 0.8]):
        _, trained = _run_curve(oracle, f"t{index}", np.linspace(0.2, top, 9))
        assert trained == 9  # too few peers, then never bottom
    best_id, trained = _run_curve(oracle, "best", np.linspace(0.5, 0.99, 9))
    assert trained == 9
    loser_id, trained = _run_curve(oracle, "loser", np.linspace(0.1, 0.15, 9))
    assert trained == 1
    assert oracle.stopped_trials == {loser_id: 0}
    loser = oracle.get_trial(loser_id)
    assert loser.status == TrialStatus.COMPLETED
    assert loser.score == pytest.approx(0.1)
    assert oracle.epochs_trained[loser_id] == 1
    assert oracle.get_best_trials(1)[0].trial_id == best_id


def test_a_stopped_trial_says_so_in_its_message_and_the_state(tmp_path):
    oracle = _scripted_oracle(tmp_path, prune_quantile=0.25, min_peers=3)
    for index, top in enumerate([0.5, 0.6, 0.7]):
        _run_curve(oracle, f"t{index}", np.linspace(0.2, top, 9))
    loser_id, trained = _run_curve(oracle, "loser", [0.3, 0.3, 0.1, 0.1, 0.1])
    assert trained == 3  # ranked bottom at the third epoch
    loser = oracle.get_trial(loser_id)
    assert loser.status == TrialStatus.COMPLETED
    assert loser.message == "stopped early at epoch 3"
    assert all(
        trial.message is None
        for trial in oracle.trials.values()
        if trial.trial_id != loser_id
    )
    reloaded = _scripted_oracle(tmp_path, prune_quantile=0.25, min_peers=3)
    reloaded.reload()
    assert reloaded.stopped_trials == {loser_id: 2}
    assert reloaded.get_trial(loser_id).message == "stopped early at epoch 3"


def test_trial_pruning_can_be_switched_off(tmp_path):
    oracle = _scripted_oracle(tmp_path, prune_trials=False, min_peers=1)
    for index in range(3):
        _, trained = _run_curve(oracle, f"t{index}", [0.9] * 9)
    _, trained = _run_curve(oracle, "loser", [0.1] * 9)
    assert trained == 9 and oracle.stopped_trials == {}


@pytest.mark.parametrize(
    ("name", "value"),
    [("alpha", 0.0), ("min_trials", 2), ("prune_quantile", 1.5), ("margin", -0.1)],
)
def test_bad_knobs_name_the_argument(name, value):
    with pytest.raises(ValueError, match=f"`{name}`"):
        RankPruningOracle(objective="val_loss", **{name: value})


def test_a_released_trials_epochs_leave_its_peers(tmp_path, monkeypatch):
    now = [1000.0]
    monkeypatch.setattr("kt_ext.oracles._workers.time.monotonic", lambda: now[0])
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(
        RankPruningOracle, objective, max_epochs=3, seed=0, worker_timeout=60
    )
    oracle._set_project_dir(str(tmp_path), "released")
    trial = oracle.create_trial("dead")
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.1}, step=0)
    assert trial.trial_id in oracle._epoch_values["0"]
    now[0] += 61
    assert oracle.release_silent_workers() == [trial.trial_id]
    assert trial.trial_id not in oracle._epoch_values["0"]
    assert oracle._peer_values("0").finite_count() == 0


# -- issue item 5: decisions a user can follow ---------------------------------


def _inside(entry, value):
    if "values" in entry:
        return value in entry["values"]
    return entry["min"] <= value <= entry["max"]


@pytest.mark.parametrize("task,seed", [("mlp", 3), ("lr_only", 4)])
def test_logged_decisions_are_supported_and_rounds_sample_inside_them(task, seed):
    from kt_ext.oracles._space import initial_space

    objective = get_objective(task, seed=0)
    oracle = make_oracle(RankPruningOracle, objective, max_epochs=27, seed=seed)
    run_oracle(oracle, objective)
    assert oracle.pruning_log
    for entry in oracle.pruning_log:
        evidence = rules.Evidence(entry["rho"], entry["p_value"], 0)
        if entry["action"] == "narrow":
            assert rules.is_influential(
                evidence, rho_threshold=oracle.rho_threshold, alpha=oracle.alpha
            )
        elif entry["action"] == "remove":
            corrected = oracle.alpha / len(entry["before"]["values"])
            assert evidence.rho < 0 and rules.is_influential(
                evidence, rho_threshold=oracle.rho_threshold, alpha=corrected
            )
        else:
            assert rules.is_quiet(
                evidence,
                freeze_rho=oracle.freeze_rho,
                freeze_p_value=oracle.freeze_p_value,
            )
    # Every trial of round r (continued or fresh) lies in the space that all
    # decisions of rounds before r leave.
    space = initial_space(oracle.hyperparameters)
    for index, current in enumerate(oracle.rounds):
        for trial_id in current.trial_ids:
            hps = oracle.trials[trial_id].hyperparameters
            for name, entry in space.items():
                if name in hps.values and hps.is_active(name):
                    assert _inside(entry, hps.values[name]), (index, name)
        for decision in oracle.pruning_log:
            if decision["round"] == index:
                assert decision["before"] == space[decision["name"]]
                space[decision["name"]] = decision["after"]
