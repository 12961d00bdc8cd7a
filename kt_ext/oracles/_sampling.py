"""Model-based sampling inside a narrowed space: good versus bad trials (TPE-like).

A fresh configuration is drawn from a model of the trials seen so far instead
of uniformly: each trial gets a *goodness* in [0, 1] (its rank percentile among
the trials of its round, so rounds of different epochs are comparable), the
best ``gamma`` share are *good*, the rest *bad*. Candidates are drawn from a
kernel density around the good trials in Keras Tuner's unit-cube view (log
ranges in log space), always inside the current space's box, and the one with
the highest ratio of good to bad density wins (as Optuna's TPE does, one entry
at a time). Conditional entries count only where they are active.

Everything is a pure function of the observations, the space and the random
generator; the cost is O(candidates x observations x entries), and the
oracles keep the observations to a bounded window of recent trials.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import keras_tuner
import numpy as np
from keras_tuner.engine import hyperparameters as hp_module

from kt_ext._internal.names import is_bookkeeping
from kt_ext.oracles._space import entry_space, sample_values

__all__ = [
    "EntryModel",
    "bandwidth",
    "fit_model",
    "kde_draw",
    "kde_logpdf",
    "propose",
    "round_percentiles",
    "same_epochs",
    "split_good_bad",
]


def round_percentiles(scores: Sequence[float], direction: str) -> list[float]:
    """Each score's rank percentile among ``scores``: 0 worst, 1 best.

    Ties share their mean rank; a single score gets 1.0.

    Example:
        >>> round_percentiles([0.2, 0.9, 0.5], "max")
        [0.0, 1.0, 0.5]
        >>> round_percentiles([0.2, 0.9, 0.5], "min")
        [1.0, 0.0, 0.5]
    """
    n = len(scores)
    if n == 0:
        return []
    if n == 1:
        return [1.0]
    sign = 1.0 if direction == "max" else -1.0
    oriented = [sign * float(score) for score in scores]
    result = []
    for value in oriented:
        below = sum(1 for other in oriented if other < value)
        tied = sum(1 for other in oriented if other == value) - 1
        result.append((below + tied / 2) / (n - 1))
    return result


def same_epochs(trials: Sequence[Any]) -> list[list[Any]]:
    """``trials`` grouped by their ``tuner/epochs``, in order of first appearance.

    A synchronous round is one group; an asynchronous one mixes rungs, and
    scores are only comparable within a rung.

    Example:
        >>> from types import SimpleNamespace as T
        >>> trials = [T(hyperparameters=T(values={"tuner/epochs": e}), id=i)
        ...           for i, e in enumerate([1, 3, 1])]
        >>> [[t.id for t in group] for group in same_epochs(trials)]
        [[0, 2], [1]]
    """
    groups: dict[Any, list[Any]] = {}
    for trial in trials:
        epochs = trial.hyperparameters.values.get("tuner/epochs")
        groups.setdefault(epochs, []).append(trial)
    return list(groups.values())


def split_good_bad(
    goodness: Sequence[float], gamma: float
) -> tuple[list[int], list[int]]:
    """Indices of the best ``gamma`` share (at least one) and of the others.

    Example:
        >>> split_good_bad([0.1, 0.9, 0.5, 0.7], 0.5)
        ([1, 3], [2, 0])
    """
    order = sorted(range(len(goodness)), key=lambda i: (-goodness[i], i))
    count = min(len(order), max(1, math.ceil(gamma * len(order) - 1e-9)))
    return order[:count], order[count:]


def bandwidth(count: int, width: float) -> float:
    """Kernel width for ``count`` centres in a box ``width`` wide (unit cube).

    Scott-like: shrinks as ``count ** -0.2``, never below a tenth of the box.

    Example:
        >>> round(bandwidth(1, 1.0), 3), round(bandwidth(32, 0.5), 3)
        (0.5, 0.125)
    """
    if count <= 0:
        return width
    return width * max(0.1, 0.5 * count**-0.2)


def kde_logpdf(
    points: np.ndarray, centers: np.ndarray, scale: float, low: float, high: float
) -> np.ndarray:
    """Log density at ``points`` of Gaussians at ``centers`` plus a uniform prior.

    The mixture gives the uniform density on ``[low, high]`` the weight of one
    centre, so that a region without trials is never impossible.

    Example:
        >>> kde = kde_logpdf(np.array([0.5, 0.9]), np.array([0.5]), 0.1, 0.0, 1.0)
        >>> bool(kde[0] > kde[1])
        True
    """
    points = np.asarray(points, dtype=float)
    width = max(high - low, 1e-12)
    prior = np.full(points.shape, 1.0 / width)
    if len(centers):
        z = (points[:, None] - np.asarray(centers, dtype=float)[None, :]) / scale
        kernels = np.exp(-0.5 * z * z).sum(axis=1) / (scale * math.sqrt(2 * math.pi))
    else:
        kernels = np.zeros(points.shape)
    return np.log((kernels + prior) / (len(centers) + 1))


def kde_draw(
    centers: np.ndarray,
    scale: float,
    low: float,
    high: float,
    size: int,
    rng: np.random.Generator,
) -> np.ndarray:
    """``size`` draws from :func:`kde_logpdf`'s mixture, reflected into the box.

    Example:
        >>> draws = kde_draw(np.array([0.2]), 0.05, 0.0, 0.5, 100,
        ...                  np.random.default_rng(0))
        >>> bool(draws.min() >= 0.0 and draws.max() <= 0.5)
        True
    """
    k = len(centers)
    pick = rng.integers(k + 1, size=size)
    noise = rng.normal(0.0, scale, size=size)
    uniform = rng.uniform(low, high, size=size)
    if k:
        around = np.asarray(centers, dtype=float)[np.minimum(pick, k - 1)] + noise
    else:
        around = uniform
    draws = np.where(pick == k, uniform, around)
    width = high - low
    if width <= 0:
        return np.full(size, low)
    # Reflect into [low, high] (twice covers any noise below the box width).
    for _ in range(2):
        draws = np.where(draws < low, 2 * low - draws, draws)
        draws = np.where(draws > high, 2 * high - draws, draws)
    return np.clip(draws, low, high)


def _is_active(hp: hp_module.HyperParameter, values: Mapping[str, Any]) -> bool:
    return all(condition.is_active(values) for condition in hp.conditions)


class EntryModel(NamedTuple):
    """What :func:`propose` knows about one entry: the good and bad trials.

    Attributes:
        name: The entry's name.
        choices: The allowed values of a choice entry; ``None`` for a range.
        good: Unit-cube positions (range) or value counts (choice) of the good
            trials where the entry was active and inside the current space.
        bad: The same for the bad trials.
        low: The range's unit-cube lower bound (0 for a choice).
        high: The range's unit-cube upper bound (0 for a choice).
    """

    name: str
    choices: list[Any] | None
    good: np.ndarray
    bad: np.ndarray
    low: float
    high: float


def fit_model(
    hyperparameters: keras_tuner.HyperParameters,
    space: Mapping[str, Mapping[str, Any]],
    observations: Sequence[tuple[Mapping[str, Any], float]],
    *,
    gamma: float = 1 / 3,
    min_observations: int = 6,
) -> list[EntryModel] | None:
    """The good/bad model of :func:`propose`, once per space and observations.

    Args:
        hyperparameters: The search's entries (original ranges, conditions).
        space: The current space (ranges, choices); draws stay inside it.
        observations: ``(values, goodness)`` of past trials, goodness in [0, 1]
            (higher is better, e.g. :func:`round_percentiles`).
        gamma: Share of the observations counted as good.
        min_observations: Below this many observations, no model (``None``):
            :func:`propose` then draws uniformly.

    Returns:
        One :class:`EntryModel` per non-bookkeeping entry, in declaration
        order, or ``None``.

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Choice("act", ["relu", "tanh"])
        >>> seen = [({"act": "relu"}, 1.0), ({"act": "tanh"}, 0.0)] * 3
        >>> model = fit_model(hps, {"act": {"values": ["relu", "tanh"]}}, seen,
        ...                   gamma=0.5)
        >>> model[0].good.tolist(), model[0].bad.tolist()
        ([3.0, 0.0], [0.0, 3.0])
    """
    if len(observations) < min_observations:
        return None
    good_ids, bad_ids = split_good_bad([g for _, g in observations], gamma)
    good = [observations[i][0] for i in good_ids]
    bad = [observations[i][0] for i in bad_ids]
    model = []
    for hp in hyperparameters.space:
        if is_bookkeeping(hp.name):
            continue
        entry = space.get(hp.name) or entry_space(hp)
        if "values" in entry:
            choices = list(entry["values"])
            model.append(
                EntryModel(
                    hp.name,
                    choices,
                    _counts(hp.name, good, choices),
                    _counts(hp.name, bad, choices),
                    0.0,
                    0.0,
                )
            )
            continue
        low = hp.value_to_prob(entry["min"])
        high = hp.value_to_prob(entry["max"])
        model.append(
            EntryModel(
                hp.name,
                None,
                _positions(hp, good, low, high),
                _positions(hp, bad, low, high),
                low,
                high,
            )
        )
    return model


def propose(
    hyperparameters: keras_tuner.HyperParameters,
    space: Mapping[str, Mapping[str, Any]],
    model: Sequence[EntryModel] | None,
    rng: np.random.Generator,
    *,
    candidates: int = 24,
) -> dict[str, Any]:
    """A configuration inside ``space`` chosen by good/bad density ratio.

    ``candidates`` configurations are drawn from the good trials' density
    (entry by entry; a Gaussian kernel in the unit cube for ranges, smoothed
    counts for choices); the one with the largest sum of log density ratios
    over its active entries is returned. Without a model, a uniform draw
    (:func:`~kt_ext.oracles._space.sample_values`).

    Args:
        hyperparameters: The search's entries (original ranges, conditions).
        space: The current space, the one ``model`` was fitted with.
        model: From :func:`fit_model`, or ``None``.
        rng: The random generator (advanced deterministically).
        candidates: Draws compared per proposal.

    Returns:
        The values of the active entries, as ``sample_values`` returns them.

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Float("lr", 1e-4, 1e-1, sampling="log")
        >>> space = {"lr": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}
        >>> seen = [({"lr": 10 ** -(1 + i / 4)}, 1 - i / 12) for i in range(12)]
        >>> model = fit_model(hps, space, seen)
        >>> values = propose(hps, space, model, np.random.default_rng(0))
        >>> values["lr"] > 1e-3  # near the good (high) rates
        True
    """
    if model is None:
        return sample_values(hyperparameters, space, rng)
    draws: dict[str, np.ndarray] = {}
    ratio: dict[str, np.ndarray] = {}
    for em in model:
        if em.choices is not None:
            k = len(em.choices)
            p_good = (em.good + 1) / (em.good.sum() + k)
            p_bad = (em.bad + 1) / (em.bad.sum() + k)
            index = rng.choice(k, size=candidates, p=p_good)
            draws[em.name] = index
            ratio[em.name] = np.log(p_good[index]) - np.log(p_bad[index])
            continue
        width = max(em.high - em.low, 1e-6)
        scale = bandwidth(len(em.good), width)
        points = kde_draw(em.good, scale, em.low, em.high, candidates, rng)
        ratio[em.name] = kde_logpdf(
            points, em.good, scale, em.low, em.high
        ) - kde_logpdf(points, em.bad, bandwidth(len(em.bad), width), em.low, em.high)
        draws[em.name] = points
    models = {em.name: em for em in model}
    totals = np.zeros(candidates)
    chosen: list[dict[str, Any]] = []
    for c in range(candidates):
        values: dict[str, Any] = {}
        for hp in hyperparameters.space:
            if hp.name not in models or not _is_active(hp, values):
                continue
            em = models[hp.name]
            if em.choices is not None:
                values[hp.name] = em.choices[int(draws[hp.name][c])]
            else:
                entry = space.get(hp.name) or entry_space(hp)
                values[hp.name] = _to_value(hp, entry, float(draws[hp.name][c]))
            totals[c] += float(ratio[hp.name][c])
        chosen.append(values)
    return chosen[int(np.argmax(totals))]


def _counts(
    name: str, observed: Sequence[Mapping[str, Any]], choices: Sequence[Any]
) -> np.ndarray:
    return np.array(
        [sum(1 for values in observed if values.get(name) == c) for c in choices],
        dtype=float,
    )


def _positions(
    hp: hp_module.HyperParameter,
    observed: Sequence[Mapping[str, Any]],
    low: float,
    high: float,
) -> np.ndarray:
    """Unit-cube positions of the observed values that lie in the box."""
    positions = [
        hp.value_to_prob(values[hp.name]) for values in observed if hp.name in values
    ]
    return np.array([p for p in positions if low - 1e-9 <= p <= high + 1e-9], float)


def _to_value(
    hp: hp_module.HyperParameter, entry: Mapping[str, Any], prob: float
) -> Any:
    value = hp.prob_to_value(prob)
    # Rounding to a step or an int can land just outside the range.
    return type(value)(min(max(value, entry["min"]), entry["max"]))
