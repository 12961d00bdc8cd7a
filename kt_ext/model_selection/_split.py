"""Cross-validation folds: checking ``cv``, splitting rows, keeping the split.

``search(x, y, cv=...)`` takes an int, a scikit-learn splitter, or an iterable
of ``(train_rows, validation_rows)`` pairs (read once, by :func:`given_splits`).
An int ``k`` is a shuffled ``StratifiedKFold(k)`` when ``y`` is a
classification target (one-hot rows by their argmax) and ``KFold(k)``
otherwise, as scikit-learn's ``type_of_target`` tells them apart, seeded with
the search's seed (never the oracle's: every tuner given one seed splits the
same way). The split is computed once,
when a search first starts, and kept as a :class:`FoldAssignment` (plain JSON)
in the search's saved state: a resumed run or a distributed worker reads it
and never splits again. Nothing here imports Keras.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

import numpy as np
from sklearn.model_selection import (
    KFold,
    RepeatedStratifiedKFold,
    StratifiedKFold,
    StratifiedShuffleSplit,
)
from sklearn.utils.multiclass import type_of_target

from kt_ext._internal.checks import is_int
from kt_ext.errors import ResumeError

__all__ = [
    "FoldAssignment",
    "check_cv",
    "class_labels",
    "fold_digest",
    "fold_indices",
    "given_splits",
    "is_splitter",
    "num_rows",
    "take_rows",
]

_STRATIFIED = (StratifiedKFold, RepeatedStratifiedKFold, StratifiedShuffleSplit)
_CLASSIFICATION = ("binary", "multiclass")


def is_splitter(cv: Any) -> bool:
    """Whether ``cv`` is a scikit-learn splitter (has ``split``, ``get_n_splits``).

    Example:
        >>> is_splitter(KFold(3)), is_splitter(3)
        (True, False)
    """
    return callable(getattr(cv, "split", None)) and callable(
        getattr(cv, "get_n_splits", None)
    )


def check_cv(cv: Any, fit_kwargs: Mapping[str, Any] | None = None) -> None:
    """Raises unless ``cv`` is an int of at least 2 or a splitter, used alone.

    Args:
        cv: What ``search()`` got as ``cv``.
        fit_kwargs: ``search()``'s other keyword arguments: ``cv`` replaces
            ``validation_data`` and ``validation_split``.

    Raises:
        TypeError: ``cv`` is neither an int, a splitter nor a list of
            ``(train_rows, validation_rows)`` pairs (``"3"``, ``True``, ``2.5``).
        ValueError: ``cv`` is an int below 2, or comes with validation data.

    Example:
        >>> check_cv("3")
        Traceback (most recent call last):
        ...
        TypeError: `cv` must be an int (the number of folds), a scikit-learn splitter (with split() and get_n_splits()) or an iterable of (train_rows, validation_rows) pairs, got '3'.
    """  # noqa: E501
    if not (is_int(cv) or is_splitter(cv) or _is_split_list(cv)):
        raise TypeError(
            "`cv` must be an int (the number of folds), a scikit-learn "
            "splitter (with split() and get_n_splits()) or an iterable of "
            f"(train_rows, validation_rows) pairs, got {_brief(cv)}."
        )
    if is_int(cv) and cv < 2:
        raise ValueError(f"`cv` must be at least 2 folds, got {cv!r}.")
    fit_kwargs = fit_kwargs or {}
    for name in ("validation_data", "validation_split"):
        if fit_kwargs.get(name) not in (None, 0, 0.0):
            raise ValueError(
                f"`cv` takes each fold's validation rows from `x`: pass either "
                f"`cv` or `{name}`, not both (got cv={cv!r} and {name}="
                f"{_short(fit_kwargs[name])})."
            )


def given_splits(cv: Any) -> Any:
    """``cv``, with an iterable of ``(train_rows, validation_rows)`` read once.

    An int or a splitter is returned as it is. Any other iterable (a list, a
    generator such as ``GroupKFold(3).split(x, y, groups)``) becomes a list of
    pairs of int arrays, so that it can be checked, described and split more
    than once.

    Raises:
        TypeError: ``cv`` is neither an int, a splitter nor an iterable of
            pairs.

    Example:
        >>> given_splits(iter([([0, 1], [2]), ([2], [0, 1])]))[1]
        (array([2]), array([0, 1]))
    """
    if is_int(cv) or is_splitter(cv) or isinstance(cv, str | bytes | Mapping):
        return cv
    try:
        pairs = list(cv)
    except TypeError:
        return cv  # not iterable: check_cv says what cv must be
    if not pairs or not all(_is_pair(pair) for pair in pairs):
        raise TypeError(
            "`cv` must be an int (the number of folds), a scikit-learn "
            "splitter (with split() and get_n_splits()) or an iterable of "
            f"(train_rows, validation_rows) pairs, got {_brief(pairs)}."
        )
    return [
        (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
        for train, test in pairs
    ]


def _is_pair(pair: Any) -> bool:
    if not isinstance(pair, tuple | list) or len(pair) != 2:
        return False
    return all(
        (np.ndim(rows) == 1 and np.asarray(rows).dtype.kind in "iu") or len(rows) == 0
        for rows in pair
    )


def _is_split_list(cv: Any) -> bool:
    """Whether ``cv`` is what :func:`given_splits` makes of an iterable."""
    return (
        isinstance(cv, list)
        and bool(cv)
        and all(
            isinstance(pair, tuple)
            and len(pair) == 2
            and all(isinstance(rows, np.ndarray) for rows in pair)
            for pair in cv
        )
    )


def _brief(value: Any) -> str:
    """``repr(value)``, or its kind and length when that is long."""
    text = repr(value)
    return text if len(text) <= 60 else _short(value)


def _short(value: Any) -> str:
    if hasattr(value, "shape"):
        return f"<{type(value).__name__} of shape {tuple(value.shape)}>"
    if isinstance(value, tuple | list):
        return f"<{type(value).__name__} of {len(value)}>"
    return repr(value)


def num_rows(data: Any) -> int:
    """The number of rows of array-like ``data`` (or of a list/dict of inputs).

    Raises:
        TypeError: ``data`` has no rows to split (a ``tf.data`` dataset, a
            generator): cross-validation needs arrays.

    Example:
        >>> num_rows([np.zeros((5, 2)), np.zeros((5, 3))])
        5
    """
    if isinstance(data, Mapping) and data:
        return num_rows(next(iter(data.values())))
    if isinstance(data, list | tuple) and data and hasattr(data[0], "shape"):
        return num_rows(data[0])
    shape = getattr(data, "shape", None)
    if shape is None and isinstance(data, list | tuple):
        shape = np.shape(data)
    if not shape:
        raise TypeError(
            "`cv` needs `x` and `y` as arrays (NumPy, pandas, tensors, or lists "
            f"or dicts of them), got {type(data).__name__}."
        )
    return int(shape[0])


def take_rows(data: Any, rows: np.ndarray) -> Any:
    """The rows ``rows`` of ``data``, of the same kind (array, frame, list, dict).

    Example:
        >>> take_rows({"a": np.arange(4)}, np.array([3, 0]))
        {'a': array([3, 0])}
    """
    if data is None:
        return None
    if isinstance(data, Mapping):
        return {key: take_rows(value, rows) for key, value in data.items()}
    if isinstance(data, list | tuple) and data and hasattr(data[0], "shape"):
        return type(data)(take_rows(part, rows) for part in data)
    if hasattr(data, "iloc"):
        return data.iloc[rows]
    if hasattr(data, "shape") and not isinstance(data, np.ndarray):
        return _take_tensor_rows(data, rows)
    return np.asarray(data)[rows]


def _take_tensor_rows(data: Any, rows: np.ndarray) -> Any:
    """The rows of a tensor, gathered on its own device, of its own framework.

    Each framework is imported only when the data is its own (then it is loaded
    already): a JAX or PyTorch search never loads TensorFlow here.
    """
    framework = type(data).__module__.partition(".")[0]
    if framework == "tensorflow":
        import tensorflow as tf

        return tf.gather(data, rows)
    if framework == "torch":
        import torch

        return data[torch.as_tensor(rows, device=data.device)]
    # JAX arrays, SciPy's sparse matrices and others take NumPy's row index.
    return data[rows]


def class_labels(y: Any) -> np.ndarray | None:
    """The class of each row if ``y`` is a classification target, else None.

    As scikit-learn's ``type_of_target`` tells, with two Keras habits: one-hot
    rows count as their argmax, and a float target with more than two values
    is regression even when its values are whole numbers (scikit-learn would
    call it multiclass; Keras class labels are ints, or 0/1 floats). A
    continuous or multi-output target is not classification.

    Example:
        >>> class_labels(np.eye(3)[[0, 2, 1, 2]])
        array([0, 2, 1, 2])
        >>> class_labels(np.array([0.5, 1.7])) is None
        True
        >>> class_labels(np.array([25.0, 151.0, 75.0])) is None  # diabetes
        True
    """
    values = np.asarray(y)
    if values.ndim == 2 and values.shape[1] == 1:
        values = values[:, 0]
    kind = type_of_target(values)
    if kind == "multiclass" and values.dtype.kind == "f":
        return None
    if kind in _CLASSIFICATION:
        return values
    if kind == "multilabel-indicator" and np.all(values.sum(axis=1) == 1):
        return values.argmax(axis=1)
    return None


def fold_indices(
    cv: Any, x: Any, y: Any, seed: int | None = None, groups: Any = None
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Each fold's ``(train_rows, validation_rows)``, as scikit-learn splits.

    Args:
        cv: An int ``k`` (a shuffled ``StratifiedKFold(k)`` for a
            classification ``y``, else ``KFold(k)``, seeded with ``seed``) or
            a scikit-learn splitter (used as given; ``y`` and, for a
            classification target, the classes are passed to its ``split``,
            with ``groups``), or the pairs :func:`given_splits` read.
        x: The inputs (only their number of rows is used).
        y: The targets.
        seed: The seed of an int ``cv``'s shuffle.
        groups: Each row's group, for a splitter such as ``GroupKFold``.

    Raises:
        TypeError, ValueError: As :func:`check_cv`; also ``ValueError`` when
            a stratified ``cv`` has more folds than the smallest class has
            members, or a fold has no training or no validation rows.

    Example:
        >>> y = np.array([0, 1] * 6)
        >>> [len(test) for _, test in fold_indices(3, np.zeros((12, 2)), y, seed=0)]
        [4, 4, 4]
    """
    check_cv(cv)
    rows = num_rows(x)
    labels = None if y is None else class_labels(y)
    if is_int(cv):
        k = int(cv)
        if k > rows:
            raise ValueError(
                f"`cv` must be at most the {rows} rows of `x`, got {cv!r}."
            )
        splitter = (
            KFold(k, shuffle=True, random_state=seed)
            if labels is None
            else StratifiedKFold(k, shuffle=True, random_state=seed)
        )
    elif _is_split_list(cv):
        return _checked_splits(cv, rows, cv)
    else:
        splitter = cv
    if labels is not None and isinstance(splitter, _STRATIFIED):
        classes, counts = np.unique(labels, return_counts=True)
        folds = splitter.get_n_splits()
        if isinstance(splitter, StratifiedShuffleSplit):
            folds = 0  # draws, not folds: scikit-learn checks its sizes
        if counts.min() < folds:
            raise ValueError(
                f"`cv` has more folds than the smallest class has members: "
                f"class {classes[counts.argmin()].item()!r} has {counts.min()} rows, "
                f"got cv={cv!r}. (For a regression target of whole numbers, "
                "pass it as floats, or cv=KFold(k, shuffle=True).)"
            )
    target = labels if labels is not None else y
    placeholder = np.zeros((rows, 1))
    if groups is not None and num_rows(groups) != rows:
        raise ValueError(
            f"`groups` must have one value per row of `x` ({rows}), got "
            f"{num_rows(groups)}."
        )
    splits = [
        (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
        for train, test in splitter.split(placeholder, target, groups)
    ]
    return _checked_splits(splits, rows, cv)


def _checked_splits(
    splits: list[tuple[np.ndarray, np.ndarray]], rows: int, cv: Any
) -> list[tuple[np.ndarray, np.ndarray]]:
    """``splits``, if every fold has rows of ``x`` to train and to validate on."""
    shown = describe_cv(cv)
    for index, (train, test) in enumerate(splits):
        for rows_of in (train, test):
            outside = rows_of[(rows_of < 0) | (rows_of >= rows)]
            if len(outside):
                raise ValueError(
                    f"`cv` must give rows of `x` (0 to {rows - 1}); fold {index} "
                    f"has row {int(outside[0])}, got cv={shown}."
                )
    for index, (train, test) in enumerate(splits):
        if len(train) == 0 or len(test) == 0:
            raise ValueError(
                f"`cv` must give every fold training and validation rows; fold "
                f"{index} has {len(train)} and {len(test)}, got cv={shown}."
            )
    if len(splits) < 2:
        raise ValueError(
            f"`cv` must give at least 2 folds, got {len(splits)} from {shown}."
        )
    return splits


@dataclasses.dataclass
class FoldAssignment:
    """The split of a search's rows into folds, as its saved state keeps it.

    Attributes:
        cv: How ``cv`` was given (``repr``): a rerun must give the same.
        rows: The number of rows split.
        seed: The seed an int ``cv`` was shuffled with.
        splits: Each fold's ``(train_rows, validation_rows)``.

    Example:
        >>> folds = FoldAssignment.split(3, np.zeros((9, 1)), np.arange(9) % 3, seed=0)
        >>> FoldAssignment.from_json(folds.to_json()) == folds
        True
    """

    cv: str
    rows: int
    seed: int | None
    splits: list[tuple[np.ndarray, np.ndarray]]

    @classmethod
    def split(
        cls, cv: Any, x: Any, y: Any, seed: int | None, groups: Any = None
    ) -> FoldAssignment:
        """Splits ``x, y`` with :func:`fold_indices`.

        ``seed`` is kept only for an int ``cv`` (nothing else is seeded here).
        """
        seed = seed if is_int(cv) else None
        splits = fold_indices(cv, x, y, seed, groups)
        return cls(describe_cv(cv), num_rows(x), seed, splits)

    def fold_digest(self) -> str:
        """:func:`fold_digest` of this split: equal for the same validation rows.

        Example:
            >>> folds = FoldAssignment.split(2, np.zeros((4, 1)), None, seed=0)
            >>> folds.fold_digest() == fold_digest(folds.splits)
            True
        """
        return fold_digest(self.splits)

    @property
    def folds(self) -> int:
        """The number of folds."""
        return len(self.splits)

    def check_rows(self, x: Any) -> None:
        """Raises :class:`~kt_ext.errors.ResumeError` (a ``ValueError``) unless
        ``x`` has the rows that were split."""
        rows = num_rows(x)
        if rows != self.rows:
            raise ResumeError(
                f"`x` must have the {self.rows} rows the saved search split into "
                f"folds (cv={self.cv}), got {rows}.",
                "Pass the same data to resume it",
            )

    def digest(self) -> str:
        """A short hash of the split: equal exactly for equal assignments.

        Example:
            >>> folds = FoldAssignment.split(2, np.zeros((4, 1)), None, seed=0)
            >>> len(folds.digest())
            16
        """
        text = json.dumps(self.to_json(), sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def to_json(self) -> dict[str, Any]:
        """Plain JSON; a fold's training rows are left out when they are the rest."""
        every = np.arange(self.rows)
        folds = []
        for train, test in self.splits:
            fold: dict[str, Any] = {"test": test.tolist()}
            if not np.array_equal(np.sort(train), np.setdiff1d(every, test)):
                fold["train"] = train.tolist()
            folds.append(fold)
        return {"cv": self.cv, "rows": self.rows, "seed": self.seed, "folds": folds}

    @classmethod
    def from_json(cls, state: Mapping[str, Any]) -> FoldAssignment:
        """The assignment :meth:`to_json` wrote."""
        rows = int(state["rows"])
        splits = []
        for fold in state["folds"]:
            test = np.asarray(fold["test"], dtype=np.int64)
            if "train" in fold:
                train = np.asarray(fold["train"], dtype=np.int64)
            else:
                train = np.setdiff1d(np.arange(rows), test)
            splits.append((train, test))
        return cls(state["cv"], rows, state.get("seed"), splits)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, FoldAssignment):
            return NotImplemented
        return (
            (self.cv, self.rows, self.seed) == (other.cv, other.rows, other.seed)
            and len(self.splits) == len(other.splits)
            and all(
                np.array_equal(a, c) and np.array_equal(b, d)
                for (a, b), (c, d) in zip(self.splits, other.splits, strict=True)
            )
        )


def describe_cv(cv: Any) -> str:
    """How ``cv`` is saved and compared on a rerun: its ``repr``.

    Splits given as pairs (see :func:`given_splits`) are described by a
    digest of the pairs: a generator's ``repr`` holds its address, which
    would differ on every rerun.

    Example:
        >>> describe_cv(3), describe_cv(KFold(2))
        ('3', 'KFold(n_splits=2, random_state=None, shuffle=False)')
        >>> describe_cv(given_splits([([0], [1]), ([1], [0])]))
        '<2 given splits, sha256 0653d3a32e76c8d1>'
    """
    if is_int(cv):
        return repr(int(cv))
    if _is_split_list(cv):
        pairs = [[train.tolist(), test.tolist()] for train, test in cv]
        text = json.dumps(pairs, separators=(",", ":"))
        return f"<{len(cv)} given splits, sha256 {_sha256(text)[:16]}>"
    return repr(cv)


def fold_digest(splits: list[tuple[np.ndarray, np.ndarray]] | None) -> str:
    """The sha256 of a split's validation rows; ``""`` without folds.

    Only the validation rows count, each fold's sorted, the folds in sorted
    order: two searches with the same digest were scored on the same
    partition of the rows, whichever tuner ran them.

    Example:
        >>> fold_digest(None)
        ''
        >>> a = [(np.array([2, 3]), np.array([1, 0])), (np.array([0, 1]), np.array([3, 2]))]
        >>> b = [(np.array([0, 1]), np.array([2, 3])), (np.array([2, 3]), np.array([0, 1]))]
        >>> fold_digest(a) == fold_digest(b)
        True
    """  # noqa: E501
    if not splits:
        return ""
    rows = sorted(sorted(int(row) for row in test) for _, test in splits)
    return _sha256(json.dumps(rows, separators=(",", ":")))


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()
