"""Inferring the learning task from training targets."""

from __future__ import annotations

from typing import Any

import numpy as np


def infer_task(y: Any) -> tuple[str, int]:
    """Returns ``(task, num_outputs)`` for the targets ``y``.

    Integer, string or boolean labels are classes (two classes: ``"binary"``
    with one sigmoid output; more: ``"multiclass"`` with one softmax output per
    class); one-hot rows are ``"multiclass"``; other floats are
    ``"regression"`` with one output per target column.

    Raises:
        ValueError: ``y`` is empty or has a single class.

    Example:
        >>> infer_task(np.array([0, 1, 1, 0]))
        ('binary', 1)
    """
    y = np.asarray(y)
    if y.size == 0:
        raise ValueError(f"`y` must not be empty, got shape {y.shape}.")
    if y.ndim == 2 and y.shape[1] > 1:
        one_hot = np.isin(y, (0, 1)).all() and np.allclose(y.sum(axis=1), 1)
        if one_hot:
            return "multiclass", int(y.shape[1])
        return "regression", int(y.shape[1])
    flat = y.reshape(len(y), -1)[:, 0] if y.ndim > 1 else y
    is_float = np.issubdtype(flat.dtype, np.floating)
    if is_float and not np.all(np.mod(flat, 1) == 0):
        return "regression", 1
    classes = np.unique(flat)
    if len(classes) < 2:
        raise ValueError(
            f"`y` must hold at least two classes, got only {classes.tolist()!r}."
        )
    if len(classes) == 2:
        return "binary", 1
    return "multiclass", len(classes)


def sample_shape(x: Any, y: Any) -> tuple[int, ...]:
    """One sample's shape, after checking that ``x`` and ``y`` line up.

    Example:
        >>> sample_shape(np.zeros((4, 8, 8, 1)), [0, 1, 0, 1])
        (8, 8, 1)
    """
    shape = np.shape(x)
    if len(shape) < 2 or shape[0] == 0:
        raise ValueError(
            "`x` must be a non-empty array of shape (samples, features...), "
            f"got shape {shape}."
        )
    if len(y) != shape[0]:
        raise ValueError(
            f"`x` and `y` must have the same length, got {shape[0]} and {len(y)}."
        )
    return tuple(int(size) for size in shape[1:])
