"""Argument checks shared across kt_ext (the message shape of STYLE.md)."""

from __future__ import annotations

import math
import numbers
from collections.abc import Collection, Sequence
from typing import Any

import numpy as np


def is_int(value: Any) -> bool:
    """Whether ``value`` is an int (NumPy ints too), ``bool`` excluded.

    Example:
        >>> import numpy as np
        >>> is_int(3), is_int(np.int64(3)), is_int(True), is_int(3.0)
        (True, True, False, False)
    """
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def is_finite_number(value: Any) -> bool:
    """Whether ``value`` is a finite real number (NumPy too), ``bool`` excluded.

    Example:
        >>> import numpy as np
        >>> is_finite_number(0.5), is_finite_number(np.float32(2))
        (True, True)
        >>> is_finite_number(True), is_finite_number(math.inf), is_finite_number("1")
        (False, False, False)
    """
    return (
        isinstance(value, numbers.Real)
        and not isinstance(value, bool)
        and math.isfinite(value)
    )


def require(name: str, value: Any, ok: bool, expected: str) -> None:
    """Raises ``ValueError("`name` must be <expected>, got <value!r>.")`` unless ``ok``.

    Example:
        >>> epochs = 0
        >>> require("epochs", epochs, is_int(epochs) and epochs > 0, "a positive int")
        Traceback (most recent call last):
        ...
        ValueError: `epochs` must be a positive int, got 0.
    """
    if not ok:
        raise ValueError(f"`{name}` must be {expected}, got {value!r}.")


def check_one_of(name: str, value: Any, choices: Collection[Any]) -> None:
    """Raises a ``ValueError`` unless ``value`` is one of ``choices``.

    Example:
        >>> check_one_of("task", "ranking", ("binary", "regression"))
        Traceback (most recent call last):
        ...
        ValueError: `task` must be one of ['binary', 'regression'], got 'ranking'.
    """
    require(name, value, value in choices, f"one of {list(choices)}")


def check_int(name: str, value: Any, minimum: int | None = None) -> None:
    """Raises unless ``value`` is an int (NumPy ints too) ``>= minimum``.

    Example:
        >>> check_int("max_epochs", 0, 1)
        Traceback (most recent call last):
        ...
        ValueError: `max_epochs` must be >= 1, got 0.
        >>> check_int("seed", "1")
        Traceback (most recent call last):
        ...
        TypeError: `seed` must be an int, got '1'.
    """
    if not is_int(value):
        raise TypeError(f"`{name}` must be an int, got {value!r}.")
    if minimum is not None and value < minimum:
        raise ValueError(f"`{name}` must be >= {minimum}, got {value!r}.")


def check_number(
    name: str, value: Any, *, low: float, high: float, open_low: bool = False
) -> None:
    """Raises unless ``value`` is a number in ``[low, high]`` (``(low, high]``).

    Example:
        >>> check_number("alpha", 0.0, low=0.0, high=1.0, open_low=True)
        Traceback (most recent call last):
        ...
        ValueError: `alpha` must be in (0.0, 1.0], got 0.0.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise TypeError(f"`{name}` must be a number, got {value!r}.")
    inside = (low < value if open_low else low <= value) and value <= high
    if not inside:
        bracket = "(" if open_low else "["
        raise ValueError(f"`{name}` must be in {bracket}{low}, {high}], got {value!r}.")


def check_distinct(name: str, values: Sequence[Any]) -> None:
    """Raises unless no item of ``values`` appears twice.

    Example:
        >>> check_distinct("tuners", ["random", "random"])
        Traceback (most recent call last):
        ...
        ValueError: `tuners` must not repeat an item, got ['random', 'random'].
    """
    if len(set(values)) != len(values):
        raise ValueError(f"`{name}` must not repeat an item, got {list(values)!r}.")


def check_finite_data(name: str, data: Any) -> None:
    """Raises ``ValueError`` if array-like ``data`` holds NaN or infinity.

    Checks NumPy arrays, pandas objects and tensors with a numeric dtype (and
    lists or tuples of them, as Keras takes several inputs); anything else (a
    ``tf.data`` dataset, a generator, text) is left to Keras.

    Example:
        >>> import numpy as np
        >>> check_finite_data("x", np.array([[1.0, 2.0], [np.nan, 0.0]]))
        Traceback (most recent call last):
        ...
        ValueError: `x` must not contain NaN or infinity, got 1 such value (first
        at row 1).
    """
    if isinstance(data, list | tuple):
        for index, part in enumerate(data):
            check_finite_data(f"{name}[{index}]", part)
        return
    if not hasattr(data, "shape") or not hasattr(data, "dtype"):
        return
    try:
        values = np.asarray(data)
    except (TypeError, ValueError):
        return
    if values.dtype.kind not in "fc" or values.size == 0:
        return
    bad = ~np.isfinite(values)
    if bad.any():
        row = int(np.argwhere(bad)[0][0]) if values.ndim else 0
        count = int(bad.sum())
        raise ValueError(
            f"`{name}` must not contain NaN or infinity, got {count} such "
            f"value{'s' if count > 1 else ''} (first at row {row})."
        )
