"""scikit-learn's own estimator checks, run on SearchCV at a tiny budget.

The smoke set of ``make test``: the checks every estimator gets, on the
shared implementation. The typed estimators' full classifier and regressor
checks are in ``test_checks_*_full.py`` (``make test-sklearn-full``).

One trial of one epoch on two folds (``cv=2, max_epochs=1, epoch_budget=2``),
models run eagerly: tracing a ``tf.function`` would take most of the time at
this size, and eager and traced Keras compute the same. The checks test the
estimator's API, not the quality of its search.
"""

from __future__ import annotations

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

import kt_ext

TINY = {"cv": 2, "max_epochs": 1, "epoch_budget": 2, "random_state": 0}

pytestmark = pytest.mark.usefixtures("eager_models")

#: Checks expected to fail, and why.
EXPECTED_FAILURES: dict[str, str] = {
    "check_sample_weight_equivalence_on_dense_data": (
        "a stochastic network trained on repeated rows (other batches) does not "
        "equal one trained with integer weights (checked with an epoch_budget "
        "that pays for the check's 3 folds: predictions differ)"
    ),
}


def expected_failures(estimator):
    return EXPECTED_FAILURES


@parametrize_with_checks(
    [kt_ext.SearchCV(**TINY)], expected_failed_checks=expected_failures
)
def test_scikit_learn_estimator_checks(estimator, check):
    check(estimator)
