"""The arguments every kt_ext round oracle and tuner shares, written once.

:class:`SearchSettings` holds them, with their defaults, their checks and
their documentation (:data:`SETTING_DOCS`). The oracles' and tuners'
constructors keep every argument in their signatures (so ``inspect.signature``,
``help`` and an IDE show them); :func:`shares_settings` fills their docstrings
from :data:`SETTING_DOCS` at import and refuses, at import, a constructor whose
signature lacks a setting or gives it another default than declared.
"""

from __future__ import annotations

import dataclasses
import inspect
import math
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

import keras_tuner

from kt_ext._internal.checks import check_int, check_number
from kt_ext.oracles._promotion import PromotionName, check_promotion

__all__ = ["SETTING_DOCS", "PromotionName", "SearchSettings", "shares_settings"]

_T = TypeVar("_T", bound=type)


@dataclasses.dataclass(frozen=True)
class SearchSettings:
    """The shared arguments of a round search, checked (see :data:`SETTING_DOCS`).

    Raises:
        ValueError: A value is out of range; the message names the argument
            and the value.
        TypeError: A value has the wrong type; named likewise.

    Example:
        >>> SearchSettings(max_epochs=9, seed=0).min_epochs
        1
        >>> SearchSettings(factor=1)
        Traceback (most recent call last):
        ...
        ValueError: `factor` must be > 1, got 1.
    """

    max_epochs: int = 100
    min_epochs: int = 1
    factor: float = 3
    epoch_budget: int | None = None
    max_trials: int | None = None
    hyperparameters: keras_tuner.HyperParameters | None = None
    allow_new_entries: bool = True
    tune_new_entries: bool = True
    seed: int | None = None
    max_retries_per_trial: int = 0
    max_consecutive_failed_trials: int = 3
    worker_timeout: float | None = None
    promotion: PromotionName | None = None

    def __post_init__(self) -> None:
        check_int("max_epochs", self.max_epochs, 1)
        check_int("min_epochs", self.min_epochs, 1)
        if self.min_epochs > self.max_epochs:
            raise ValueError(
                f"`min_epochs` must be <= `max_epochs` ({self.max_epochs}), "
                f"got {self.min_epochs!r}."
            )
        factor = self.factor
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            raise TypeError(f"`factor` must be a number, got {factor!r}.")
        if not factor > 1:
            raise ValueError(f"`factor` must be > 1, got {factor!r}.")
        if self.epoch_budget is not None:
            check_int("epoch_budget", self.epoch_budget, 1)
        if self.max_trials is not None:
            check_int("max_trials", self.max_trials, 1)
        if self.seed is not None:
            check_int("seed", self.seed, 0)
        if self.worker_timeout is not None:
            check_number(
                "worker_timeout",
                self.worker_timeout,
                low=0,
                high=math.inf,
                open_low=True,
            )
        check_promotion(self.promotion)
        # numpy ints do not serialize to JSON.
        for name in ("max_epochs", "min_epochs", "epoch_budget", "max_trials", "seed"):
            value = getattr(self, name)
            if value is not None:
                object.__setattr__(self, name, int(value))

    @classmethod
    def of(cls, namespace: Mapping[str, Any]) -> SearchSettings:
        """The settings named in ``namespace`` (a constructor's ``locals()``)."""
        return cls(**{field.name: namespace[field.name] for field in _FIELDS})

    def arguments(self) -> dict[str, Any]:
        """The settings by argument name, to pass on to an oracle."""
        return {field.name: getattr(self, field.name) for field in _FIELDS}


_FIELDS = dataclasses.fields(SearchSettings)

#: One line of documentation per setting (a default is added from the
#: signature of each constructor).
SETTING_DOCS: dict[str, str] = {
    "max_epochs": "Epochs of the longest trial.",
    "min_epochs": "Epochs of the first round's trials.",
    "factor": "Epochs grow by this factor from one round to the next.",
    "epoch_budget": (
        "Epochs to train in all, every model counted (a trial of ``e`` "
        "epochs costs ``e`` times ``executions_per_trial`` times the folds of "
        "``cv``). Default when neither this nor ``max_trials`` is given: what "
        "one Hyperband iteration with the same ``max_epochs`` and ``factor`` "
        "trains (times the folds)."
    ),
    "max_trials": "Trials to run at most.",
    "hyperparameters": "As in Keras Tuner.",
    "allow_new_entries": "As in Keras Tuner.",
    "tune_new_entries": "As in Keras Tuner.",
    "seed": "Random seed; ``0`` is a seed like any other.",
    "max_retries_per_trial": "As in Keras Tuner.",
    "max_consecutive_failed_trials": "As in Keras Tuner.",
    "worker_timeout": (
        "In Keras Tuner's distributed mode, seconds after which a worker that "
        "has not been heard from counts as dead: its trial goes to the next "
        "worker that asks (without using up a retry), and the chief no longer "
        "waits for it. Only for workers that send heartbeats while they "
        "train, as kt_ext's tuners do (every ``worker_timeout / 4`` seconds, "
        "at most every 10 s): a stock ``keras_tuner.Tuner`` is silent for "
        "whole trials. ``None`` waits forever, as Keras Tuner does."
    ),
    "promotion": (
        '``"sync"``: a round\'s trials all end before the next round is '
        'planned (workers that ask meanwhile wait). ``"async"``: no worker '
        "waits; a trial continues on the next rung as soon as it ranks in the "
        "top ``1/factor`` of what its rung has seen (as ASHA does). ``None``: "
        '``"async"`` when ``search(workers=N)`` runs several workers, else '
        '``"sync"``. Saved with the search: a rerun must give the same '
        "value (or ``None``)."
    ),
}

_PLACEHOLDER = "{search_settings}"


def _documented(name: str, default: Any, indent: str) -> str:
    text = f"{name}: {SETTING_DOCS[name]} Default: ``{default!r}``."
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(indent) + len(line) + 1 + len(word) > 84:
            lines.append(line)
            line = " " * 4 + word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n".join(indent + part for part in lines)


def shares_settings(
    defaults: Mapping[str, Any] | None = None,
) -> Callable[[_T], _T]:
    """Class decorator: a constructor that takes every :class:`SearchSettings`.

    Fills the ``{search_settings}`` line of the class docstring with the
    settings' documentation, and checks that ``__init__`` takes each setting
    with :class:`SearchSettings`'s default (or the one in ``defaults``).

    Args:
        defaults: Settings whose default differs in this constructor.

    Raises:
        TypeError: At import, naming the class and the setting.
    """
    overrides = dict(defaults or {})

    def decorate(cls: _T) -> _T:
        parameters = inspect.signature(cls).parameters
        for field in _FIELDS:
            expected = overrides.get(field.name, field.default)
            parameter = parameters.get(field.name)
            if parameter is None or parameter.default != expected:
                raise TypeError(
                    f"{cls.__name__}.__init__ must take `{field.name}` with "
                    f"default {expected!r}."
                )
        doc = cls.__doc__ or ""
        for line in doc.splitlines():
            if line.strip() == _PLACEHOLDER:
                indent = line[: len(line) - len(line.lstrip())]
                block = "\n".join(
                    _documented(f.name, parameters[f.name].default, indent)
                    for f in _FIELDS
                )
                cls.__doc__ = doc.replace(line, block)
                break
        else:
            raise TypeError(f"{cls.__name__}'s docstring lacks {_PLACEHOLDER}.")
        return cls

    return decorate
