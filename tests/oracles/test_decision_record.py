"""The same seed gives the same search: every decision, against a stored record.

``tests/oracles/decisions/<case>.json`` holds, for each case, every trial's
id, values, status, score, epochs and parent, the narrowing and pruning logs,
the stopped trials and the epochs used; the retry and released-worker cases
hold the sequence of ``create_trial`` answers. Decisions (ids, categorical and
integer values, statuses, epochs, actions, rounds) must match exactly; floats
(scores, float values, rho, p-values, best scores) to a relative 1e-6, so a
change in the last digits of a dependency's float arithmetic is not a change
of decision.

The record was generated from the oracles as they were when it replaced the
decision fingerprints (their digests matched it). A change in how state is
stored or work is organised must leave it as it is. Only an intended change
of the search *algorithm* regenerates it, deliberately, in a commit that does
nothing else and says why::

    python tests/oracles/test_decision_record.py          # rewrite every case
    python tests/oracles/test_decision_record.py rp-trials
"""

from __future__ import annotations

import json
import math
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any
from unittest import mock

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

RECORD_DIR = Path(__file__).parent / "decisions"
REL_TOL = 1e-6
ABS_TOL = 1e-9

ORACLES = {"c2f": CoarseToFineOracle, "rp": RankPruningOracle}


def search_record(prefix: str, settings: dict[str, Any], max_trials: int | None):
    """Every decision of one uninterrupted search on the synthetic MLP."""
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(ORACLES[prefix], objective, seed=1, **settings)
    with tempfile.TemporaryDirectory() as directory:
        result = run_oracle(
            oracle, objective, epochs=3, max_trials=max_trials, directory=directory
        )
    return {
        "settings": {"max_trials": max_trials, **settings, "seed": 1},
        "trials": [
            {
                "trial_id": t.trial_id,
                "values": t.values,
                "status": t.status,
                "score": t.score,
                "epochs_trained": t.epochs_trained,
                "initial_epoch": t.initial_epoch,
                "continued_from": t.continued_from,
            }
            for t in result.trials
        ],
        "narrowing_history": getattr(oracle, "narrowing_history", None),
        "pruning_log": getattr(oracle, "pruning_log", None),
        "stopped_trials": getattr(oracle, "stopped_trials", None),
        "epochs_used": oracle.epochs_used,
    }


def answer(tuner_id: str, trial, **extra: Any) -> dict[str, Any]:
    """One ``create_trial`` answer: status, and the trial if one runs."""
    step = {"tuner_id": tuner_id, "status": trial.status, **extra}
    if trial.status == "RUNNING":
        step["trial_id"] = trial.trial_id
        step["values"] = dict(trial.hyperparameters.values)
    return step


def train(oracle, objective, trial, epochs: int | None = None) -> int:
    """Reports ``trial``'s epochs (or the first ``epochs``); returns the last."""
    values = trial.hyperparameters.values
    start = values["tuner/initial_epoch"]
    stop = values["tuner/epochs"] if epochs is None else start + epochs
    for epoch in range(start, stop):
        score = objective.evaluate(values, epoch + 1)
        reported = oracle.update_trial(trial.trial_id, {"val_loss": score}, step=epoch)
        if reported.status == "STOPPED":
            return epoch
    return stop - 1


def retry_record(prefix: str) -> dict[str, Any]:
    """One worker; every fourth new trial crashes (INVALID) after one epoch."""
    objective = get_objective("mlp", seed=0)
    settings = {"max_epochs": 3, "max_retries_per_trial": 1, "seed": 1}
    oracle = make_oracle(ORACLES[prefix], objective, **settings)
    steps, crashed = [], set()
    with tempfile.TemporaryDirectory() as directory:
        oracle._set_project_dir(directory, "retry")
        for _ in range(200):
            trial = oracle.create_trial("tuner0")
            steps.append(answer("tuner0", trial))
            if trial.status != "RUNNING":
                break
            crash = int(trial.trial_id) % 4 == 1 and trial.trial_id not in crashed
            if crash:
                crashed.add(trial.trial_id)
                train(oracle, objective, trial, epochs=1)
            else:
                train(oracle, objective, trial)
            trial.status = "INVALID" if crash else "COMPLETED"
            oracle.end_trial(trial)
            steps[-1]["ended"] = oracle.get_trial(trial.trial_id).status
    return {"settings": settings, "steps": steps, "epochs_used": oracle.epochs_used}


class Clock:
    """``time.monotonic`` for the released-worker case: moves when told."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def release_record(prefix: str) -> dict[str, Any]:
    """Three workers, one epoch each per 10 s tick; worker w1 dies at tick 3.

    Its trial goes to the next worker that asks once it has been silent for
    ``worker_timeout`` (25 s). Every ``create_trial`` answer is recorded, IDLE
    ones included, with the tick it came at.
    """
    objective = get_objective("mlp", seed=0)
    settings = {"max_epochs": 3, "worker_timeout": 25, "seed": 1}
    clock = Clock()
    steps, released = [], []
    with (
        tempfile.TemporaryDirectory() as directory,
        mock.patch("time.monotonic", clock),
    ):
        oracle = make_oracle(ORACLES[prefix], objective, **settings)
        oracle._set_project_dir(directory, "release")
        running: dict[str, tuple[Any, int]] = {}  # worker: (trial, next epoch)
        done: set[str] = set()
        for tick in range(300):
            for worker in ("w0", "w1", "w2"):
                if worker in done or (worker == "w1" and tick >= 3):
                    continue
                if worker not in running:
                    trial = oracle.create_trial(worker)
                    steps.append(answer(worker, trial, tick=tick))
                    if trial.status == "STOPPED":
                        done.add(worker)
                    if trial.status == "RUNNING":
                        values = trial.hyperparameters.values
                        running[worker] = (trial, values["tuner/initial_epoch"])
                    continue
                trial, epoch = running[worker]
                values = trial.hyperparameters.values
                score = objective.evaluate(values, epoch + 1)
                reported = oracle.update_trial(
                    trial.trial_id, {"val_loss": score}, step=epoch
                )
                running[worker] = (trial, epoch + 1)
                if reported.status == "STOPPED" or epoch + 1 == values["tuner/epochs"]:
                    trial.status = "COMPLETED"
                    oracle.end_trial(trial)
                    del running[worker]
            if len(done) == 2:
                break
            clock.now += 10
            handed_back = oracle.release_silent_workers()
            if handed_back:
                released.append({"tick": tick, "trial_ids": handed_back})
    return {
        "settings": settings,
        "steps": steps,
        "released": released,
        "epochs_used": oracle.epochs_used,
    }


CASES: dict[str, Callable[[], dict[str, Any]]] = {
    "c2f-budget": lambda: search_record("c2f", {"max_epochs": 9}, None),
    "c2f-trials": lambda: search_record(
        "c2f", {"max_epochs": 3, "max_trials": 300}, 300
    ),
    "rp-budget": lambda: search_record("rp", {"max_epochs": 9}, None),
    "rp-trials": lambda: search_record("rp", {"max_epochs": 3, "max_trials": 300}, 300),
    "c2f-retry": lambda: retry_record("c2f"),
    "rp-retry": lambda: retry_record("rp"),
    "c2f-release": lambda: release_record("c2f"),
    "rp-release": lambda: release_record("rp"),
}


def to_json(record: dict[str, Any]) -> str:
    """Sorted keys; a list's items one to a line, so a diff shows which changed."""
    lines = ["{"]
    for index, (key, value) in enumerate(sorted(record.items())):
        comma = "," if index < len(record) - 1 else ""
        if isinstance(value, list) and value:
            items = [json.dumps(item, sort_keys=True) for item in value]
            lines.append(f"  {json.dumps(key)}: [")
            lines.append(",\n".join(f"    {item}" for item in items))
            lines.append(f"  ]{comma}")
        else:
            lines.append(
                f"  {json.dumps(key)}: {json.dumps(value, sort_keys=True)}{comma}"
            )
    return "\n".join(lines) + "\n}\n"


def first_difference(expected: Any, actual: Any, path: str = "") -> str | None:
    """Where ``actual`` first departs from ``expected``, or None.

    Floats agree to ``REL_TOL`` (or ``ABS_TOL`` near zero); everything else,
    types included, exactly.
    """
    if isinstance(expected, float) and type(actual) is float:
        if math.isclose(expected, actual, rel_tol=REL_TOL, abs_tol=ABS_TOL):
            return None
        return f"{path}: recorded {expected!r}, now {actual!r}"
    if isinstance(expected, dict) and isinstance(actual, dict):
        if expected.keys() != actual.keys():
            missing = sorted(expected.keys() - actual.keys())
            extra = sorted(actual.keys() - expected.keys())
            return f"{path}: keys missing {missing}, new keys {extra}"
        for key in sorted(expected):
            found = first_difference(expected[key], actual[key], f"{path}.{key}")
            if found:
                return found
        return None
    if isinstance(expected, list) and isinstance(actual, list):
        for index, (old, new) in enumerate(zip(expected, actual, strict=False)):
            label = f"{path}[{index}]"
            if isinstance(old, dict) and "trial_id" in old:
                label += f" (trial {old['trial_id']})"
            found = first_difference(old, new, label)
            if found:
                return found
        if len(expected) != len(actual):
            return f"{path}: recorded {len(expected)} items, now {len(actual)}"
        return None
    if type(expected) is not type(actual) or expected != actual:
        return f"{path}: recorded {expected!r}, now {actual!r}"
    return None


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_seed_same_decisions(case):
    recorded = json.loads((RECORD_DIR / f"{case}.json").read_text())
    now = json.loads(json.dumps(CASES[case]()))
    difference = first_difference(recorded, now, case)
    assert difference is None, (
        f"The decisions differ from tests/oracles/decisions/{case}.json at "
        f"{difference}. Only an intended change of the search algorithm may "
        "regenerate the record (python tests/oracles/test_decision_record.py), "
        "in a commit of its own that says why."
    )


def test_floats_agree_to_a_tolerance_and_decisions_exactly():
    recorded = {"trials": [{"trial_id": "0003", "values": {"units": 32}}]}
    changed = {"trials": [{"trial_id": "0003", "values": {"units": 33}}]}
    assert first_difference(recorded, changed) == (
        ".trials[0] (trial 0003).values.units: recorded 32, now 33"
    )
    assert first_difference({"p": 0.1234567}, {"p": 0.1234567 * (1 + 1e-9)}) is None
    assert first_difference({"p": 0.5}, {"p": 0.5001}) is not None
    assert first_difference({"epochs": 3}, {"epochs": 3.0}) is not None
    assert first_difference([1, 2], [1, 2, 3]) == ": recorded 2 items, now 3"


def main(names: list[str]) -> None:
    """Rewrites the record of ``names`` (every case if empty)."""
    RECORD_DIR.mkdir(exist_ok=True)
    for name in names or sorted(CASES):
        (RECORD_DIR / f"{name}.json").write_text(to_json(CASES[name]()))
        print(f"wrote {RECORD_DIR / name}.json")


if __name__ == "__main__":
    main(sys.argv[1:])
