"""Fold assignment for cross-validated search: checks, splits, saved form."""

from __future__ import annotations

import doctest
import re

import numpy as np
import pandas as pd
import pytest
from sklearn.model_selection import GroupKFold, KFold, ShuffleSplit, StratifiedKFold

from kt_ext.model_selection import _split
from kt_ext.model_selection._split import (
    FoldAssignment,
    check_cv,
    class_labels,
    fold_indices,
    num_rows,
    take_rows,
)

pytestmark = pytest.mark.floors


def _binary(rows: int = 120) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(rows, 3))
    y = (rng.random(rows) < 0.25).astype(int)  # imbalanced: 1 in 4
    return x, y


@pytest.mark.parametrize("cv", ["3", True, 2.5, None, [0, 1]])
def test_a_cv_neither_int_nor_splitter_is_a_type_error_naming_it(cv):
    with pytest.raises(
        TypeError, match=r"`cv` must be an int .*got " + re.escape(repr(cv))
    ):
        check_cv(cv) if cv is not None else fold_indices(cv, *_binary())


@pytest.mark.parametrize("cv", [1, 0, -3])
def test_fewer_than_two_folds_is_a_value_error(cv):
    with pytest.raises(ValueError, match=rf"`cv` must be at least 2 folds, got {cv}"):
        check_cv(cv)


@pytest.mark.parametrize(
    ("name", "value"), [("validation_data", ([1], [1])), ("validation_split", 0.2)]
)
def test_cv_with_validation_data_is_a_value_error(name, value):
    with pytest.raises(ValueError, match=rf"either `cv` or `{name}`.*cv=3"):
        check_cv(3, {name: value})
    check_cv(3, {name: None})  # the default is fine


def test_more_folds_than_the_smallest_class_has_members_is_refused():
    x = np.zeros((10, 1))
    y = np.array([0] * 8 + [1] * 2)
    with pytest.raises(
        ValueError, match=r"smallest class.*class 1 has 2 rows, got cv=3"
    ):
        fold_indices(3, x, y, seed=0)
    with pytest.raises(ValueError, match="smallest class"):
        fold_indices(StratifiedKFold(3), x, y)
    # Regression has no classes: plain k-fold.
    assert len(fold_indices(3, x, np.linspace(0, 1, 10), seed=0)) == 3


def test_int_cv_is_stratified_for_classification_and_seeded():
    x, y = _binary()
    folds = fold_indices(4, x, y, seed=7)
    assert len(folds) == 4
    share = y.mean()
    for train, test in folds:
        assert len(np.intersect1d(train, test)) == 0
        assert len(train) + len(test) == len(y)
        # Stratified: each fold's share of class 1 within one row of the whole's.
        assert abs(y[test].sum() - share * len(test)) <= 1
    every = np.sort(np.concatenate([test for _, test in folds]))
    np.testing.assert_array_equal(every, np.arange(len(y)))
    again = fold_indices(4, x, y, seed=7)
    other = fold_indices(4, x, y, seed=8)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again, strict=True))
    assert not all(
        np.array_equal(a[1], b[1]) for a, b in zip(folds, other, strict=True)
    )
    # Shuffled: not the first rows in order.
    assert not np.array_equal(folds[0][1], np.arange(len(folds[0][1])))


def test_one_hot_targets_stratify_by_their_class():
    x, y = _binary()
    one_hot = np.eye(2)[y]
    assert class_labels(one_hot).tolist() == y.tolist()
    plain = fold_indices(3, x, y, seed=1)
    hot = fold_indices(3, x, one_hot, seed=1)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(plain, hot, strict=True))


def test_continuous_targets_use_kfold():
    x = np.zeros((9, 1))
    y = np.linspace(0.0, 1.0, 9)
    assert class_labels(y) is None
    # Whole-number floats (diabetes' target) are regression, int labels not.
    assert class_labels(np.arange(9.0) * 10) is None
    assert class_labels(np.arange(9) % 3) is not None
    assert class_labels(np.array([0.0, 1.0, 1.0])) is not None
    folds = fold_indices(3, x, y, seed=0)
    expected = list(KFold(3, shuffle=True, random_state=0).split(x))
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, expected, strict=True))


def test_a_splitter_is_used_as_given():
    x, y = _binary(12)
    folds = fold_indices(KFold(3), x, y)
    np.testing.assert_array_equal(folds[0][1], [0, 1, 2, 3])
    draws = fold_indices(ShuffleSplit(2, test_size=3, random_state=0), x, y)
    assert [len(test) for _, test in draws] == [3, 3]
    # A splitter that needs groups fails as scikit-learn says.
    with pytest.raises(ValueError, match="groups"):
        fold_indices(GroupKFold(2), x, y)


def test_the_assignment_round_trips_through_json_compactly():
    x, y = _binary(30)
    folds = FoldAssignment.split(3, x, y, seed=5)
    state = folds.to_json()
    assert state["cv"] == "3" and state["rows"] == 30 and state["seed"] == 5
    assert all("train" not in fold for fold in state["folds"])  # the rest
    assert FoldAssignment.from_json(state) == folds
    draws = FoldAssignment.split(
        ShuffleSplit(2, test_size=5, train_size=10, random_state=0), x, y, 0
    )
    assert all("train" in fold for fold in draws.to_json()["folds"])
    assert FoldAssignment.from_json(draws.to_json()) == draws


def test_other_rows_than_were_split_are_refused():
    x, y = _binary(30)
    folds = FoldAssignment.split(3, x, y, seed=5)
    folds.check_rows(x)
    with pytest.raises(ValueError, match=r"`x` must have the 30 rows.*cv=3\), got 29"):
        folds.check_rows(x[:29])


def test_rows_are_taken_from_arrays_frames_lists_and_dicts():
    rows = np.array([2, 0])
    frame = pd.DataFrame({"a": [1, 2, 3]})
    assert take_rows(frame, rows)["a"].tolist() == [3, 1]
    pair = take_rows([np.arange(3), np.arange(3) * 10], rows)
    assert [part.tolist() for part in pair] == [[2, 0], [20, 0]]
    assert take_rows({"a": np.arange(3)}, rows)["a"].tolist() == [2, 0]
    assert num_rows({"a": np.zeros((4, 2))}) == 4
    with pytest.raises(TypeError, match="`cv` needs `x` and `y` as arrays"):
        num_rows(iter([1, 2]))


def test_the_docstring_examples_hold():
    result = doctest.testmod(_split, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed
