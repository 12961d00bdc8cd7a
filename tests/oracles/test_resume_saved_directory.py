"""A search directory saved before the oracles were composed of parts resumes.

``data/<case>/`` holds the first 7 trials of each search as the oracles of
kt_ext 0.x wrote them (snapshot, journal and trial files), before issue 20
split the oracle into parts; ``decisions/resumed_tails.json`` the trials that
the same code handed out after resuming there. The saved state's keys must
stay readable, and the resumed search must end at the same decisions. To
record again: ``python tests/oracles/test_resume_saved_directory.py``.
"""

from __future__ import annotations

import json
import pathlib
import shutil
import tempfile

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

HERE = pathlib.Path(__file__).parent
DATA = HERE / "data"
TAILS = HERE / "decisions" / "resumed_tails.json"
CASES = {
    "c2f": (CoarseToFineOracle, {"max_epochs": 9, "seed": 1}),
    "rp": (RankPruningOracle, {"max_epochs": 9, "seed": 1}),
}
HEAD = 7


def _oracle(case: str):
    cls, kwargs = CASES[case]
    objective = get_objective("mlp", seed=0)
    return make_oracle(cls, objective, **kwargs), objective


def resumed_tail(case: str, directory: pathlib.Path) -> list[list]:
    """Reloads ``directory/<objective>`` and runs the search to its end."""
    oracle, objective = _oracle(case)
    oracle._set_project_dir(str(directory), objective.name)
    oracle.reload()
    result = run_oracle(oracle, objective, epochs=3)
    trials = [[t.trial_id, t.values, t.status, t.score] for t in result.trials]
    return [*trials, oracle.epochs_used]


def save_head(case: str, directory: pathlib.Path) -> None:
    oracle, objective = _oracle(case)
    run_oracle(oracle, objective, epochs=3, max_trials=HEAD, directory=directory)


@pytest.mark.parametrize("case", sorted(CASES))
def test_a_directory_saved_before_resumes_at_the_same_decisions(tmp_path, case):
    shutil.copytree(DATA / case, tmp_path / case)
    tail = json.loads(json.dumps(resumed_tail(case, tmp_path / case)))
    assert tail == json.loads(TAILS.read_text())[case]


if __name__ == "__main__":
    tails = {}
    for name in sorted(CASES):
        shutil.rmtree(DATA / name, ignore_errors=True)
        save_head(name, DATA / name)
        with tempfile.TemporaryDirectory() as scratch:
            shutil.copytree(DATA / name, pathlib.Path(scratch) / name)
            tails[name] = resumed_tail(name, pathlib.Path(scratch) / name)
    TAILS.write_text(json.dumps(tails, indent=1, sort_keys=True) + "\n")
