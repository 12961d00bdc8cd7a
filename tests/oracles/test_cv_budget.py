"""Cross-validated search in the oracles: every fold's epochs are charged."""

from __future__ import annotations

import pytest

from kt_ext.oracles import (
    CoarseToFineOracle,
    RankPruningOracle,
    RoundOracle,
    hyperband_epoch_budget,
)
from kt_ext.testing import get_objective, make_oracle, run_oracle

_FOLDS = {"cv": "3", "rows": 6, "seed": 0, "folds": [{"test": [0, 1]}] * 3}


@pytest.mark.parametrize("oracle_cls", [RoundOracle, CoarseToFineOracle])
def test_k_folds_with_k_times_the_budget_plan_the_same_search(oracle_cls):
    """A trial of e epochs costs k*e: k folds and k times the budget decide
    exactly as one fold does with the budget."""
    objective = get_objective("mlp", seed=1)
    plain = make_oracle(oracle_cls, objective, max_epochs=9, epoch_budget=60, seed=4)
    expected = run_oracle(plain, objective)
    folded = make_oracle(oracle_cls, objective, max_epochs=9, epoch_budget=180, seed=4)
    folded.set_folds(3, _FOLDS)
    result = run_oracle(folded, objective)
    assert [t.values for t in result.trials] == [t.values for t in expected.trials]
    assert folded.epochs_used == 3 * result.total_epochs == 3 * plain.epochs_used
    assert folded.epochs_used <= 180


def test_the_default_budget_scales_by_the_folds():
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=9, seed=0)
    assert oracle.epoch_budget == hyperband_epoch_budget(9, 3)
    oracle.set_folds(4, _FOLDS)
    assert oracle.epoch_budget == 4 * hyperband_epoch_budget(9, 3)
    assert oracle.models_per_trial == 4
    given = make_oracle(RoundOracle, objective, max_epochs=9, epoch_budget=50, seed=0)
    given.set_folds(4, _FOLDS)
    assert given.epoch_budget == 50  # a given budget is the user's


def test_a_budget_that_cannot_pay_for_one_cross_validated_trial_is_refused():
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RoundOracle, objective, max_epochs=3, epoch_budget=5, seed=0)
    oracle.check_epoch_budget()
    oracle.set_folds(3, _FOLDS)
    oracle.check_epoch_budget()
    oracle.min_epochs = 2
    with pytest.raises(
        ValueError,
        match=r"`epoch_budget` must be at least 6 .*executions_per_trial=1 x 3 "
        r"folds of cv\), got 5",
    ):
        oracle.check_epoch_budget()


def test_a_stopped_trial_is_refunded_for_every_fold(tmp_path):
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(
        RankPruningOracle,
        objective,
        min_epochs=3,
        max_epochs=3,
        max_trials=6,
        seed=0,
        prune_quantile=1.0,
        min_peers=1,
    )
    oracle.set_folds(2, _FOLDS)
    result = run_oracle(oracle, objective)
    assert oracle.stopped_trials
    assert oracle.epochs_used == 2 * result.total_epochs < 2 * 3 * 6


def test_the_folds_are_saved_and_reloaded_with_the_oracle(tmp_path):
    objective = get_objective("lr_only", seed=0)
    first = make_oracle(RoundOracle, objective, max_epochs=3, seed=1)
    first.set_folds(3, _FOLDS)
    run_oracle(first, objective, max_trials=3, directory=tmp_path)
    used = first.epochs_used
    # A rerun with the default budget: it grows by the saved folds again, so
    # what was spent is within it (no false "below what was spent").
    second = make_oracle(RoundOracle, objective, max_epochs=3, seed=1)
    second._set_project_dir(str(tmp_path), objective.name)
    second.reload()
    assert second.cv_folds == 3 and second.fold_assignment == _FOLDS
    assert second.epochs_used == used
    assert second.epoch_budget == 3 * hyperband_epoch_budget(3, 3)
    run_oracle(second, objective)
    assert used < second.epochs_used <= second.epoch_budget
