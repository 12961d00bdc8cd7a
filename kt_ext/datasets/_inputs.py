"""A user's ``x`` and ``y`` for :func:`kt_ext.datasets.split`: checked, as arrays.

Tables (NumPy arrays or pandas DataFrames) become arrays with their
categorical columns marked, images pass as they are, targets are checked for
length and missing labels, and the task is checked or inferred. Nothing here
is fit on the data; that happens on the training rows only, later.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import numpy as np

from kt_ext._internal.checks import require
from kt_ext._internal.names import TASKS
from kt_ext._internal.tasks import infer_task


def as_features(
    x: Any, categorical: Sequence[Any] | None
) -> tuple[np.ndarray, list[int], list[str] | None]:
    """Returns ``x`` as an array, its categorical column indices and its names.

    A table with categorical columns becomes an object array holding floats in
    the numeric columns and strings in the categorical ones; an all-numeric
    table becomes float64. Images are returned as they are.

    Args:
        x: A 2-D table (array or DataFrame) or a batch of images.
        categorical: Columns to one-hot encode besides a DataFrame's
            non-numeric ones: names for a DataFrame, indices for an array.

    Returns:
        ``(x, categorical_indices, column_names)``; the names are None unless
        ``x`` is a DataFrame.

    Example:
        >>> table, categorical, _ = as_features([[1, "a"], [2, "b"]], [1])
        >>> table.tolist(), categorical
        ([[1.0, 'a'], [2.0, 'b']], [1])
    """
    pd = sys.modules.get("pandas")  # A DataFrame means pandas is imported.
    if isinstance(categorical, str):
        categorical = [categorical]
    if pd is not None and isinstance(x, pd.DataFrame):
        _check_x_shape(x.shape)
        indices = _categorical_indices(categorical, list(x.columns))
        indices |= {
            i
            for i, dtype in enumerate(x.dtypes)
            if pd.api.types.is_bool_dtype(dtype)
            or not pd.api.types.is_numeric_dtype(dtype)
        }
        columns = [
            x.iloc[:, i].astype(str).to_numpy(dtype=object)
            if i in indices
            else x.iloc[:, i].to_numpy(dtype=np.float64, na_value=np.nan)
            for i in range(x.shape[1])
        ]
        return np.column_stack(columns), sorted(indices), [str(c) for c in x.columns]

    x = np.asarray(x)
    _check_x_shape(x.shape)
    if x.ndim > 2:
        if categorical:
            raise ValueError(
                f"`categorical` needs a 2-D table `x`, got {list(categorical)!r} "
                f"for `x` of shape {x.shape}."
            )
        return x, [], None
    indices = _categorical_indices(categorical, list(range(x.shape[1])))
    columns = [
        x[:, i].astype(str).astype(object) if i in indices else _numeric(x[:, i], i)
        for i in range(x.shape[1])
    ]
    return np.column_stack(columns), sorted(indices), None


def _check_x_shape(shape: tuple[int, ...]) -> None:
    if 0 in shape:
        raise ValueError(f"`x` must not be empty, got shape {shape}.")
    if len(shape) < 2:
        raise ValueError(
            "`x` must be 2-D (samples, features) or a batch of images, "
            f"got shape {shape}."
        )


def _categorical_indices(
    categorical: Sequence[Any] | None, columns: list[Any]
) -> set[int]:
    indices = set()
    for column in categorical or ():
        if column not in columns:
            raise ValueError(
                f"`categorical` must list columns of `x` ({columns!r}), got {column!r}."
            )
        indices.add(columns.index(column))
    return indices


def _numeric(values: np.ndarray, index: int) -> np.ndarray:
    try:
        return values.astype(np.float64)
    except (TypeError, ValueError) as err:
        raise ValueError(
            f"`x` column {index} must be numeric or listed in `categorical`: {err}."
        ) from err


def as_target(y: Any, num_rows: int) -> np.ndarray:
    """Returns ``y`` as a 1-D array of ``num_rows`` labels or targets, none missing.

    Example:
        >>> as_target([[0], [1], [1]], 3).tolist()
        [0, 1, 1]
    """
    y = np.asarray(y)
    if y.ndim == 2 and y.shape[1] == 1:
        y = y[:, 0]
    if y.ndim != 1:
        raise ValueError(f"`y` must be 1-D, one entry per row, got shape {y.shape}.")
    if len(y) != num_rows:
        raise ValueError(
            f"`y` must have one entry per row of `x` ({num_rows}), got {len(y)}."
        )
    if y.dtype.kind == "f":
        missing = ~np.isfinite(y)
    elif y.dtype.kind == "O":
        missing = np.array([v is None or (isinstance(v, float) and v != v) for v in y])
    else:
        missing = np.zeros(len(y), dtype=bool)
    if missing.any():
        raise ValueError(
            "`y` must not hold NaN, infinity or None, "
            f"got {y[missing][0]!r} at row {int(np.argmax(missing))}."
        )
    return y


def resolve_task(y: np.ndarray, task: str | None) -> str:
    """Checks ``task`` against ``y``, or infers it from ``y`` when None.

    Example:
        >>> resolve_task(np.array([0.5, 1.5, 2.0]), None)
        'regression'
    """
    require(
        "task", task, task is None or task in TASKS, f"one of {list(TASKS)} or None"
    )
    if task == "regression":
        if y.dtype.kind not in "biuf":
            raise ValueError(
                f"`y` must be numeric for task 'regression', got dtype {y.dtype}."
            )
        return task
    if task is None:
        return infer_task(y)[0]
    num_classes = len(np.unique(y))
    if num_classes < 2:
        raise ValueError(f"`y` must hold at least two classes, got {num_classes}.")
    if task == "binary" and num_classes != 2:
        raise ValueError(
            f"`y` must hold exactly 2 classes for task 'binary', got {num_classes}."
        )
    return task
