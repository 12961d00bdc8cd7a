"""Searches written to disk by `run_oracle`, without Keras training."""

from __future__ import annotations

import copy
from collections.abc import Callable
from pathlib import Path
from typing import Any, NamedTuple

import keras_tuner
import pytest
from keras_tuner.engine.trial import TrialStatus
from keras_tuner.oracles import HyperbandOracle, RandomSearchOracle

from kt_ext.testing import get_objective, make_oracle, run_oracle


class Search(NamedTuple):
    oracle: keras_tuner.Oracle
    directory: Path


NARROWING_HISTORY: list[dict[str, Any]] = [
    {
        "round": 0,
        "epochs": 1,
        "trial_ids": ["00", "01", "02"],
        "best_score": 0.6,
        "space": {
            "learning_rate": {"min": 1e-5, "max": 1e-1, "sampling": "log"},
            "activation": {"values": ["relu", "tanh", "gelu"]},
        },
    },
    {
        "round": 1,
        "epochs": 3,
        "trial_ids": ["03", "04"],
        "best_score": 0.8,
        "space": {
            "learning_rate": {"min": 1e-3, "max": 1e-2, "sampling": "log"},
            "activation": {"values": ["relu", "gelu"]},
        },
    },
]

PRUNING_LOG: list[dict[str, Any]] = [
    {
        "round": 0,
        "name": "units",
        "rho": 0.05,
        "p_value": 0.8,
        "action": "freeze",
        "before": {"min": 16, "max": 256, "sampling": "log"},
        "after": {"values": [64]},
    },
    {
        "round": 0,
        "name": "learning_rate",
        "rho": 0.7,
        "p_value": 0.001,
        "action": "narrow",
        "before": {"min": 1e-5, "max": 1e-1, "sampling": "log"},
        "after": {"min": 1e-3, "max": 1e-1, "sampling": "log"},
    },
    {
        "round": 1,
        "name": "activation",
        "rho": -0.5,
        "p_value": 0.04,
        "action": "remove",
        "before": {"values": ["relu", "tanh", "gelu"]},
        "after": {"values": ["relu", "gelu"]},
    },
]


class HistoryOracle(RandomSearchOracle):
    """A random search that carries kt_ext-style histories, as kt_ext oracles do."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.narrowing_history = NARROWING_HISTORY
        self.pruning_log = PRUNING_LOG

    def get_state(self) -> dict[str, Any]:
        return {
            **super().get_state(),
            "narrowing_history": self.narrowing_history,
            "pruning_log": self.pruning_log,
        }


@pytest.fixture
def narrowing_history() -> list[dict[str, Any]]:
    """A hand-made `narrowing_history` of two rounds."""
    return copy.deepcopy(NARROWING_HISTORY)


@pytest.fixture
def pruning_log() -> list[dict[str, Any]]:
    """A hand-made `pruning_log`: one freeze, one narrow, one remove."""
    return copy.deepcopy(PRUNING_LOG)


@pytest.fixture(scope="session")
def lr_random(tmp_path_factory: pytest.TempPathFactory) -> Search:
    """30 random trials of 3 epochs on `lr_only` (only the learning rate matters)."""
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=30, seed=1)
    directory = tmp_path_factory.mktemp("lr_random")
    run_oracle(oracle, objective, epochs=3, directory=directory)
    return Search(oracle, directory / objective.name)


@pytest.fixture(scope="session")
def mlp_hyperband(tmp_path_factory: pytest.TempPathFactory) -> Search:
    """One Hyperband iteration on `mlp` (conditional `reg_strength`, choices)."""
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(HyperbandOracle, objective, max_epochs=9, seed=1)
    directory = tmp_path_factory.mktemp("mlp_hyperband")
    run_oracle(oracle, objective, directory=directory)
    return Search(oracle, directory / objective.name)


@pytest.fixture(scope="session")
def with_history(tmp_path_factory: pytest.TempPathFactory) -> Search:
    """A search whose oracle keeps a narrowing history and a pruning log."""
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(HistoryOracle, objective, max_trials=6, seed=2)
    directory = tmp_path_factory.mktemp("with_history")
    run_oracle(oracle, objective, epochs=2, directory=directory)
    return Search(oracle, directory / objective.name)


@pytest.fixture
def interrupted(tmp_path: Path) -> Search:
    """A Hyperband search killed during its fifth trial, after one epoch."""
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(HyperbandOracle, objective, max_epochs=9, seed=1)
    run_oracle(oracle, objective, max_trials=4, directory=tmp_path)
    trial = oracle.create_trial("tuner0")
    oracle.update_trial(trial.trial_id, {objective.metric: 0.3}, step=0)
    return Search(oracle, tmp_path / objective.name)


@pytest.fixture
def no_completed_trial(tmp_path: Path) -> Callable[[str], Search]:
    """Makes a search on disk without a completed trial.

    `what`: "no trial" (oracle.json only), "running" (one trial that reported
    an epoch) or "failed" (two failed trials).
    """

    def make(what: str) -> Search:
        objective = get_objective("lr_only", seed=0)
        oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
        oracle._set_project_dir(str(tmp_path), "none")
        oracle.update_space(objective.hyperparameters())
        if what == "running":
            trial = oracle.create_trial("tuner0")
            oracle.update_trial(trial.trial_id, {objective.metric: 0.5}, step=0)
        elif what == "failed":
            for _ in range(2):
                trial = oracle.create_trial("tuner0")
                trial.status = TrialStatus.FAILED
                trial.message = "boom"
                oracle.end_trial(trial)
        oracle.save()
        return Search(oracle, tmp_path / "none")

    return make
