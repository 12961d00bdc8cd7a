"""Directories saved by kt_ext 0.1 resume under today's code, to the same end.

``tests/oracles/data/<oracle>/mlp`` are search folders written by kt_ext 0.1
(state without ``state_version``, i.e. version 1), saved mid-search by the
synthetic driver: 31 trials ended and trial 0031 cut short after one epoch,
as a kill leaves it. They are never regenerated: they stand for what users
have on disk. (They were written by ``python
tests/oracles/test_saved_directories.py``, on the commit that added them.)
"""

from __future__ import annotations

import json
import shutil
import sys
from pathlib import Path

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.oracles._state_version import STATE_VERSION
from kt_ext.testing import first_difference, get_objective, make_oracle, run_oracle

pytestmark = pytest.mark.floors

DATA = Path(__file__).parent / "data"
ORACLES = {"coarse_to_fine": CoarseToFineOracle, "rank_pruning": RankPruningOracle}
SETTINGS = {"max_epochs": 9, "seed": 1}
ENDED_BEFORE_THE_KILL = 31


def oracle_for(name: str):
    objective = get_objective("mlp", seed=0)
    return make_oracle(ORACLES[name], objective, **SETTINGS), objective


def decisions(oracle) -> dict:
    """Every trial's decisions, and the oracle's logs, after a search."""
    trials = {
        trial_id: {
            "values": trial.hyperparameters.values,
            "status": trial.status,
            "score": trial.score,
            "best_step": trial.best_step,
        }
        for trial_id, trial in sorted(oracle.trials.items())
    }
    return json.loads(
        json.dumps(
            {
                "trials": trials,
                "narrowing_history": getattr(oracle, "narrowing_history", None),
                "pruning_log": getattr(oracle, "pruning_log", None),
                "stopped_trials": getattr(oracle, "stopped_trials", None),
                "epochs_used": oracle.epochs_used,
            }
        )
    )


def resumed_copy(name: str, tmp_path: Path):
    """The saved folder copied to ``tmp_path``, reloaded into a new oracle."""
    shutil.copytree(DATA / name, tmp_path / name)
    oracle, objective = oracle_for(name)
    oracle._set_project_dir(str(tmp_path / name), objective.name)
    oracle.reload()
    return oracle, objective


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_a_saved_directory_resumes_to_the_uninterrupted_decisions(name, tmp_path):
    uninterrupted, objective = oracle_for(name)
    run_oracle(uninterrupted, objective, epochs=3, directory=tmp_path / "whole")
    resumed, _ = resumed_copy(name, tmp_path)
    assert len(resumed.end_order) == ENDED_BEFORE_THE_KILL
    rerun = run_oracle(resumed, objective, epochs=3)
    assert rerun.trials[0].trial_id == f"{ENDED_BEFORE_THE_KILL:04d}"  # cut short
    difference = first_difference(decisions(uninterrupted), decisions(resumed))
    assert difference is None, difference


@pytest.mark.parametrize("name", sorted(ORACLES))
def test_a_save_writes_the_current_state_version(name, tmp_path):
    saved_by_0_1 = json.loads((DATA / name / "mlp/oracle.json").read_text())
    assert "state_version" not in saved_by_0_1  # version 1
    resumed, _ = resumed_copy(name, tmp_path)
    resumed.save()  # a reloaded search writes a whole snapshot
    saved = json.loads((tmp_path / name / "mlp/oracle.json").read_text())
    assert saved["state_version"] == STATE_VERSION == 1


def test_a_newer_state_version_is_refused_naming_both(tmp_path):
    shutil.copytree(DATA / "rank_pruning", tmp_path / "rank_pruning")
    path = tmp_path / "rank_pruning/mlp/oracle.json"
    state = json.loads(path.read_text())
    path.write_text(json.dumps({**state, "state_version": STATE_VERSION + 1}))
    oracle, objective = oracle_for("rank_pruning")
    oracle._set_project_dir(str(tmp_path / "rank_pruning"), objective.name)
    with pytest.raises(ValueError, match=r"state version 2, .* versions 1 to 1"):
        oracle.reload()
    assert json.loads(path.read_text())["state_version"] == 2  # left as it was


def save_mid_search(name: str) -> None:
    """Writes ``data/<name>``: 31 trials ended, the next cut short after 1 epoch."""
    oracle, objective = oracle_for(name)
    folder = DATA / name
    shutil.rmtree(folder, ignore_errors=True)
    run_oracle(
        oracle, objective, epochs=3, max_trials=ENDED_BEFORE_THE_KILL, directory=folder
    )
    trial = oracle.create_trial("tuner0")
    values = trial.hyperparameters.values
    epoch = values["tuner/initial_epoch"]
    score = objective.evaluate(values, epoch + 1)
    oracle.update_trial(trial.trial_id, {objective.metric: score}, step=epoch)
    oracle.save()  # then the process is killed


if __name__ == "__main__":
    for name in sys.argv[1:] or sorted(ORACLES):
        save_mid_search(name)
