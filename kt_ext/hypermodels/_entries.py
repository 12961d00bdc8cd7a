"""Tunable entries of the hypermodel templates and their `overrides`.

An :class:`Entry` describes one `hp` entry as the template declares it by
default (kind, range or choices, default, whether it may be switched off) and
which values are legal for it. :func:`resolve_overrides` turns a user's
``overrides`` dict into one :class:`Declaration` per entry, validating every
value at construction time, and :meth:`Declaration.declare` registers it on a
``keras_tuner.HyperParameters`` inside ``build(hp)`` or ``fit(hp, ...)``.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Mapping
from typing import Any, Literal

import keras_tuner

Kind = Literal["int", "float", "choice", "bool"]
Value = int | float | str | bool


@dataclasses.dataclass(frozen=True)
class Entry:
    """How a template declares one hyperparameter by default.

    Attributes:
        name: The stable `hp` name.
        kind: ``"int"`` / ``"float"`` (numbers), ``"choice"`` (strings) or
            ``"bool"``.
        default: The value used when the entry is not tuned.
        min_value: Lower end of the default range (numeric kinds).
        max_value: Upper end of the default range (numeric kinds).
        sampling: ``"linear"`` or ``"log"`` for numeric kinds.
        step: Optional step of the default range.
        values: Default choices; a numeric entry with values is tuned as a
            choice by default but may still be re-ranged.
        optional: Whether ``None`` in ``overrides`` may switch the entry off.
        check: Returns why a single value is illegal, or ``None`` if legal.
    """

    name: str
    kind: Kind
    default: Value
    min_value: float | None = None
    max_value: float | None = None
    sampling: str = "linear"
    step: float | None = None
    values: tuple[Value, ...] = ()
    optional: bool = False
    check: Callable[[Any], str | None] = lambda value: None


@dataclasses.dataclass(frozen=True)
class Declaration:
    """One entry as a template will register it, after overrides.

    ``mode`` is ``"off"`` (never registered), ``"fixed"``, ``"range"``,
    ``"choice"`` or ``"bool"``.
    """

    name: str
    mode: Literal["off", "fixed", "range", "choice", "bool"]
    kind: Kind
    default: Value | None = None
    min_value: Value | None = None
    max_value: Value | None = None
    sampling: str = "linear"
    step: float | None = None
    values: tuple[Value, ...] = ()

    @property
    def is_off(self) -> bool:
        """Whether the entry was switched off with ``None``."""
        return self.mode == "off"

    def possible_values(self) -> tuple[Value, ...] | None:
        """The finite set of values this entry can take, or ``None`` if a range."""
        if self.mode == "fixed":
            assert self.default is not None, "a fixed entry has its value"
            return (self.default,)
        if self.mode == "choice":
            return self.values
        if self.mode == "bool":
            return (False, True)
        return None if self.mode == "range" else ()

    def declare(self, hp: keras_tuner.HyperParameters) -> Any:
        """Registers the entry on ``hp`` and returns its current value.

        Returns ``None`` for an entry that is switched off (or inactive inside a
        conditional scope).
        """
        if self.mode == "off":
            return None
        if self.mode == "fixed":
            return hp.Fixed(self.name, self.default)
        if self.mode == "bool":
            return hp.Boolean(self.name, default=bool(self.default))
        if self.mode == "choice":
            return hp.Choice(self.name, list(self.values), default=self.default)
        low, high, default = self.min_value, self.max_value, self.default
        assert low is not None and high is not None and default is not None, (
            "a range has its bounds and default"
        )
        if self.kind == "int":
            return hp.Int(
                self.name,
                int(low),
                int(high),
                step=None if self.step is None else int(self.step),
                sampling=self.sampling,
                default=int(default),
            )
        return hp.Float(
            self.name,
            float(low),
            float(high),
            step=self.step,
            sampling=self.sampling,
            default=float(default),
        )


def default_declaration(entry: Entry) -> Declaration:
    """The declaration of ``entry`` when the user gives no override."""
    if entry.values:
        return Declaration(
            entry.name, "choice", entry.kind, entry.default, values=entry.values
        )
    if entry.kind in ("int", "float"):
        return Declaration(
            entry.name,
            "range",
            entry.kind,
            entry.default,
            entry.min_value,
            entry.max_value,
            entry.sampling,
            entry.step,
        )
    return Declaration(entry.name, "bool", "bool", entry.default)


def resolve_overrides(
    entries: Mapping[str, Entry], overrides: Mapping[str, Any] | None
) -> dict[str, Declaration]:
    """Validates ``overrides`` against ``entries`` and returns every declaration.

    Args:
        entries: The template's entries by name.
        overrides: The user's overrides (see the hypermodel docstrings).

    Returns:
        A declaration for every entry, in the order of ``entries``.

    Raises:
        TypeError: ``overrides`` is not a mapping.
        ValueError: An unknown entry name or an illegal value, naming both.
    """
    if overrides is None:
        overrides = {}
    if not isinstance(overrides, Mapping):
        raise TypeError(
            f"`overrides` must be a dict of entry name to value, got {overrides!r}."
        )
    unknown = [name for name in overrides if name not in entries]
    if unknown:
        raise ValueError(
            f"`overrides` has unknown entry {unknown[0]!r}; known entries are "
            f"{sorted(entries)}."
        )
    return {
        name: (
            _override(entry, overrides[name])
            if name in overrides
            else default_declaration(entry)
        )
        for name, entry in entries.items()
    }


def _override(entry: Entry, value: Any) -> Declaration:
    where = f"`overrides[{entry.name!r}]`"
    if value is None:
        if not entry.optional:
            raise ValueError(
                f"{where} cannot be None: {entry.name!r} is required; fix it to a "
                f"value, give a range or a list of choices instead, got None."
            )
        return Declaration(entry.name, "off", entry.kind)
    if isinstance(value, tuple):
        return _range_override(entry, value, where)
    if isinstance(value, list):
        if not value:
            raise ValueError(f"{where} must list at least one choice, got [].")
        for item in value:
            _check_value(entry, item, where)
        if len(set(value)) != len(value):
            raise ValueError(f"{where} must not repeat a choice, got {value!r}.")
        values = tuple(_plain(entry.kind, item) for item in value)
        default = entry.default if entry.default in values else values[0]
        return Declaration(entry.name, "choice", entry.kind, default, values=values)
    _check_value(entry, value, where)
    return Declaration(entry.name, "fixed", entry.kind, _plain(entry.kind, value))


def _range_override(entry: Entry, value: tuple, where: str) -> Declaration:
    if entry.kind not in ("int", "float"):
        raise ValueError(
            f"{where} is a range, but {entry.name!r} is categorical: give a value "
            f"or a list of choices, got {value!r}."
        )
    if len(value) not in (2, 3) or (len(value) == 3 and value[2] not in _SAMPLINGS):
        raise ValueError(
            f"{where} must be (min, max) or (min, max, 'log'), got {value!r}."
        )
    low, high = value[0], value[1]
    sampling = value[2] if len(value) == 3 else "linear"
    for bound in (low, high):
        _check_value(entry, bound, where, within=value)
    if low > high:
        raise ValueError(f"{where} must have min <= max, got {value!r}.")
    if sampling == "log" and low <= 0:
        raise ValueError(f"{where} is a log range, so min must be > 0, got {value!r}.")
    if low == high:
        return Declaration(entry.name, "fixed", entry.kind, _plain(entry.kind, low))
    default = entry.default if low <= entry.default <= high else low
    return Declaration(
        entry.name,
        "range",
        entry.kind,
        _plain(entry.kind, default),
        _plain(entry.kind, low),
        _plain(entry.kind, high),
        sampling,
    )


_SAMPLINGS = ("linear", "log")


def _check_value(entry: Entry, value: Any, where: str, within: Any = None) -> None:
    problem = _type_problem(entry, value) or entry.check(value)
    if problem:
        context = "" if within is None else f" in {within!r}"
        raise ValueError(f"{where} {problem}, got {value!r}{context}.")


def _type_problem(entry: Entry, value: Any) -> str | None:
    if entry.kind == "bool":
        return None if isinstance(value, bool) else "must be True or False"
    is_number = isinstance(value, int | float) and not isinstance(value, bool)
    if entry.kind == "int" and not (is_number and float(value).is_integer()):
        return "must be an int"
    if entry.kind == "float" and not (is_number and math.isfinite(value)):
        return "must be a finite number"
    return None


def _plain(kind: Kind, value: Any) -> Value:
    """Converts a legal value to the Python type ``hp.Fixed`` accepts."""
    if kind == "int":
        return int(value)
    if kind == "float":
        return float(value)
    return value.item() if hasattr(value, "item") else value


# Value checks shared by the templates' entries.


def one_of(allowed: tuple[str, ...]) -> Callable[[Any], str | None]:
    """A check that accepts exactly the strings in ``allowed``."""

    def check(value: Any) -> str | None:
        return None if value in allowed else f"must be one of {list(allowed)}"

    return check


def at_least(low: float) -> Callable[[Any], str | None]:
    """A check that accepts numbers ``>= low``."""

    def check(value: Any) -> str | None:
        return None if value >= low else f"must be >= {low}"

    return check


def positive(value: Any) -> str | None:
    """A check that accepts numbers ``> 0``."""
    return None if value > 0 else "must be > 0"


def fraction(value: Any) -> str | None:
    """A check that accepts numbers in ``[0, 1)``."""
    return None if 0 <= value < 1 else "must be in [0, 1)"
