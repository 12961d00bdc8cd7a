"""The comparison's numbers: anytime curves, budget-to-match, paired tests."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from scipy import stats

from kt_ext.compare._recording import TrialCost

# A paired Wilcoxon test needs at least this many non-zero differences.
MIN_WILCOXON_PAIRS = 6


def is_better(a: float, b: float, direction: str) -> bool:
    """Whether score ``a`` is at least as good as ``b`` for ``direction``.

    Example:
        >>> is_better(0.9, 0.8, "max"), is_better(0.9, 0.8, "min")
        (True, False)
    """
    return a >= b if direction == "max" else a <= b


def best_so_far(
    log: Sequence[TrialCost], direction: str
) -> list[tuple[int, float, float]]:
    """``(cumulative epochs, elapsed seconds, best score)`` after each trial.

    Trials without a finite score keep the previous best.

    Example:
        >>> log = [TrialCost(0.5, 2, 2, 1.0), TrialCost(0.4, 2, 4, 2.0)]
        >>> best_so_far(log, "max")
        [(2, 1.0, 0.5), (4, 2.0, 0.5)]
    """
    curve: list[tuple[int, float, float]] = []
    best = math.nan
    for record in log:
        score = record.score
        finite = score is not None and math.isfinite(score)
        if finite and (math.isnan(best) or is_better(score, best, direction)):
            best = score
        curve.append((record.cumulative_epochs, record.elapsed_s, best))
    return curve


def budget_to_match(
    log: Sequence[TrialCost], target: float, reference_epochs: int, direction: str
) -> float:
    """Fraction of ``reference_epochs`` spent when the best first reached ``target``.

    ``inf`` when it never did (lower is better).

    Example:
        >>> log = [TrialCost(0.5, 3, 3, 1.0), TrialCost(0.9, 3, 6, 2.0)]
        >>> budget_to_match(log, 0.9, 12, "max")
        0.5
    """
    for epochs, _, best in best_so_far(log, direction):
        if not math.isnan(best) and is_better(best, target, direction):
            return epochs / reference_epochs
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
