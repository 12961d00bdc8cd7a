"""Which score is better, and the best score so far: one rule for all of kt_ext.

Strictly better wins, so of two equal scores the earlier one stays best. A
score that is ``None``, NaN or infinite is never better than anything.
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def is_finite_score(score: float | None) -> bool:
    """Whether ``score`` is a number a trial can be ranked by.

    Example:
        >>> is_finite_score(0.5), is_finite_score(float("nan")), is_finite_score(None)
        (True, False, False)
    """
    return score is not None and math.isfinite(score)


def is_better(score: float | None, other: float | None, direction: str) -> bool:
    """Whether ``score`` is strictly better than ``other`` for ``direction``.

    A finite score is better than a missing or non-finite ``other``; a tie is
    not better.

    Example:
        >>> is_better(0.9, 0.8, "max"), is_better(0.9, 0.8, "min")
        (True, False)
        >>> is_better(0.9, 0.9, "max"), is_better(0.1, None, "min")
        (False, True)
    """
    if not is_finite_score(score):
        return False
    if not is_finite_score(other):
        return True
    return score > other if direction == "max" else score < other


def reaches(score: float | None, target: float, direction: str) -> bool:
    """Whether ``score`` is at least as good as ``target`` (a tie reaches it).

    Example:
        >>> reaches(0.9, 0.9, "max"), reaches(0.3, 0.2, "min")
        (True, False)
    """
    return is_finite_score(score) and not is_better(target, score, direction)


def best_so_far(scores: Iterable[float | None], direction: str) -> list[float]:
    """The best score after each of ``scores``; NaN until a finite one comes.

    Example:
        >>> best_so_far([0.5, None, 0.7, 0.6], "max")
        [0.5, 0.5, 0.7, 0.7]
    """
    curve: list[float] = []
    best = math.nan
    for score in scores:
        if is_better(score, best, direction):
            best = float(score)
        curve.append(best)
    return curve
