"""Scikit-learn style model selection: :class:`SearchCV`, a cross-validated,
multi-fidelity search as a scikit-learn estimator.

:class:`SearchCV` is imported on first use, so the fold split
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
    from kt_ext.model_selection._search import SearchCV

# Public names defined in a private module, imported on first use.
_NAMES = {"SearchCV": "kt_ext.model_selection._search"}

__all__ = ["SearchCV"]


def __getattr__(name: str) -> Any:
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'kt_ext.model_selection' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
