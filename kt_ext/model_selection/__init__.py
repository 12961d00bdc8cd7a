"""Scikit-learn style model selection: :class:`SearchCV` (and its typed
:class:`SearchCVClassifier`, :class:`SearchCVRegressor`), a cross-validated,
multi-fidelity search as a scikit-learn estimator, and :func:`refit_best`, the
retrain of a search's best configuration that it and ``kt_ext.compare`` share.

The estimators are imported on first use, so the fold split
(``kt_ext.model_selection._split``), which :mod:`kt_ext.tuners` needs, loads
without the estimator and scikit-learn's estimator machinery.

Example:
    >>> from kt_ext.model_selection import SearchCV
    >>> SearchCV(max_epochs=9, cv=3).get_params()["cv"]
    3
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kt_ext.model_selection._refit import refit_best
    from kt_ext.model_selection._search import (
        SearchCV,
        SearchCVClassifier,
        SearchCVRegressor,
    )

# Public names defined in a private module, imported on first use.
_NAMES = {
    "SearchCV": "kt_ext.model_selection._search",
    "SearchCVClassifier": "kt_ext.model_selection._search",
    "SearchCVRegressor": "kt_ext.model_selection._search",
    "refit_best": "kt_ext.model_selection._refit",
}

__all__ = ["SearchCV", "SearchCVClassifier", "SearchCVRegressor", "refit_best"]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'kt_ext.model_selection' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
