"""Search quality on an objective with a known noise-free value: regret and friends.

A benchmark scores a search by its recommendation (what
``oracle.get_best_trials(1)[0]`` returns at that moment): the objective's
noise-free value of that configuration at ``max_epochs``. Regret is the
distance from there to the task's optimum, estimated once per task as the best
noise-free value over many seeded uniform samples of the space. Nothing here
needs Keras; Keras Tuner only for its search-space view.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Protocol

import keras_tuner
import numpy as np

from kt_ext._internal.checks import check_int
from kt_ext._internal.names import is_bookkeeping
from kt_ext._internal.scores import is_better, is_finite_score

_CHUNK = 10_000  # configurations per batched surrogate call


class ScoredObjective(Protocol):
    """What the functions here need of an objective (synthetic or lcbench)."""

    direction: str

    def hyperparameters(self) -> keras_tuner.HyperParameters: ...

    def noise_free(self, values: Mapping[str, Any], epoch: int) -> float: ...


def uniform_configs(
    hyperparameters: keras_tuner.HyperParameters, count: int, *, seed: int = 0
) -> list[dict[str, Any]]:
    """Seeded uniform draws in Keras Tuner's unit-cube view of a space.

    Each entry gets ``entry.prob_to_value(u)`` for a uniform ``u``, so a
    log-scaled entry is uniform in its logarithm, as KT's random search draws
    it. Conditional entries whose condition does not hold are left out.

    Args:
        hyperparameters: The search space.
        count: How many configurations.
        seed: Seed of the draws.

    Returns:
        ``count`` dicts of active values.

    Example:
        >>> hp = keras_tuner.HyperParameters()
        >>> _ = hp.Float("lr", 1e-4, 1e-1, sampling="log")
        >>> configs = uniform_configs(hp, 3, seed=0)
        >>> len(configs), all(1e-4 <= c["lr"] <= 1e-1 for c in configs)
        (3, True)
    """
    check_int("count", count, 0)
    space = hyperparameters.space
    draws = np.random.default_rng(seed).random((count, len(space)))
    configs = []
    for row in draws:
        values: dict[str, Any] = {}
        for entry, unit in zip(space, row, strict=True):
            if all(condition.is_active(values) for condition in entry.conditions):
                values[entry.name] = entry.prob_to_value(float(unit))
        configs.append(values)
    return configs


def noise_free_scores(
    objective: ScoredObjective, configs: Sequence[Mapping[str, Any]], epoch: int
) -> list[float]:
    """``objective.noise_free`` of each configuration, batched where it can be.

    An objective with a ``noise_free_many(configs, epoch)`` method (the
    lcbench surrogate) is called with chunks of configurations at once.

    Example:
        >>> from kt_ext.testing import MLPObjective
        >>> objective = MLPObjective(noise=0.0)
        >>> noise_free_scores(objective, [objective.optimum], 27) == [
        ...     objective.noise_free(objective.optimum, 27)
        ... ]
        True
    """
    many = getattr(objective, "noise_free_many", None)
    if many is None:
        return [objective.noise_free(values, epoch) for values in configs]
    scores: list[float] = []
    for start in range(0, len(configs), _CHUNK):
        scores.extend(many(configs[start : start + _CHUNK], epoch))
    return scores


def sampled_optimum(
    objective: ScoredObjective, epoch: int, *, samples: int = 100_000, seed: int = 0
) -> float:
    """Best noise-free value at ``epoch`` over seeded uniform samples of the space.

    The task's optimum for regret; compute it once per task and cache it
    (100,000 samples take seconds).

    Args:
        objective: The objective; its ``direction`` says what is best.
        epoch: The epoch scored (a benchmark's ``max_epochs``).
        samples: How many uniform configurations.
        seed: Seed of the samples.

    Returns:
        The best finite value found.

    Raises:
        ValueError: If no sample has a finite value.

    Example:
        >>> from kt_ext.testing import LearningRateObjective
        >>> objective = LearningRateObjective()
        >>> best = sampled_optimum(objective, 27, samples=2_000)
        >>> abs(best - objective.noise_free(objective.optimum, 27)) < 0.01
        True
    """
    check_int("samples", samples, 1)
    configs = uniform_configs(objective.hyperparameters(), samples, seed=seed)
    best = math.nan
    for score in noise_free_scores(objective, configs, epoch):
        if is_better(score, best, objective.direction):
            best = score
    if not is_finite_score(best):
        raise ValueError(f"No finite noise-free value in {samples} samples.")
    return best


def regret(score: float | None, optimum: float, direction: str) -> float:
    """How far ``score`` falls short of ``optimum`` (0 at it; infinite without one).

    ``optimum - score`` for a maximised objective, ``score - optimum`` for a
    minimised one. It can be a little negative when a search beats the
    sampled optimum. A missing or non-finite score (no recommendation yet, a
    diverged configuration) has infinite regret.

    Example:
        >>> round(regret(0.9, 0.95, "max"), 3), round(regret(0.3, 0.25, "min"), 3)
        (0.05, 0.05)
        >>> regret(None, 0.95, "max")
        inf
    """
    if not is_finite_score(score):
        return math.inf
    return optimum - score if direction == "max" else score - optimum


def budget_to_match(
    trace: Iterable[tuple[int, float]], target: float, budget: int
) -> float:
    """First cumulative epochs, as a fraction of ``budget``, with regret <= target.

    Args:
        trace: ``(cumulative epochs, regret of the recommendation then)``
            points in run order (e.g. one per trial, or one per change).
        target: The regret to match (Hyperband's final regret on the pair).
        budget: The epochs to divide by (Hyperband's epochs on the pair).

    Returns:
        The fraction; ``inf`` if the trace never matches the target.

    Example:
        >>> budget_to_match([(10, 0.3), (40, 0.1), (90, 0.05)], 0.1, 100)
        0.4
        >>> budget_to_match([(10, 0.3)], 0.1, 100)
        inf
    """
    check_int("budget", budget, 1)
    for epochs, value in trace:
        if value <= target:
            return epochs / budget
    return math.inf


def recommendation(oracle: keras_tuner.Oracle) -> dict[str, Any] | None:
    """Values of ``oracle.get_best_trials(1)[0]`` without ``tuner/...`` entries.

    Returns:
        The recommended configuration, or None before any trial completed.

    Example:
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective, make_oracle
        >>> oracle = make_oracle(RandomSearchOracle, get_objective("mlp"))
        >>> recommendation(oracle) is None
        True
    """
    best = oracle.get_best_trials(1)
    if not best:
        return None
    values = best[0].hyperparameters.values
    return {name: value for name, value in values.items() if not is_bookkeeping(name)}
