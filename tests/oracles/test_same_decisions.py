"""The same seed gives the same search: a fingerprint of every decision.

The digests were taken from the oracles before their state files became a
journal (issue 7); a change in how state is stored or in how per-decision work
is done must not change a single trial. If a change of the search *algorithm*
is intended, print the new digests with ``decisions_digest`` and update them
in the same commit, saying why.
"""

from __future__ import annotations

import hashlib
import json

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle


def decisions_digest(oracle, result) -> str:
    """A digest of every trial's values, status, score and epochs, and the logs."""
    record = {
        "trials": [
            [t.trial_id, t.values, t.status, t.score, t.epochs_trained, t.initial_epoch]
            for t in result.trials
        ],
        "history": getattr(oracle, "narrowing_history", None),
        "log": getattr(oracle, "pruning_log", None),
        "stopped": getattr(oracle, "stopped_trials", None),
        "epochs": oracle.epochs_used,
    }
    text = json.dumps(record, sort_keys=True, default=repr)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


CASES = {
    "c2f-budget": (CoarseToFineOracle, {"max_epochs": 9, "seed": 1}, None),
    "c2f-trials": (CoarseToFineOracle, {"max_epochs": 3, "max_trials": 300}, 300),
    "rp-budget": (RankPruningOracle, {"max_epochs": 9, "seed": 1}, None),
    "rp-trials": (RankPruningOracle, {"max_epochs": 3, "max_trials": 300}, 300),
}

EXPECTED = {
    "c2f-budget": "3b1c922a9240c4d4",  # 21 trials
    "c2f-trials": "cbc137220ca8297c",  # 300 trials
    "rp-budget": "2ad6c7ef6b0b9bd4",  # 25 trials, 5 stopped early
    "rp-trials": "5c46508eec3f5ee7",  # 300 trials, 77 stopped early
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_same_seed_same_decisions(tmp_path, case):
    cls, kwargs, max_trials = CASES[case]
    kwargs = {"seed": 1, **kwargs}
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(cls, objective, **kwargs)
    result = run_oracle(
        oracle, objective, epochs=3, max_trials=max_trials, directory=tmp_path
    )
    assert decisions_digest(oracle, result) == EXPECTED[case]
