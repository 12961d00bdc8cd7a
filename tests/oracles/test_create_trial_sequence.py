"""A retry and a released worker hand out the same trials, call after call.

The sequences in ``decisions/create_trial_sequences.json`` were recorded from
the oracles before they were composed of parts (issue 20): three workers ask
in turn; one trial ends INVALID (Keras Tuner queues it for a retry), one
worker goes silent mid-trial and is released after ``worker_timeout``, and its
trial goes to the next worker that asks. Every ``create_trial`` answer (worker,
status, trial id, values, epochs charged) must stay the same. To record again
after a deliberate change of decisions: ``python
tests/oracles/test_create_trial_sequence.py``.
"""

from __future__ import annotations

import json
import math
import pathlib
import tempfile
import time

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle

RECORD = pathlib.Path(__file__).parent / "decisions" / "create_trial_sequences.json"

CASES = {
    "c2f": (CoarseToFineOracle, {"max_epochs": 9, "epoch_budget": 60}),
    "rp": (RankPruningOracle, {"max_epochs": 9, "epoch_budget": 60, "min_peers": 2}),
}


class Clock:
    """A stand-in for ``time.monotonic`` that moves only when told."""

    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


def sequence(case: str, directory: str, clock: Clock) -> list[list]:
    """Drives the oracle of ``case`` with three workers; its create_trial answers."""
    cls, kwargs = CASES[case]
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(
        cls,
        objective,
        seed=0,
        max_retries_per_trial=1,
        worker_timeout=60,
        **kwargs,
    )
    oracle._set_project_dir(directory, case)
    oracle.update_space(objective.hyperparameters())
    workers, dead, handed, answers = ["w0", "w1", "w2"], set(), 0, []
    for step in range(300):
        worker = workers[step % len(workers)]
        if worker in dead:
            continue
        clock.now += 1
        trial = oracle.create_trial(worker)
        values = trial.hyperparameters.values if trial.hyperparameters else {}
        answers.append(
            [worker, trial.status, trial.trial_id, dict(values), oracle.epochs_used]
        )
        if trial.status == "STOPPED":
            break
        if trial.status == "IDLE":
            clock.now += 30
            continue
        handed += 1
        if handed == 5:
            dead.add(worker)  # silent from now on, its trial unfinished
            continue
        start = values.get("tuner/initial_epoch", 0)
        for epoch in range(start, values["tuner/epochs"]):
            score = objective.evaluate(values, epoch + 1)
            reported = oracle.update_trial(
                trial.trial_id, {objective.metric: score}, step=epoch
            )
            if not math.isfinite(score) or reported.status == "STOPPED":
                break
        trial.status = "INVALID" if handed == 3 else "COMPLETED"
        oracle.end_trial(trial)
    return answers


def record() -> dict[str, list[list]]:
    clock = Clock()
    real = time.monotonic
    time.monotonic = clock
    try:
        with tempfile.TemporaryDirectory() as directory:
            return {case: sequence(case, directory, clock) for case in sorted(CASES)}
    finally:
        time.monotonic = real


@pytest.mark.parametrize("case", sorted(CASES))
def test_create_trial_answers_are_as_recorded(tmp_path, monkeypatch, case):
    clock = Clock()
    monkeypatch.setattr(time, "monotonic", clock)
    expected = json.loads(RECORD.read_text())[case]
    got = json.loads(json.dumps(sequence(case, str(tmp_path), clock)))
    assert got == expected


def test_the_record_covers_a_retry_and_a_released_worker():
    expected = json.loads(RECORD.read_text())
    for answers in expected.values():
        ids = [trial_id for _, status, trial_id, _, _ in answers if status == "RUNNING"]
        assert len(ids) != len(set(ids))  # a trial handed out twice
        assert any(status == "IDLE" for _, status, *_ in answers)
        assert answers[-1][1] == "STOPPED"


if __name__ == "__main__":
    RECORD.write_text(json.dumps(record(), indent=1, sort_keys=True) + "\n")
