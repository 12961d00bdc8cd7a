"""The lcbench surrogate objective (needs the `bench` extra and shared data)."""

from __future__ import annotations

from pathlib import Path

import pytest
from keras_tuner.oracles import RandomSearchOracle

from kt_ext.testing import (
    DEVELOPMENT_TASKS,
    LCBenchObjective,
    make_oracle,
    run_oracle,
    uniform_configs,
)

pytest.importorskip("onnxruntime")
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "yahpo_lcbench"
pytestmark = pytest.mark.skipif(
    not (DATA / "model.onnx").is_file(), reason="no lcbench surrogate beside the repo"
)


def test_surrogate_scores_are_fractions_that_follow_the_epochs():
    objective = LCBenchObjective(DEVELOPMENT_TASKS[0], data_dir=DATA)
    values = objective.hyperparameters().values
    curve = [objective.evaluate(values, epoch) for epoch in (1, 10, 50)]
    assert all(0 <= score <= 1 for score in curve)
    assert curve[-1] > curve[0]
    assert objective.evaluate(values, 10) == curve[1]  # deterministic


def test_drives_a_stock_oracle(tmp_path):
    objective = LCBenchObjective(DEVELOPMENT_TASKS[1], data_dir=DATA)
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
    result = run_oracle(oracle, objective, epochs=5, directory=tmp_path)
    assert len(result.trials) == 3 and result.total_epochs == 15
    assert 0 < result.best_score <= 1


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="task_id"):
        LCBenchObjective("nope", data_dir=DATA)
    with pytest.raises(ValueError, match="data_dir"):
        LCBenchObjective(DEVELOPMENT_TASKS[0], data_dir=DATA / "missing")
    objective = LCBenchObjective(DEVELOPMENT_TASKS[0], data_dir=DATA)
    with pytest.raises(ValueError, match="epoch"):
        objective.evaluate({}, 0)


def test_curve_and_batches_give_the_single_calls_scores():
    objective = LCBenchObjective(DEVELOPMENT_TASKS[2], data_dir=DATA)
    configs = uniform_configs(objective.hyperparameters(), 4, seed=0)
    curve = objective.curve(configs[0])
    assert len(curve) == objective.max_epochs
    singles = [objective.evaluate(configs[0], epoch) for epoch in (1, 25, 50)]
    assert [curve[0], curve[24], curve[49]] == pytest.approx(singles, abs=1e-5)
    batch = objective.noise_free_many(configs, 50)
    assert batch == pytest.approx(
        [objective.noise_free(c, 50) for c in configs], abs=1e-5
    )
    assert objective.noise_free_many([], 50) == []
    with pytest.raises(ValueError, match="epoch"):
        objective.noise_free_many(configs, 51)
