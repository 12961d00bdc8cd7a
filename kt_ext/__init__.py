"""kt_ext: hypermodel templates, search strategies, callbacks and analysis for
Keras Tuner.

Submodules, the tuners ``kt_ext.CoarseToFine`` and ``kt_ext.RankPruning`` and
the scikit-learn estimator ``kt_ext.SearchCV`` are imported on first use, so
``import kt_ext`` stays cheap: :mod:`kt_ext.hypermodels`, :mod:`kt_ext.callbacks`,
:mod:`kt_ext.datasets`, :mod:`kt_ext.oracles`, :mod:`kt_ext.tuners`,
:mod:`kt_ext.model_selection`, :mod:`kt_ext.analysis`, :mod:`kt_ext.compare`,
:mod:`kt_ext.testing`, :mod:`kt_ext.errors`.

Example:
    >>> import keras_tuner as kt
    >>> import kt_ext
    >>> (x, y), (x_val, y_val), _ = kt_ext.datasets.load("breast_cancer")
    >>> tuner = kt.Hyperband(kt_ext.hypermodels.MLPHyperModel.for_data(x, y),
    ...                      objective="val_accuracy", max_epochs=9)  # doctest: +SKIP
    >>> tuner.search(x, y, validation_data=(x_val, y_val))  # doctest: +SKIP
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from kt_ext import (
        analysis,
        callbacks,
        compare,
        datasets,
        errors,
        hypermodels,
        model_selection,
        oracles,
        testing,
        tuners,
    )
    from kt_ext.model_selection import SearchCV, SearchCVClassifier, SearchCVRegressor
    from kt_ext.tuners import CoarseToFine, RankPruning

__version__ = "0.1.0.dev0"

_SUBMODULES = (
    "analysis",
    "callbacks",
    "compare",
    "datasets",
    "errors",
    "hypermodels",
    "model_selection",
    "oracles",
    "testing",
    "tuners",
)

# Public names defined in a submodule, imported on first use.
_NAMES = {
    "CoarseToFine": "kt_ext.tuners",
    "RankPruning": "kt_ext.tuners",
    "SearchCV": "kt_ext.model_selection",
    "SearchCVClassifier": "kt_ext.model_selection",
    "SearchCVRegressor": "kt_ext.model_selection",
}

__all__ = [
    "CoarseToFine",
    "RankPruning",
    "SearchCV",
    "SearchCVClassifier",
    "SearchCVRegressor",
    "__version__",
    "analysis",
    "callbacks",
    "compare",
    "datasets",
    "errors",
    "hypermodels",
    "model_selection",
    "oracles",
    "testing",
    "tuners",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"kt_ext.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(_NAMES[name]), name)
    raise AttributeError(f"module 'kt_ext' has no attribute {name!r}")


def __dir__() -> list[str]:
    return list(__all__)
