"""Tests of the synthetic multi-fidelity objectives."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest

from kt_ext.testing import (
    OBJECTIVES,
    LearningRateObjective,
    MLPObjective,
    SyntheticObjective,
    die_after,
    get_objective,
)
from kt_ext.testing._curves import (
    canonical,
    final_score,
    learning_curve,
    learning_rate_tau,
    log_bowl,
    stable_normal,
)

NAMES = sorted(OBJECTIVES)


def random_configs(
    objective: SyntheticObjective, count: int, seed: int = 0
) -> list[dict]:
    """Uniform draws in KT's unit-cube view of the space, active entries only."""
    rng = np.random.default_rng(seed)
    space = objective.hyperparameters().space
    configs = []
    for _ in range(count):
        values: dict = {}
        for entry in space:
            if all(condition.is_active(values) for condition in entry.conditions):
                values[entry.name] = entry.prob_to_value(rng.uniform())
        configs.append(values)
    return configs


def better(objective: SyntheticObjective, a: float, b: float) -> bool:
    return a > b if objective.direction == "max" else a < b


def test_registry_creates_each_objective_with_its_arguments():
    assert OBJECTIVES["lr_only"] is LearningRateObjective
    assert OBJECTIVES["mlp"] is MLPObjective
    objective = get_objective("mlp", seed=7, noise=0.2, diverge_above=0.05)
    assert isinstance(objective, MLPObjective)
    assert (objective.seed, objective.noise, objective.diverge_above) == (7, 0.2, 0.05)


def test_unknown_name_is_a_value_error_naming_it():
    with pytest.raises(ValueError, match="'nope'"):
        get_objective("nope")


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"noise": -0.1}, ValueError, "`noise`"),
        ({"noise": math.nan}, ValueError, "`noise`"),
        ({"seed": 1.5}, TypeError, "`seed`"),
        ({"diverge_above": 0.0}, ValueError, "`diverge_above`"),
    ],
)
def test_bad_arguments_are_rejected(kwargs, error, match):
    with pytest.raises(error, match=match):
        LearningRateObjective(**kwargs)


@pytest.mark.parametrize("epoch", [0, -1, 1.5, True])
def test_epoch_must_be_a_positive_int(epoch):
    with pytest.raises(ValueError, match="`epoch`"):
        LearningRateObjective().evaluate({"learning_rate": 1e-3}, epoch)


@pytest.mark.parametrize("name", NAMES)
def test_objective_and_space_match_the_declared_metric(name):
    objective = get_objective(name)
    assert objective.objective.name == objective.metric
    assert objective.objective.direction == objective.direction
    first, second = objective.hyperparameters(), objective.hyperparameters()
    assert first is not second
    first.Fixed("extra", 1)
    assert "extra" not in second
    assert set(objective.optimum) <= {entry.name for entry in second.space}


@pytest.mark.parametrize("name", NAMES)
def test_optimum_beats_random_configurations(name):
    objective = get_objective(name, noise=0.0)
    assert objective.final_score(objective.optimum) == pytest.approx(
        objective.best_score
    )
    at_optimum = objective.evaluate(objective.optimum, 27)
    for values in random_configs(objective, 300):
        assert better(objective, at_optimum, objective.evaluate(values, 27))
        assert better(objective, objective.best_score, objective.final_score(values))


@pytest.mark.parametrize("name", NAMES)
def test_optimum_beats_nearly_all_random_configurations_despite_noise(name):
    objective = get_objective(name, noise=0.01, seed=3)
    at_optimum = objective.evaluate(objective.optimum, 27)
    scores = [
        objective.evaluate(values, 27) for values in random_configs(objective, 200)
    ]
    beaten = sum(better(objective, at_optimum, score) for score in scores)
    assert beaten >= 180


@pytest.mark.parametrize("name", NAMES)
def test_noise_free_curves_never_get_worse_and_saturate(name):
    objective = get_objective(name, noise=0.0)
    for values in random_configs(objective, 30, seed=1):
        curve = [objective.evaluate(values, epoch) for epoch in range(1, 31)]
        assert not any(better(objective, a, b) for a, b in itertools.pairwise(curve))
        assert better(objective, curve[-1], curve[0])
        assert better(objective, curve[0], objective.start_score)
        final = objective.final_score(values)
        assert not any(better(objective, score, final) for score in curve)
    late = objective.evaluate(objective.optimum, 200)
    assert late == pytest.approx(objective.best_score, abs=1e-9)
    assert objective.evaluate(objective.optimum, 100) == pytest.approx(late, abs=1e-6)


def test_higher_learning_rate_learns_faster_but_ends_worse():
    objective = LearningRateObjective(noise=0.0)
    best, high = {"learning_rate": 3e-3}, {"learning_rate": 3e-2}
    assert objective.evaluate(high, 1) > objective.evaluate(best, 1)
    assert objective.evaluate(high, 27) < objective.evaluate(best, 27)


def test_learning_rate_only_objective_ignores_its_inert_entries():
    objective = LearningRateObjective(noise=0.0)
    assert set(objective.inert) == {"units", "dropout", "activation"}
    base = {"learning_rate": 2e-3, "units": 16, "dropout": 0.0, "activation": "relu"}
    variants = [
        {**base, "units": 256},
        {**base, "dropout": 0.5},
        {**base, "activation": "gelu"},
        {"learning_rate": 2e-3},
    ]
    for epoch in (1, 5, 30):
        expected = objective.evaluate(base, epoch)
        assert [objective.evaluate(v, epoch) for v in variants] == [expected] * 4
    assert objective.evaluate({**base, "learning_rate": 2e-2}, 30) != expected


def test_every_mlp_entry_matters():
    objective = MLPObjective(noise=0.0)
    changes = {
        "learning_rate": 1e-4,
        "units": 16,
        "num_layers": 4,
        "dropout": 0.6,
        "optimizer": "rmsprop",
        "regularizer": "l1",
        "reg_strength": 1e-2,
    }
    for name, value in changes.items():
        changed = {**objective.optimum, name: value}
        assert objective.final_score(changed) > objective.best_score, name


def test_sgd_is_clearly_bad_even_at_its_own_best_learning_rate():
    objective = MLPObjective(noise=0.0)
    for rate in np.logspace(-5, -1, 41):
        sgd = {**objective.optimum, "optimizer": "sgd", "learning_rate": rate}
        assert objective.final_score(sgd) > 2 * objective.best_score


def test_reg_strength_is_active_only_with_a_regularizer():
    objective = MLPObjective(noise=0.0)
    hp = objective.hyperparameters()
    hp.values["regularizer"] = "none"
    assert not hp.is_active("reg_strength")
    hp.values["regularizer"] = "l2"
    assert hp.is_active("reg_strength")

    none = {**objective.optimum, "regularizer": "none"}
    assert "reg_strength" not in objective.active_values(none)
    weak, strong = {**none, "reg_strength": 1e-6}, {**none, "reg_strength": 1e-2}
    assert objective.evaluate(weak, 5) == objective.evaluate(strong, 5)
    l2_weak, l2_strong = {**weak, "regularizer": "l2"}, {**strong, "regularizer": "l2"}
    assert objective.evaluate(l2_weak, 5) != objective.evaluate(l2_strong, 5)


def test_missing_entries_take_their_defaults_and_tuner_keys_are_ignored():
    objective = MLPObjective(seed=2)
    defaults = {
        entry.name: entry.default for entry in objective.hyperparameters().space
    }
    active = objective.active_values({"tuner/epochs": 3, "unknown": 1})
    assert active == {k: v for k, v in defaults.items() if k != "reg_strength"}


def test_noise_is_deterministic_and_independent_of_order_and_bookkeeping():
    configs = random_configs(MLPObjective(), 20, seed=4)
    first, second = MLPObjective(seed=5), MLPObjective(seed=5)
    forward = [first.evaluate(v, e) for v in configs for e in (1, 2, 3)]
    backward = [
        second.evaluate(v, e) for v in reversed(configs) for e in reversed((1, 2, 3))
    ]
    assert forward == list(reversed(backward))

    values = configs[0]
    continued = {
        **values,
        "tuner/epochs": 9,
        "tuner/initial_epoch": 3,
        "tuner/trial_id": "0004",
    }
    assert first.evaluate(continued, 4) == first.evaluate(values, 4)
    as_numpy = {
        k: np.float64(v) if isinstance(v, float) else v for k, v in values.items()
    }
    assert first.evaluate(as_numpy, 4) == first.evaluate(values, 4)

    other_seed = MLPObjective(seed=6)
    assert other_seed.evaluate(values, 4) != first.evaluate(values, 4)


def test_noise_has_the_requested_standard_deviation():
    noisy, clean = (
        LearningRateObjective(noise=0.02, seed=1),
        LearningRateObjective(noise=0.0),
    )
    residuals = np.array(
        [
            noisy.evaluate(values, epoch) - clean.evaluate(values, epoch)
            for values in random_configs(clean, 400, seed=2)
            for epoch in (1, 4)
        ]
    )
    assert abs(residuals.mean()) < 0.003
    assert residuals.std() == pytest.approx(0.02, rel=0.1)


def test_diverging_configurations_score_nan_only_when_switched_on():
    values = {"learning_rate": 0.05}
    assert math.isfinite(LearningRateObjective().evaluate(values, 1))
    diverging = LearningRateObjective(diverge_above=0.01)
    assert math.isnan(diverging.evaluate(values, 1))
    assert math.isnan(diverging.evaluate(values, 10))
    assert math.isnan(diverging.final_score(values))
    assert math.isfinite(diverging.evaluate({"learning_rate": 0.005}, 1))


def test_repr_names_the_arguments():
    assert repr(MLPObjective(seed=3, noise=0.5)) == (
        "MLPObjective(seed=3, noise=0.5, diverge_above=None)"
    )


def test_learning_curve_runs_from_start_to_final():
    assert learning_curve(0, 0.1, 0.9, 2.0) == pytest.approx(0.1)
    assert learning_curve(2.0, 0.1, 0.9, 2.0) == pytest.approx(0.9 - 0.8 / math.e)
    assert learning_curve(1e3, 2.3, 0.25, 2.0) == pytest.approx(0.25)


def test_log_bowl_is_zero_at_center_and_asymmetric():
    assert log_bowl(3e-3, 3e-3, 1.0, 0.5) == 0.0
    assert log_bowl(3e-4, 3e-3, 1.0, 0.5) == pytest.approx(0.5)
    assert log_bowl(3e-2, 3e-3, 1.0, 0.5) == pytest.approx(2.0)


def test_learning_rate_tau_shrinks_with_the_rate():
    assert learning_rate_tau(1e-3, 1e-3, 3.0) == 3.0
    assert learning_rate_tau(1e-2, 1e-3, 3.0) < 3.0 < learning_rate_tau(1e-4, 1e-3, 3)


def test_final_score_goes_from_best_to_start():
    assert final_score(0.0, 0.1, 0.95) == 0.95
    assert final_score(50.0, 0.1, 0.95) == pytest.approx(0.1)


def test_canonical_text_is_the_same_for_python_and_numpy_scalars():
    assert canonical(np.float64(0.1)) == canonical(0.1) == "0.1"
    assert canonical(np.int64(3)) == canonical(3) == "3"
    assert canonical(np.bool_(True)) == canonical(True) == "True"
    assert canonical("adam") == "adam"


def test_stable_normal_is_standard_normal_and_key_dependent():
    draws = np.array([stable_normal(0, {"i": i}, 1) for i in range(4000)])
    assert abs(draws.mean()) < 0.06
    assert draws.std() == pytest.approx(1.0, rel=0.05)
    assert stable_normal(0, {"a": 1, "b": 2}, 1) == stable_normal(
        0, {"b": 2, "a": 1}, 1
    )
    assert stable_normal(0, {"a": 1}, 1) != stable_normal(1, {"a": 1}, 1)
    assert stable_normal(0, {"a": 1}, 1) != stable_normal(0, {"a": 1}, 2)


@pytest.mark.parametrize(("evaluations", "error"), [(-1, ValueError), (1.5, TypeError)])
def test_die_after_names_a_bad_count(evaluations, error):
    with pytest.raises(error, match="evaluations"):
        die_after(get_objective("lr_only"), evaluations)
