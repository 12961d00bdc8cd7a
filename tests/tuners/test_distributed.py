"""Keras Tuner's chief/worker mode with kt_ext tuners, one process each.

A synthetic objective keeps trials cheap; the processes talk gRPC on
127.0.0.1 exactly as on several machines. Every process is killed at the end,
whatever happens.
"""

from __future__ import annotations

import json
import os
import signal
import sys
import textwrap
from pathlib import Path

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle, run_local_cluster, run_oracle

pytestmark = pytest.mark.slow

ORACLES = {"c2f": CoarseToFineOracle, "rp": RankPruningOracle}
SETTINGS = {"max_epochs": 9, "epoch_budget": 60, "seed": 3}
WORKER_TIMEOUT_S = 2.0
DEADLINE_S = 150

PROCESS = textwrap.dedent(
    """
    import json, os, sys
    from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
    from kt_ext.testing import SyntheticTuner, die_after, get_objective, make_oracle

    directory, name = sys.argv[1], sys.argv[2]
    settings, timeout = json.loads(sys.argv[3]), float(sys.argv[4])
    kill_after = int(os.environ.get("KILL_AFTER_EPOCHS", "0"))
    tuner_id = os.environ["KERASTUNER_TUNER_ID"]
    objective = die_after(get_objective("mlp", seed=2), kill_after)

    class LoggedTuner(SyntheticTuner):
        def run_trial(self, trial, *args, **kwargs):
            run = {"tuner": tuner_id, "trial": trial.trial_id,
                   "epochs": trial.hyperparameters.values["tuner/epochs"]}
            with open(os.path.join(directory, "runs.jsonl"), "a") as log:
                log.write(json.dumps(run) + "\\n")
            return super().run_trial(trial, *args, **kwargs)

    cls = {"c2f": CoarseToFineOracle, "rp": RankPruningOracle}[name]
    oracle = make_oracle(cls, objective, worker_timeout=timeout, **settings)
    tuner = LoggedTuner(oracle, objective, seconds_per_epoch=0.05,
                        directory=directory, project_name="search")
    tuner.search()
    if tuner_id == "chief":
        best = oracle.get_best_trials(1)[0]
        summary = {
            "statuses": {t.trial_id: t.status for t in oracle.trials.values()},
            "best": {k: v for k, v in best.hyperparameters.values.items()
                     if "/" not in k},
            "epochs_used": oracle.epochs_used,
        }
        with open(os.path.join(directory, "summary.json"), "w") as out:
            json.dump(summary, out)
    """
)


def run_distributed(
    directory: Path, oracle_name: str, workers: int, kill: dict[str, int]
) -> dict[str, int]:
    """Runs a chief and `workers` workers; returns each one's exit code."""
    directory.mkdir()
    command = [
        sys.executable,
        "-c",
        PROCESS,
        str(directory),
        oracle_name,
        json.dumps(SETTINGS),
        str(WORKER_TIMEOUT_S),
    ]
    return run_local_cluster(
        command,
        workers,
        logs=directory,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        worker_env={name: {"KILL_AFTER_EPOCHS": str(n)} for name, n in kill.items()},
        timeout=DEADLINE_S,
    )


def read_runs(directory: Path) -> list[dict]:
    lines = (directory / "runs.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]


def uninterrupted_best(oracle_name: str) -> dict:
    objective = get_objective("mlp", seed=2)
    oracle = make_oracle(ORACLES[oracle_name], objective, **SETTINGS)
    return run_oracle(oracle, objective).best_values


@pytest.mark.parametrize("oracle_name", sorted(ORACLES))
def test_a_killed_worker_neither_stalls_nor_loses_the_search(tmp_path, oracle_name):
    codes = run_distributed(tmp_path / "run", oracle_name, 2, kill={"tuner0": 7})
    errors = {
        name: (tmp_path / "run" / f"{name}.err").read_text()[-1500:] for name in codes
    }
    tails = {name: text[-1500:] for name, text in errors.items()}
    assert codes == {"chief": 0, "tuner0": -signal.SIGKILL, "tuner1": 0}, tails

    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert set(summary["statuses"].values()) == {"COMPLETED"}
    assert summary["epochs_used"] <= SETTINGS["epoch_budget"]
    runs = read_runs(tmp_path / "run")
    # Every trial ran once, but the one the killed worker had, which ran again.
    counts = {trial_id: 0 for trial_id in summary["statuses"]}
    for run in runs:
        counts[run["trial"]] += 1
    killed_trial = [run["trial"] for run in runs if run["tuner"] == "tuner0"][-1]
    assert {t: n for t, n in counts.items() if n != 1} == {killed_trial: 2}
    assert [run for run in runs if run["trial"] == killed_trial][1]["tuner"] == "tuner1"
    if oracle_name == "c2f":
        # Rounds wait for their last trial: the search is the one-process one.
        assert summary["best"] == uninterrupted_best(oracle_name)
