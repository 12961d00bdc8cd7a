"""Seeded, stratified row indices of train, validation and test.

The sizes are fractions of all rows; classification is stratified, so every
class needs a few rows in each split.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.model_selection import train_test_split

from kt_ext._internal.checks import check_int, is_finite_number, require

# Stratifying three ways needs a row of every class in every split.
_MIN_CLASS_COUNT = 3


@dataclass(frozen=True)
class SplitOptions:
    """Validated splitting arguments of ``datasets.load`` and ``datasets.split``.

    Example:
        >>> SplitOptions(seed=0, validation_size=1.5, test_size=0.2, scale=True)
        Traceback (most recent call last):
        ...
        ValueError: `validation_size` must be a fraction in (0, 1), got 1.5.
    """

    seed: int
    validation_size: float
    test_size: float
    scale: bool

    def __post_init__(self) -> None:
        check_int("seed", self.seed)
        for arg in ("validation_size", "test_size"):
            value = getattr(self, arg)
            require(
                arg,
                value,
                is_finite_number(value) and 0 < value < 1,
                "a fraction in (0, 1)",
            )
        if self.validation_size + self.test_size >= 1:
            raise ValueError(
                "`validation_size` + `test_size` must be below 1 to leave rows for "
                f"training, got {self.validation_size!r} + {self.test_size!r}."
            )


def split_rows(
    y: np.ndarray, task: str, options: SplitOptions
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Returns the row indices of train, validation and test.

    Example:
        >>> options = SplitOptions(0, validation_size=0.2, test_size=0.2, scale=True)
        >>> [len(r) for r in split_rows(np.repeat([0, 1], 5), "binary", options)]
        [6, 2, 2]
    """
    stratify = task != "regression"
    if stratify:
        _check_stratifiable(y)
    rest, test = split_off(
        np.arange(len(y)), y, options.test_size, options.seed, stratify
    )
    train, validation = split_off(
        rest,
        y,
        options.validation_size / (1 - options.test_size),
        options.seed,
        stratify,
    )
    return train, validation, test


def split_off(
    rows: np.ndarray, y: np.ndarray, size: float, seed: int, stratify: bool
) -> tuple[np.ndarray, np.ndarray]:
    """Splits ``rows`` into (kept, taken), taking the fraction ``size``.

    Example:
        >>> kept, taken = split_off(np.arange(10), np.zeros(10), 0.3, 0, False)
        >>> len(kept), len(taken)
        (7, 3)
    """
    kept, taken = train_test_split(
        rows, test_size=size, random_state=seed, stratify=y[rows] if stratify else None
    )
    return kept, taken


def _check_stratifiable(y: np.ndarray) -> None:
    labels, counts = np.unique(y, return_counts=True)
    rarest = int(np.argmin(counts))
    if counts[rarest] < _MIN_CLASS_COUNT:
        raise ValueError(
            f"`y` must have at least {_MIN_CLASS_COUNT} rows of every class to "
            f"stratify train, validation and test, got {counts[rarest]} of class "
            f"{labels.tolist()[rarest]!r}."
        )
