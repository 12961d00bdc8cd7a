"""Comparing recorded search decisions: decisions exactly, floats to a tolerance."""

from __future__ import annotations

import math
from typing import Any


def first_difference(
    expected: Any,
    actual: Any,
    *,
    rel_tol: float = 1e-6,
    abs_tol: float = 1e-9,
    path: str = "",
) -> str | None:
    """Where ``actual`` first departs from ``expected`` (JSON-like data), or None.

    Floats agree to ``rel_tol`` (or ``abs_tol`` near zero); everything else,
    types included (an int is not a float), exactly. Dicts are walked in sorted
    key order and lists item by item; a list item that has a ``trial_id`` is
    labelled with it.

    Args:
        expected: The recorded value (dicts, lists, strings, numbers, None).
        actual: The value now, in the same form (e.g. read back from JSON).
        rel_tol: Relative tolerance for floats.
        abs_tol: Absolute tolerance for floats.
        path: Prefix of the returned path.

    Returns:
        ``"<path>: recorded <expected>, now <actual>"`` for the first
        difference, or None if there is none.

    Example:
        >>> first_difference({"score": 0.5, "units": 32}, {"score": 0.5, "units": 33})
        '.units: recorded 32, now 33'
        >>> first_difference([0.1], [0.1 * (1 + 1e-9)]) is None
        True
    """

    def walk(old: Any, new: Any, where: str) -> str | None:
        if isinstance(old, float) and type(new) is float:
            if math.isclose(old, new, rel_tol=rel_tol, abs_tol=abs_tol):
                return None
            return f"{where}: recorded {old!r}, now {new!r}"
        if isinstance(old, dict) and isinstance(new, dict):
            if old.keys() != new.keys():
                missing = sorted(old.keys() - new.keys())
                extra = sorted(new.keys() - old.keys())
                return f"{where}: keys missing {missing}, new keys {extra}"
            for key in sorted(old):
                found = walk(old[key], new[key], f"{where}.{key}")
                if found:
                    return found
            return None
        if isinstance(old, list) and isinstance(new, list):
            for index, (item, now) in enumerate(zip(old, new, strict=False)):
                label = f"{where}[{index}]"
                if isinstance(item, dict) and "trial_id" in item:
                    label += f" (trial {item['trial_id']})"
                found = walk(item, now, label)
                if found:
                    return found
            if len(old) != len(new):
                return f"{where}: recorded {len(old)} items, now {len(new)}"
            return None
        if type(old) is not type(new) or old != new:
            return f"{where}: recorded {old!r}, now {new!r}"
        return None

    return walk(expected, actual, path)
