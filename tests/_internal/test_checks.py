"""Tests of kt_ext._internal.checks: the shared argument checks and their messages."""

from __future__ import annotations

import doctest

import numpy as np
import pytest

from kt_ext._internal import checks
from kt_ext._internal.checks import (
    check_int,
    check_one_of,
    is_finite_number,
    is_int,
    require,
)


def test_docstring_examples_run():
    result = doctest.testmod(checks, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0


@pytest.mark.parametrize("value", [0, -3, np.int32(2), np.uint8(7)])
def test_is_int_accepts_python_and_numpy_ints(value):
    assert is_int(value)


@pytest.mark.parametrize("value", [True, np.bool_(True), 1.0, "1", None])
def test_is_int_rejects_bools_floats_and_others(value):
    assert not is_int(value)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0, True),
        (-2.5, True),
        (np.float32(0.1), True),
        (False, False),
        (float("nan"), False),
        (-float("inf"), False),
        (None, False),
    ],
)
def test_is_finite_number(value, expected):
    assert is_finite_number(value) is expected


def test_require_passes_silently_and_fails_in_the_house_shape():
    require("x", 1, True, "anything")
    with pytest.raises(ValueError, match=r"^`x` must be a fraction, got 'a'\.$"):
        require("x", "a", False, "a fraction")


def test_check_one_of_lists_the_choices():
    check_one_of("name", "b", {"a": 1, "b": 2})
    with pytest.raises(ValueError, match=r"^`name` must be one of \['a', 'b'\], got"):
        check_one_of("name", "c", {"a": 1, "b": 2})


def test_check_int_without_a_minimum_checks_only_the_type():
    check_int("seed", -5)
    check_int("seed", np.int64(3))
    with pytest.raises(TypeError, match=r"^`seed` must be an int, got True\.$"):
        check_int("seed", True)


def test_finite_data_names_the_array_and_ignores_what_it_cannot_read():
    import numpy as np
    import pytest

    from kt_ext._internal.checks import check_finite_data

    check_finite_data("x", np.array([[0.0, 1.0]]))
    check_finite_data("x", np.array(["a", "b"]))  # text: left to Keras
    check_finite_data("x", iter([1.0]))  # a generator: left to Keras
    with pytest.raises(ValueError, match=r"`y\[1\]` must not contain NaN.*row 2"):
        check_finite_data("y", [np.zeros(3), np.array([0.0, 1.0, np.inf])])
