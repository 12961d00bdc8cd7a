"""SyntheticTuner: Keras Tuner's own search loop over a synthetic objective."""

from __future__ import annotations

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import SyntheticTuner, get_objective, make_oracle, run_oracle


@pytest.mark.parametrize("oracle_cls", [CoarseToFineOracle, RankPruningOracle])
def test_search_loop_tries_what_the_driver_tries(tmp_path, oracle_cls):
    objective = get_objective("mlp", seed=2)
    settings = {"max_epochs": 9, "epoch_budget": 60, "seed": 3}
    oracle = make_oracle(oracle_cls, objective, **settings)
    tuner = SyntheticTuner(oracle, objective, directory=tmp_path, project_name="p")
    tuner.search()
    expected = run_oracle(make_oracle(oracle_cls, objective, **settings), objective)

    def plain(values):
        return {k: v for k, v in values.items() if not k.startswith("tuner/")}

    tried = [plain(oracle.trials[i].hyperparameters.values) for i in oracle.start_order]
    assert tried == [record.values for record in expected.trials]
    assert oracle.epochs_used == expected.total_epochs
    best = oracle.get_best_trials(1)[0]
    assert best.score == pytest.approx(expected.best_score)


@pytest.mark.parametrize(
    ("kwargs", "error", "names"),
    [
        ({"seconds_per_epoch": -1}, ValueError, ["seconds_per_epoch", "-1"]),
        ({"seconds_per_epoch": "1"}, TypeError, ["seconds_per_epoch", "'1'"]),
        ({"epochs": 0}, ValueError, ["epochs", "0"]),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, error, names):
    objective = get_objective("lr_only")
    oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=3)
    with pytest.raises(error) as raised:
        SyntheticTuner(oracle, objective, **kwargs)
    for name in names:
        assert name in str(raised.value)
