"""Tests of the search-quality pieces: noise-free values, optimum, regret."""

from __future__ import annotations

import math

import keras_tuner
import pytest
from keras_tuner.oracles import HyperbandOracle, RandomSearchOracle

from kt_ext.testing import (
    LearningRateObjective,
    MLPObjective,
    budget_to_match,
    get_objective,
    make_oracle,
    noise_free_scores,
    recommendation,
    regret,
    run_oracle,
    sampled_optimum,
    uniform_configs,
)


@pytest.mark.parametrize("name", ["lr_only", "mlp"])
def test_noise_free_is_the_curve_without_noise(name):
    noisy = get_objective(name, seed=3, noise=0.05)
    quiet = get_objective(name, seed=4, noise=0.0)
    for values in uniform_configs(noisy.hyperparameters(), 20, seed=1):
        for epoch in (1, 9, 27):
            assert noisy.noise_free(values, epoch) == quiet.evaluate(values, epoch)
            assert noisy.noise_free(values, epoch) != noisy.evaluate(values, epoch)


def test_noise_free_tends_to_the_final_score_and_checks_the_epoch():
    objective = MLPObjective(noise=0.02)
    assert objective.noise_free(objective.optimum, 10_000) == pytest.approx(
        objective.final_score(objective.optimum)
    )
    with pytest.raises(ValueError, match="`epoch`"):
        objective.noise_free(objective.optimum, 0)


def test_uniform_configs_are_seeded_in_range_and_respect_conditions():
    hp = MLPObjective().hyperparameters()
    configs = uniform_configs(hp, 300, seed=5)
    assert configs == uniform_configs(hp, 300, seed=5)
    assert configs != uniform_configs(hp, 300, seed=6)
    for values in configs:
        assert 1e-5 <= values["learning_rate"] <= 1e-1
        assert 16 <= values["units"] <= 512
        assert ("reg_strength" in values) == (values["regularizer"] != "none")
    # Log-scaled entries are uniform in their logarithm: about half below 1e-3.
    below = sum(values["learning_rate"] < 1e-3 for values in configs) / len(configs)
    assert 0.4 < below < 0.6
    assert {values["optimizer"] for values in configs} == {"adam", "rmsprop", "sgd"}


def test_uniform_configs_checks_the_count():
    with pytest.raises(ValueError, match="`count`"):
        uniform_configs(keras_tuner.HyperParameters(), -1)


@pytest.mark.parametrize("name", ["lr_only", "mlp"])
def test_sampled_optimum_is_seeded_and_near_the_known_optimum(name):
    objective = get_objective(name)
    best = sampled_optimum(objective, 27, samples=3_000, seed=2)
    assert best == sampled_optimum(objective, 27, samples=3_000, seed=2)
    scores = noise_free_scores(
        objective, uniform_configs(objective.hyperparameters(), 3_000, seed=2), 27
    )
    assert best == (max if objective.direction == "max" else min)(scores)
    known = objective.noise_free(objective.optimum, 27)
    assert abs(best - known) < 0.1 * abs(objective.start_score - known)


def test_regret_is_the_distance_to_the_optimum_in_the_objective_direction():
    assert regret(0.9, 0.95, "max") == pytest.approx(0.05)
    assert regret(0.3, 0.25, "min") == pytest.approx(0.05)
    assert regret(0.96, 0.95, "max") == pytest.approx(-0.01)
    assert regret(0.95, 0.95, "max") == 0
    assert regret(None, 0.95, "max") == math.inf
    assert regret(math.nan, 0.25, "min") == math.inf


def test_budget_to_match_is_the_first_point_at_or_below_the_target():
    trace = [(10, 0.3), (40, 0.1), (90, 0.05)]
    assert budget_to_match(trace, 0.1, 100) == 0.4  # a tie matches
    assert budget_to_match(trace, 0.2, 100) == 0.4
    assert budget_to_match(trace, 0.01, 100) == math.inf
    assert budget_to_match([], 0.5, 100) == math.inf
    assert budget_to_match([(300, 0.0)], 0.0, 200) == 1.5
    with pytest.raises(ValueError, match="`budget`"):
        budget_to_match(trace, 0.1, 0)


def test_recommendation_follows_the_best_trial_as_the_search_goes():
    objective = LearningRateObjective(seed=1)
    oracle = make_oracle(HyperbandOracle, objective, max_epochs=9, factor=3, seed=2)
    assert recommendation(oracle) is None
    seen = []

    def note(oracle, record):
        seen.append((record.cumulative_epochs, recommendation(oracle)))

    result = run_oracle(oracle, objective, on_trial_end=note)
    assert [epochs for epochs, _ in seen] == [
        r.cumulative_epochs for r in result.trials
    ]
    final = seen[-1][1]
    assert not any(name.startswith("tuner/") for name in final)
    best = oracle.get_best_trials(1)[0].hyperparameters.values
    assert final == {k: v for k, v in best.items() if not k.startswith("tuner/")}


def test_on_trial_end_sees_each_trial_after_it_ended():
    objective = LearningRateObjective()
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
    statuses = []
    result = run_oracle(
        oracle,
        objective,
        epochs=2,
        on_trial_end=lambda o, r: statuses.append(o.get_trial(r.trial_id).status),
    )
    assert len(statuses) == len(result.trials) == 3
    assert set(statuses) == {"COMPLETED"}
