"""Learning-curve extrapolation: a trial's predicted score at ``max_epochs``.

Short trials are ranked by what they would reach if trained to the end, not by
what they reached so far: a fast starter (a high learning rate) looks best
after one epoch and is often beaten later. The model is the geometric decay
of per-epoch gains that an exponential learning curve has: the ratio ``r`` of
successive gains is fitted (least squares) on the last few epochs, and the
remaining gain is summed to the horizon. With fewer than three points, or no
gain in the last epoch, the prediction is the best value reached. Pure
functions of plain sequences, O(points).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence

__all__ = ["MAX_RATIO", "predict_final"]

# Largest gain ratio fitted: at most 9 more last-epoch gains are extrapolated.
MAX_RATIO = 0.9


def predict_final(
    curve: Sequence[float], horizon: int, direction: str, *, window: int = 4
) -> float:
    """The value a learning curve is predicted to reach after ``horizon`` epochs.

    Args:
        curve: The objective after each epoch so far, in order (epoch 1 first).
        horizon: Epochs of the longest trial (``max_epochs``).
        direction: ``"max"`` or ``"min"``.
        window: Last gains used to fit the ratio of successive gains.

    Returns:
        The best value reached, plus the extrapolated gain (never worse than
        the best value reached). Non-finite input gives the best finite value,
        or NaN when there is none.

    Example:
        >>> curve = [1 - 0.5 ** k for k in range(1, 4)]  # 0.5, 0.75, 0.875
        >>> round(predict_final(curve, 10, "max"), 4)  # 1 - 0.5 ** 10
        0.999
        >>> predict_final([0.5, 0.4], 10, "min")  # too short to fit
        0.4
    """
    sign = 1.0 if direction == "max" else -1.0
    finite = [value for value in curve if math.isfinite(value)]
    if not finite:
        return math.nan
    best = sign * max(sign * value for value in finite)
    if len(finite) != len(curve) or len(curve) < 3 or len(curve) >= horizon:
        return best
    tail = [sign * value for value in curve[-(window + 1) :]]
    gains = [b - a for a, b in itertools.pairwise(tail)]
    last = gains[-1]
    if last <= 0:
        return best
    numerator = sum(a * b for a, b in itertools.pairwise(gains))
    denominator = sum(a * a for a in gains[:-1])
    if denominator <= 0:
        return best
    ratio = min(MAX_RATIO, max(0.0, numerator / denominator))
    steps = horizon - len(curve)
    remaining = last * ratio * (1 - ratio**steps) / (1 - ratio)
    predicted = sign * (tail[-1] + remaining)
    return predicted if sign * predicted > sign * best else best
