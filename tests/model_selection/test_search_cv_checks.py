"""scikit-learn's own estimator checks, run on SearchCV at a tiny budget.

One trial of one epoch on two folds (``cv=2, max_epochs=1, epoch_budget=2``),
models run eagerly: tracing a ``tf.function`` would take most of the time at
this size, and eager and traced Keras compute the same. The checks test the
estimator's API, not the quality of its search.
"""

from __future__ import annotations

import keras
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import kt_ext

TINY = {"cv": 2, "max_epochs": 1, "epoch_budget": 2, "seed": 0}

#: Checks expected to fail, and why.
EXPECTED_FAILURES: dict[str, str] = {}


def expected_failures(estimator):
    return EXPECTED_FAILURES


@pytest.fixture(autouse=True)
def eager_models(monkeypatch):
    """Every Keras model runs eagerly, also one that was pickled and loaded."""
    always = property(lambda model: True, lambda model, value: None)
    monkeypatch.setattr(keras.Model, "run_eagerly", always)


@parametrize_with_checks(
    [kt_ext.SearchCV(**TINY)], expected_failed_checks=expected_failures
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
