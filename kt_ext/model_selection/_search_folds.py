"""The folds of one :class:`kt_ext.SearchCV` fit, made once, before training.

``cv`` is what ``GridSearchCV`` takes: an int ``k`` (a shuffled, seeded
stratified k-fold for classification, k-fold for regression, seeded with the
fit's seed), a scikit-learn splitter (given ``groups``, so group splitters
work) or an iterable of ``(train, test)`` row indices (read once per fit).
The pairs go to the tuner as a :class:`FixedSplits`, so the split is the
estimator's, whichever tuner searches.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import Any

import numpy as np

from kt_ext._internal.checks import is_int
from kt_ext.model_selection._split import fold_indices, is_splitter

Splits = list[tuple[np.ndarray, np.ndarray]]


class FixedSplits:
    """A splitter that hands out splits made once (scikit-learn's interface).

    Example:
        >>> folds = FixedSplits([(np.array([1]), np.array([0])),
        ...                      (np.array([0]), np.array([1]))], "2")
        >>> folds.get_n_splits(), [test.tolist() for _, test in folds.split()]
        (2, [[0], [1]])
    """

    def __init__(self, splits: Splits, source: str) -> None:
        self.splits = splits
        self.source = source

    def split(self, X: Any = None, y: Any = None, groups: Any = None) -> Iterator:
        """Each fold's ``(train_rows, test_rows)``."""
        yield from self.splits

    def get_n_splits(self, X: Any = None, y: Any = None, groups: Any = None) -> int:
        """The number of folds."""
        return len(self.splits)

    def __repr__(self) -> str:
        return f"FixedSplits(cv={self.source}, folds={len(self.splits)})"


def check_search_cv(cv: Any) -> None:
    """Raises unless ``cv`` is an int >= 2, a splitter or an iterable of pairs.

    Example:
        >>> check_search_cv("5")
        Traceback (most recent call last):
        ...
        TypeError: `cv` must be an int (the number of folds), a scikit-learn splitter or an iterable of (train, test) index pairs, got '5'.
    """  # noqa: E501
    iterable = hasattr(cv, "__iter__") and not isinstance(cv, str | bytes | Mapping)
    if not (is_int(cv) or is_splitter(cv) or iterable):
        raise TypeError(
            "`cv` must be an int (the number of folds), a scikit-learn splitter "
            f"or an iterable of (train, test) index pairs, got {cv!r}."
        )
    if is_int(cv) and cv < 2:
        raise ValueError(f"`cv` must be at least 2 folds, got {cv!r}.")


def make_splits(
    cv: Any, x: np.ndarray, y: np.ndarray, groups: Any, seed: int
) -> FixedSplits:
    """The fit's folds of ``x, y``: each fold's ``(train_rows, test_rows)``.

    Args:
        cv: The estimator's ``cv``.
        x: The rows.
        y: The targets: class indices (classification) or floats.
        groups: ``fit``'s ``groups``, passed to a splitter's ``split``.
        seed: The fit's seed, which an int ``cv`` shuffles with.

    Raises:
        ValueError: ``groups`` has another length than ``x``; an int ``cv``
            is above the number of rows; a fold has no
            training or test rows, or rows out of range; fewer than 2 folds.
    """
    rows = len(x)
    if groups is not None and len(groups) != rows:
        raise ValueError(
            f"`groups` must have one entry per row of `X` ({rows}), got {len(groups)}."
        )
    if is_int(cv):
        if cv > rows:
            raise ValueError(
                f"`cv` must be at most the number of rows of `X`: got cv={cv!r} "
                f"folds for n_samples={rows}."
            )
        return FixedSplits(fold_indices(int(cv), x, y, seed), repr(int(cv)))
    pairs = list(cv.split(x, y, groups) if is_splitter(cv) else cv)
    splits = []
    for index, pair in enumerate(pairs):
        if not (isinstance(pair, tuple | list) and len(pair) == 2):
            raise ValueError(
                f"`cv` must give (train, test) pairs of row indices; item {index} "
                f"is {pair!r}."
            )
        train, test = (_rows(part, rows) for part in pair)
        if len(train) == 0 or len(test) == 0 or not _in_range(train, test, rows):
            raise ValueError(
                f"`cv` must give every fold training and test rows among the "
                f"{rows} rows of `X`; fold {index} has {len(train)} and "
                f"{len(test)} rows, from {_short(cv)}."
            )
        splits.append((train, test))
    if len(splits) < 2:
        raise ValueError(
            f"`cv` must give at least 2 folds, got {len(splits)} from {_short(cv)}."
        )
    return FixedSplits(splits, _short(cv))


def _rows(part: Any, rows: int) -> np.ndarray:
    values = np.asarray(part)
    if values.dtype == bool and len(values) == rows:
        return np.flatnonzero(values)
    return values.astype(np.int64).ravel()


def _in_range(train: np.ndarray, test: np.ndarray, rows: int) -> bool:
    both = np.concatenate([train, test])
    return bool(both.min() >= 0 and both.max() < rows)


def _short(cv: Any) -> str:
    return repr(cv) if is_splitter(cv) else f"<{type(cv).__name__} of pairs>"
