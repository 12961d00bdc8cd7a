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


_ENCODE = (
    "encode them as 0..n_classes-1 first, e.g. `y = LabelEncoder().fit_transform(y)` "
    "with sklearn.preprocessing.LabelEncoder (kt_ext.SearchCV does this for you "
    "and keeps the names in `classes_`)"
)


def check_labels(y: Any, task: str, num_outputs: int, name: str = "y") -> None:
    """Raises ``ValueError`` when targets ``y`` do not fit a template's output.

    A ``"binary"`` template (one sigmoid unit) needs labels in ``[0, 1]``; a
    ``"multiclass"`` one (sparse cross-entropy, ``num_outputs`` softmax units)
    needs integer labels in ``[0, num_outputs)``; both need one label per row,
    not one-hot rows, and numbers, not strings. ``"regression"`` needs numbers.
    Data without a shape (``tf.data``, generators) is left to Keras.

    Example:
        >>> check_labels(np.array([1, 2, 2, 1]), "binary", 1)
        Traceback (most recent call last):
        ...
        ValueError: `y` must hold labels 0 and 1 for a binary template (one
        sigmoid output), got labels [1, 2]; encode them as 0..n_classes-1 first,
        e.g. `y = LabelEncoder().fit_transform(y)` with
        sklearn.preprocessing.LabelEncoder (kt_ext.SearchCV does this for you
        and keeps the names in `classes_`).
    """
    if not hasattr(y, "shape"):
        return
    values = np.asarray(y.to_numpy() if hasattr(y, "to_numpy") else y)
    if values.size == 0:
        return
    if values.dtype.kind in "OSU":
        try:
            values = values.astype("float64")
        except (TypeError, ValueError):
            example = values.reshape(-1)[0]
            example = example.item() if hasattr(example, "item") else example
            what = "numbers" if task == "regression" else "integer class labels"
            fix = "convert them to numbers" if task == "regression" else _ENCODE
            raise ValueError(
                f"`{name}` must hold {what}, got {values.dtype.name} values such "
                f"as {example!r}; {fix}."
            ) from None
    if task == "regression":
        return
    if values.ndim > 1 and values.reshape(len(values), -1).shape[1] > 1:
        raise ValueError(
            f"`{name}` must hold one label per row for a {task} template (its loss "
            f"is {'binary' if task == 'binary' else 'sparse categorical'} "
            f"cross-entropy), got one-hot rows of shape {values.shape}; pass "
            f"`{name}.argmax(axis=1)`."
        )
    flat = values.reshape(-1)
    if task == "binary":
        if flat.min() < 0 or flat.max() > 1:
            raise ValueError(
                f"`{name}` must hold labels 0 and 1 for a binary template (one "
                f"sigmoid output), got labels {_some(flat)}; {_ENCODE}."
            )
        return
    if not np.all(np.mod(flat, 1) == 0) or flat.min() < 0 or flat.max() >= num_outputs:
        raise ValueError(
            f"`{name}` must hold integer class labels in [0, {num_outputs}) for a "
            f"template with num_classes={num_outputs}, got labels {_some(flat)}; "
            f"{_ENCODE}, or size the template for the data with "
            "`MLPHyperModel.for_data(x, y)` / `CNNHyperModel.for_data(x, y)`."
        )


def _some(values: np.ndarray, limit: int = 10) -> str:
    """The distinct values, at most ``limit`` of them, as a list's text."""
    distinct = np.unique(values)
    shown = [v.item() if hasattr(v, "item") else v for v in distinct[:limit]]
    shown = [int(v) if float(v).is_integer() else v for v in shown]
    more = f" and {len(distinct) - limit} more" if len(distinct) > limit else ""
    return f"{shown}{more}"
