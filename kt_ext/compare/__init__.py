"""Honest comparisons of tuners against Hyperband at an equal epoch budget.

Example:
    >>> from kt_ext.compare import compare
    >>> result = compare("breast_cancer", tuners=["hyperband", "random"],
    ...                  seeds=2, max_epochs=3, out="bc_compare")  # doctest: +SKIP
"""

from __future__ import annotations

from kt_ext.compare._harness import (
    compare,
    objective_direction,
    run_search,
    template_for,
)
from kt_ext.compare._recording import SearchRecorder, TrialCost
from kt_ext.compare._registry import (
    SearchSpec,
    TunerFactory,
    available_tuners,
    register_tuner,
    stock_seed,
)
from kt_ext.compare._result import Comparison
from kt_ext.compare._stats import anytime_curve

__all__ = [
    "Comparison",
    "SearchRecorder",
    "SearchSpec",
    "TrialCost",
    "TunerFactory",
    "anytime_curve",
    "available_tuners",
    "compare",
    "objective_direction",
    "register_tuner",
    "run_search",
    "stock_seed",
    "template_for",
]
