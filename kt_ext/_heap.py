"""Keeping garbage collection cheap while a search builds model after model."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from typing import Any

_depth = 0


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Excludes the objects alive now from garbage collection, until exit.

    Keras Tuner collects garbage before every trial; with TensorFlow loaded a
    full collection walks hundreds of thousands of long-lived objects (about a
    quarter of a second on 2 cores, for every trial). Frozen, those are skipped
    and each collection only looks at what the search created since, which is
    what it needs to free. Nested uses freeze once.

    Example:
        >>> with frozen_heap():
        ...     _ = gc.collect()
    """
    global _depth
    if _depth == 0:
        gc.collect()
        gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0:
            gc.unfreeze()


# TensorFlow registers a gradient function under a new name each time a graph
# with a custom gradient is traced, and never unregisters it; Keras' optimizers
# trace one (`all_reduce` under the default strategy) in every train function,
# so every trained model's graphs would stay alive through the registry. Only
# those, recognised by the module of the gradient they wrap, are dropped: a
# user's own custom gradient may be looked up again through a cached trace.
_CUSTOM_GRADIENT_PREFIX = "CustomGradient-"
_ALL_REDUCE_MODULE = "tensorflow.python.distribute."


def _gradient_registry() -> dict[str, Any]:
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else {}


def _wraps_all_reduce(function: Any, depth: int = 0) -> bool:
    """Whether ``function`` or a function in its closures is TF's all_reduce's."""
    module = getattr(function, "__module__", None) or ""
    if module.startswith(_ALL_REDUCE_MODULE):
        return True
    if depth == 3:
        return False
    for cell in getattr(function, "__closure__", None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(inner) and _wraps_all_reduce(inner, depth + 1):
            return True
    return False


def custom_gradient_names() -> frozenset[str]:
    """Names of the custom gradients TensorFlow has registered so far.

    Example:
        >>> isinstance(custom_gradient_names(), frozenset)
        True
    """
    registry = _gradient_registry()
    return frozenset(n for n in registry if n.startswith(_CUSTOM_GRADIENT_PREFIX))


def forget_custom_gradients(keep: frozenset[str]) -> int:
    """Unregisters TF's all_reduce gradients registered since ``keep`` was taken.

    Call it between trials, once the models trained since are gone: their
    train functions' graphs are then freed (about 5 MiB and 8,000 Python
    objects per tiny model otherwise, in a search of hundreds of trials). That
    gradient is only looked up while the train step is traced. Other custom
    gradients (a user's) stay registered.

    Returns:
        How many were unregistered.

    Example:
        >>> forget_custom_gradients(custom_gradient_names())
        0
    """
    registry = _gradient_registry()
    names = [
        name
        for name, entry in registry.items()
        if name.startswith(_CUSTOM_GRADIENT_PREFIX)
        and name not in keep
        and isinstance(entry, dict)
        and _wraps_all_reduce(entry.get("type"))
    ]
    for name in names:
        del registry[name]
    return len(names)
