"""What a comparison measured: the :class:`Comparison` the harness returns.

Its own module so that the harness, which fills it, and the outputs, which
write it, both depend on it and not on each other.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from kt_ext.compare._recording import TrialCost


@dataclasses.dataclass
class Comparison:
    """What :func:`kt_ext.compare.compare` measured.

    Attributes:
        rows: One dict per tuner and seed, the columns of ``results.csv``.
        logs: ``(tuner, seed)`` to the cost log of its search.
        objective: The objective's name.
        direction: ``"max"`` or ``"min"``.
        out: The folder with ``results.csv``, ``summary.md``, the plot and the
            report, or ``None`` when nothing was written.
        cv: The folds of a cross-validated comparison, or ``None``.

    Example:
        >>> result = Comparison([], {}, "val_accuracy", "max")
        >>> result.out is None
        True
    """

    rows: list[dict[str, Any]]
    logs: dict[tuple[str, int], list[TrialCost]]
    objective: str
    direction: str
    out: Path | None = None
    cv: int | None = None
