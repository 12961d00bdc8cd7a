"""How hyperparameter values and search spaces are ordered and written.

One place for the text of values in plots, tables and the report: floats
with six significant digits (whole numbers without a decimal point, NaN
empty), choices in a natural order, search-space specs as ranges or lists.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np


def ordered_values(seen: Sequence[Any], declared: Sequence[Any] | None) -> list[Any]:
    """The distinct values of ``seen``: numbers ascending, others as declared.

    Values missing from ``declared`` follow in order of first appearance.

    Example:
        >>> ordered_values([0.01, 0.0001, 0.001, 0.01], None)
        [0.0001, 0.001, 0.01]
        >>> ordered_values(["tanh", "relu"], ["relu", "gelu", "tanh"])
        ['relu', 'tanh']
    """
    distinct = list(dict.fromkeys(seen))
    if distinct and all(_is_number(value) for value in distinct):
        return sorted(distinct)
    position = {value: index for index, value in enumerate(declared or [])}
    return sorted(distinct, key=lambda value: position.get(value, len(position)))


def value_label(value: Any) -> str:
    """A hyperparameter value as text; floats with 6 significant digits.

    Example:
        >>> value_label(0.0001), value_label(64), value_label("relu")
        ('0.0001', '64', 'relu')
    """
    if isinstance(value, float | np.floating):
        return f"{value:.6g}"
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float | np.number) and not isinstance(
        value, bool | np.bool_
    )


def format_spec(spec: Any) -> str:
    """A search-space spec of kt_ext's oracles as text.

    ``{"min", "max", "sampling"}`` is a range, ``{"values"}`` a list; other
    values are written by :func:`value_label` (lists joined by commas).

    Example:
        >>> format_spec({"min": 1e-05, "max": 0.1, "sampling": "log"})
        '1e-05 .. 0.1 (log)'
        >>> format_spec({"values": [0.01, 0.0001]})
        '0.0001, 0.01'
    """
    if isinstance(spec, Mapping) and "min" in spec and "max" in spec:
        text = f"{value_label(spec['min'])} .. {value_label(spec['max'])}"
        sampling = spec.get("sampling")
        return f"{text} ({sampling})" if sampling else text
    if isinstance(spec, Mapping) and "values" in spec:
        spec = spec["values"]
    if isinstance(spec, list | tuple):
        return ", ".join(value_label(value) for value in ordered_values(spec, None))
    return value_label(spec)


def format_cell(value: Any) -> str:
    """A table cell: floats with six significant digits, NaN and None empty.

    Example:
        >>> format_cell(1 / 3), format_cell(3.0), format_cell(None), format_cell(True)
        ('0.333333', '3', '', 'True')
    """
    if value is None:
        return ""
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, float | np.floating):
        return "" if math.isnan(value) else f"{value:.6g}"
    return str(value)
