"""Synthetic objectives and an oracle driver for tests and benchmarks.

Nothing here trains a model: an objective gives the score a configuration
reaches after a number of epochs, and `run_oracle` drives any Keras Tuner
oracle through `create_trial` / `update_trial` / `end_trial` on it;
`SyntheticTuner` runs Keras Tuner's own search loop (distributed mode included)
on it, and `run_local_cluster` starts a chief and workers on 127.0.0.1;
`simulate_workers` drives an oracle with N simulated workers on a simulated
clock (no threads, no sleeping).
`regret`, `sampled_optimum` and `budget_to_match` score a search by its
recommendation's noise-free value, as the search-quality benchmark does;
`first_difference` compares recorded decisions (floats to a tolerance).

Example:
    >>> from keras_tuner.oracles import HyperbandOracle
    >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
    >>> objective = get_objective("mlp", seed=0)
    >>> oracle = make_oracle(HyperbandOracle, objective, max_epochs=9, seed=1)
    >>> result = run_oracle(oracle, objective)
    >>> result.best_score < objective.start_score
    True
"""

from __future__ import annotations

from kt_ext.testing._cluster import free_port, run_local_cluster
from kt_ext.testing._driver import (
    DriverResult,
    TrialRecord,
    make_oracle,
    run_oracle,
)
from kt_ext.testing._lcbench import DEVELOPMENT_TASKS, LCBenchObjective
from kt_ext.testing._objectives import (
    OBJECTIVES,
    LearningRateObjective,
    MLPObjective,
    SyntheticObjective,
    die_after,
    get_objective,
)
from kt_ext.testing._quality import (
    budget_to_match,
    noise_free_scores,
    recommendation,
    regret,
    sampled_optimum,
    uniform_configs,
)
from kt_ext.testing._record import first_difference
from kt_ext.testing._simulated import (
    SimulatedResult,
    SimulatedTrial,
    simulate_workers,
)
from kt_ext.testing._tuner import SyntheticTuner

__all__ = [
    "DEVELOPMENT_TASKS",
    "OBJECTIVES",
    "DriverResult",
    "LCBenchObjective",
    "LearningRateObjective",
    "MLPObjective",
    "SimulatedResult",
    "SimulatedTrial",
    "SyntheticObjective",
    "SyntheticTuner",
    "TrialRecord",
    "budget_to_match",
    "die_after",
    "first_difference",
    "free_port",
    "get_objective",
    "make_oracle",
    "noise_free_scores",
    "recommendation",
    "regret",
    "run_local_cluster",
    "run_oracle",
    "sampled_optimum",
    "simulate_workers",
    "uniform_configs",
]
