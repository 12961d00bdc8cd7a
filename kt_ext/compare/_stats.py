"""The comparison's numbers: anytime curves, budget- and wall-time-to-match, tests."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from kt_ext._internal.scores import best_so_far, reaches
from kt_ext.compare._recording import TrialCost

# A paired Wilcoxon test needs at least this many non-zero differences.
MIN_WILCOXON_PAIRS = 6


def anytime_curve(
    log: Sequence[TrialCost], direction: str
) -> list[tuple[int, float, float]]:
    """``(cumulative epochs, elapsed seconds, best score)`` after each trial.

    The best follows kt_ext's one rule (``kt_ext._internal.scores.best_so_far``):
    trials without a finite score keep the previous best; NaN until a finite
    score comes.

    Example:
        >>> log = [TrialCost(0.5, 2, 2, 1.0), TrialCost(0.4, 2, 4, 2.0)]
        >>> anytime_curve(log, "max")
        [(2, 1.0, 0.5), (4, 2.0, 0.5)]
    """
    best = best_so_far((record.score for record in log), direction)
    return [
        (record.cumulative_epochs, record.elapsed_s, score)
        for record, score in zip(log, best, strict=True)
    ]


def budget_to_match(
    log: Sequence[TrialCost], target: float, reference_epochs: int, direction: str
) -> float:
    """Fraction of ``reference_epochs`` spent when the best first reached ``target``.

    A best equal to ``target`` reaches it; any finite best reaches a NaN or
    infinite ``target`` (a failed reference). ``inf`` when it never did (lower
    is better).

    Example:
        >>> log = [TrialCost(0.5, 3, 3, 1.0), TrialCost(0.9, 3, 6, 2.0)]
        >>> budget_to_match(log, 0.9, 12, "max")
        0.5
    """
    for epochs, _, best in anytime_curve(log, direction):
        if reaches(best, target, direction):
            return epochs / reference_epochs
    return math.inf


def wall_to_match(
    log: Sequence[TrialCost], target: float, reference_s: float, direction: str
) -> float:
    """Share of ``reference_s`` elapsed when the best first reached ``target``.

    The time is the first point of the best-so-far curve (``anytime_curve``)
    at or better than ``target``, in seconds since the search started, divided
    by ``reference_s``, Hyperband's whole wall time on the same seed. Ties and
    a failed (NaN or infinite) ``target`` count as for :func:`budget_to_match`;
    ``inf`` when it never did, or when ``reference_s`` is not positive.

    Example:
        >>> log = [TrialCost(0.5, 3, 3, 1.0), TrialCost(0.9, 3, 6, 3.0)]
        >>> wall_to_match(log, 0.9, 4.0, "max")
        0.75
    """
    if not reference_s > 0:
        return math.inf
    for _, elapsed_s, best in anytime_curve(log, direction):
        if reaches(best, target, direction):
            return elapsed_s / reference_s
    return math.inf


def paired_wilcoxon(a: Sequence[float], b: Sequence[float]) -> float | None:
    """Two-sided p-value of ``scipy.stats.wilcoxon`` on paired scores.

    ``None`` ("n/a") with fewer than six non-zero, finite differences.

    Example:
        >>> paired_wilcoxon([1, 2, 3], [1, 2, 4]) is None
        True
    """
    diffs = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    diffs = diffs[np.isfinite(diffs) & (diffs != 0)]
    if len(diffs) < MIN_WILCOXON_PAIRS:
        return None
    return float(stats.wilcoxon(diffs).pvalue)
