"""The decision maths of rank-correlation pruning, as small pure functions.

Everything here works on plain sequences: positions of a numeric entry in Keras
Tuner's unit-cube view (``hp.value_to_prob``), indicator columns of a choice's
values, and *goodness* (the objective's score, negated when it is minimized, so
that higher is always better). Nothing here knows about oracles or Keras.
"""

from __future__ import annotations

import bisect
import math
import warnings
from collections.abc import Hashable, Mapping, Sequence
from typing import NamedTuple, TypeVar

import numpy as np
from scipy import stats

# A choice value of an entry: ``values_to_remove`` returns the keys it was given.
Key = TypeVar("Key", bound=Hashable)


class Evidence(NamedTuple):
    """Spearman rank correlation of one column with goodness.

    Attributes:
        rho: The correlation; positive when higher positions (or having the
            value, for an indicator) go with better scores; NaN when undefined.
        p_value: Its two-sided p-value; NaN when undefined.
        n: Number of trials it was computed over.

    Example:
        >>> Evidence(0.8, 0.01, 12).rho
        0.8
    """

    rho: float
    p_value: float
    n: int


def spearman(column: Sequence[float], goodness: Sequence[float]) -> Evidence:
    """Spearman's rho and p-value of ``column`` against ``goodness``.

    Ties are ranked as ``scipy.stats.spearmanr`` does (average ranks). A
    constant column (or constant goodness), fewer than three points, or any
    non-finite input give NaN evidence, on which no decision is taken.

    Args:
        column: Unit-cube positions or 0/1 indicators, one per trial.
        goodness: Scores oriented so that higher is better, one per trial.

    Returns:
        The evidence.

    Example:
        >>> spearman([0.1, 0.2, 0.3, 0.4], [1.0, 2.0, 3.0, 4.0]).rho
        1.0
        >>> math.isnan(spearman([1, 1, 1, 1], [1.0, 2.0, 3.0, 4.0]).rho)
        True
    """
    x = np.asarray(column, dtype=float)
    y = np.asarray(goodness, dtype=float)
    if len(x) != len(y):
        raise ValueError(
            f"`column` must have one value per score ({len(y)}), got {len(x)}."
        )
    n = len(x)
    if (
        n < 3
        or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y)))
        or np.ptp(x) == 0
        or np.ptp(y) == 0
    ):
        return Evidence(math.nan, math.nan, n)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        rho, p_value = stats.spearmanr(x, y)
    return Evidence(float(rho), float(p_value), n)


def is_influential(evidence: Evidence, *, rho_threshold: float, alpha: float) -> bool:
    """Whether the evidence shows a clear monotone effect.

    Example:
        >>> is_influential(Evidence(0.6, 0.001, 30), rho_threshold=0.3, alpha=0.05)
        True
        >>> is_influential(Evidence(0.6, 0.2, 6), rho_threshold=0.3, alpha=0.05)
        False
    """
    return (
        math.isfinite(evidence.rho)
        and abs(evidence.rho) >= rho_threshold
        and evidence.p_value <= alpha
    )


def is_quiet(evidence: Evidence, *, freeze_rho: float, freeze_p_value: float) -> bool:
    """Whether the evidence shows no effect worth keeping the entry tunable for.

    Example:
        >>> is_quiet(Evidence(0.05, 0.7, 30), freeze_rho=0.2, freeze_p_value=0.2)
        True
        >>> is_quiet(Evidence(float("nan"), float("nan"), 30), freeze_rho=0.2,
        ...          freeze_p_value=0.2)
        False
    """
    return (
        math.isfinite(evidence.rho)
        and abs(evidence.rho) < freeze_rho
        and evidence.p_value >= freeze_p_value
    )


def top_indices(goodness: Sequence[float], fraction: float) -> list[int]:
    """Indices of the best ``fraction`` of trials (at least two), best first.

    Example:
        >>> top_indices([0.1, 0.9, 0.5, 0.7], 0.5)
        [1, 3]
    """
    count = min(len(goodness), max(2, math.ceil(fraction * len(goodness))))
    order = sorted(range(len(goodness)), key=lambda i: -goodness[i])
    return order[:count]


def narrowed_bounds(
    positions: Sequence[float],
    goodness: Sequence[float],
    rho: float,
    bounds: tuple[float, float],
    *,
    top_fraction: float,
    margin: float,
) -> tuple[float, float]:
    """Unit-cube bounds without the bad side of an influential entry.

    With ``rho > 0`` (higher is better) the low side is cut just below the
    lowest top trial (minus ``margin``); with ``rho < 0`` the high side just
    above the highest. The result is clipped to ``bounds``, the current range.

    Args:
        positions: Unit-cube positions of the trials.
        goodness: Their scores, higher is better.
        rho: The entry's Spearman correlation (its sign picks the bad side).
        bounds: The current range, as unit-cube ``(low, high)``.
        top_fraction: Share of the trials counted as top trials.
        margin: Unit-cube slack kept beyond the top trials.

    Returns:
        The new ``(low, high)``, inside ``bounds``.

    Example:
        >>> narrowed_bounds([0.1, 0.4, 0.6, 0.9], [0.0, 1.0, 2.0, 3.0], 1.0,
        ...                 (0.0, 1.0), top_fraction=0.5, margin=0.25)
        (0.35, 1.0)
    """
    low, high = bounds
    top = [positions[i] for i in top_indices(goodness, top_fraction)]
    if rho > 0:
        low = min(high, max(low, min(top) - margin))
    else:
        high = max(low, min(high, max(top) + margin))
    return low, high


def values_to_remove(
    evidence: Mapping[Key, Evidence], *, rho_threshold: float, alpha: float
) -> list[Key]:
    """Choice values whose presence correlates significantly with bad scores.

    The p-values are Bonferroni-corrected for the number of values tested (the
    keys of ``evidence`` are all the entry's current values). Values are
    removed worst first; at least one value always stays.

    Args:
        evidence: Indicator evidence per current value of the entry.
        rho_threshold: Smallest ``-rho`` that counts.
        alpha: Largest p-value that counts.

    Returns:
        The values to remove, worst first.

    Example:
        >>> values_to_remove({"adam": Evidence(0.5, 0.01, 30),
        ...                   "sgd": Evidence(-0.7, 0.001, 30)},
        ...                  rho_threshold=0.3, alpha=0.05)
        ['sgd']
    """
    corrected = alpha / max(1, len(evidence))
    bad = [
        value
        for value, ev in evidence.items()
        if ev.rho < 0
        and is_influential(ev, rho_threshold=rho_threshold, alpha=corrected)
    ]
    bad.sort(key=lambda value: evidence[value].rho)
    return bad[: max(0, len(evidence) - 1)]


def should_stop(
    value: float,
    peers: Sequence[float],
    *,
    direction: str,
    quantile: float,
    min_peers: int,
) -> bool:
    """Whether a trial scoring ``value`` at an epoch ranks in the bottom quantile.

    A trial is stopped when at least ``1 - quantile`` of its peers (the other
    trials' values at the same epoch) are strictly better, and there are at
    least ``min_peers`` of them. The best trial at that epoch is never stopped.
    A non-finite value (a diverged trial) is always stopped.

    Args:
        value: The trial's metric at this epoch.
        peers: The other trials' finite metrics at this epoch.
        direction: ``"max"`` or ``"min"``.
        quantile: Share of the field counted as the bottom, in (0, 1).
        min_peers: Peers needed before any trial is stopped.

    Returns:
        Whether to stop the trial.

    Example:
        >>> should_stop(0.2, [0.5, 0.6, 0.7, 0.8], direction="max",
        ...             quantile=0.25, min_peers=4)
        True
        >>> should_stop(0.9, [0.5, 0.6, 0.7, 0.8], direction="max",
        ...             quantile=0.25, min_peers=4)
        False
    """
    sign = 1.0 if direction == "max" else -1.0
    better = 0
    if math.isfinite(value) and len(peers) >= min_peers:
        better = sum(1 for peer in peers if sign * peer > sign * value)
    return stop_by_rank(
        value, better, len(peers), quantile=quantile, min_peers=min_peers
    )


def stop_by_rank(
    value: float, better: int, peers: int, *, quantile: float, min_peers: int
) -> bool:
    """:func:`should_stop` given how many of ``peers`` are strictly ``better``.

    Example:
        >>> stop_by_rank(0.2, 4, 4, quantile=0.25, min_peers=4)
        True
        >>> stop_by_rank(0.2, 4, 4, quantile=0.25, min_peers=5)
        False
    """
    if not math.isfinite(value):
        return True
    if peers < min_peers:
        return False
    return better > 0 and better >= (1.0 - quantile) * peers


class PeerValues:
    """The finite values of trials at one epoch, kept sorted to rank in O(log n).

    :func:`should_stop` compares a trial with every peer; this keeps each
    trial's value and a sorted list of the finite ones, so a trial is ranked
    by bisection, and a value that changes (another execution of the trial)
    moves in place.

    Example:
        >>> peers = PeerValues()
        >>> for trial_id, value in [("a", 0.5), ("b", 0.7), ("c", float("nan"))]:
        ...     peers.set(trial_id, value)
        >>> peers.better_than(0.6, "max"), peers.better_than(0.6, "min")
        (1, 1)
        >>> peers.finite_count()
        2
    """

    def __init__(self) -> None:
        self._values: dict[str, float] = {}
        self._sorted: list[float] = []

    def set(self, trial_id: str, value: float) -> None:
        """Sets (or replaces) ``trial_id``'s value."""
        old = self._values.get(trial_id)
        if old is not None and math.isfinite(old):
            del self._sorted[bisect.bisect_left(self._sorted, old)]
        self._values[trial_id] = value
        if math.isfinite(value):
            bisect.insort(self._sorted, value)

    def finite_count(self) -> int:
        """How many trials have a finite value."""
        return len(self._sorted)

    def better_than(self, value: float, direction: str) -> int:
        """How many finite values are strictly better than ``value``."""
        if direction == "max":
            return len(self._sorted) - bisect.bisect_right(self._sorted, value)
        return bisect.bisect_left(self._sorted, value)
