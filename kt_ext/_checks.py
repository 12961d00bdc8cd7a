"""Argument checks shared across kt_ext (the message shape of STYLE.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


def check_int(name: str, value: Any, minimum: int) -> None:
    """Raises unless ``value`` is an int (NumPy ints too) ``>= minimum``.

    Example:
        >>> check_int("max_epochs", 0, 1)
        Traceback (most recent call last):
        ...
        ValueError: `max_epochs` must be >= 1, got 0.
    """
    if isinstance(value, bool) or not isinstance(value, int | np.integer):
        raise TypeError(f"`{name}` must be an int, got {value!r}.")
    if value < minimum:
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
