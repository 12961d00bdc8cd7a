"""A search killed with SIGKILL and restarted ends as if never interrupted."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap

import pytest

SEARCH = textwrap.dedent(
    """
    import json, os, sys
    from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
    from kt_ext.testing import die_after, get_objective, make_oracle, run_oracle

    directory, oracle_name, kill_at = sys.argv[1], sys.argv[2], int(sys.argv[3])
    objective = die_after(get_objective("mlp", seed=2), kill_at)
    name, _, promotion = oracle_name.partition("-")
    cls = {"c2f": CoarseToFineOracle, "rp": RankPruningOracle}[name]
    oracle = make_oracle(cls, objective, max_epochs=9, epoch_budget=60, seed=3,
                         promotion=promotion or "sync")
    oracle._set_project_dir(directory, objective.name)
    if os.path.exists(os.path.join(directory, objective.name, "oracle.json")):
        oracle.reload()
    run_oracle(oracle, objective)
    best = oracle.get_best_trials(1)[0]
    values = {k: v for k, v in best.hyperparameters.values.items() if "/" not in k}
    ids = sorted(t.trial_id for t in oracle.trials.values())
    print(json.dumps({"best": values, "trials": ids, "epochs": oracle.epochs_used}))
    """
)


def search(directory, oracle_name, kill_at=0):
    return subprocess.run(
        [sys.executable, "-c", SEARCH, str(directory), oracle_name, str(kill_at)],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
    )


# Each number: how many epochs a run trains before it is killed; the next
# run resumes the same folder. Kills land in early and late rounds.
KILLS = {"c2f": [7, 15, 4, 22], "rp": [30, 12, 6], "rp-async": [9, 20]}


@pytest.mark.slow
@pytest.mark.parametrize("oracle_name", sorted(KILLS))
def test_a_search_killed_again_and_again_ends_like_an_uninterrupted_one(
    tmp_path, oracle_name
):
    whole = search(tmp_path / "whole", oracle_name)
    assert whole.returncode == 0, whole.stderr[-2000:]
    expected = json.loads(whole.stdout.splitlines()[-1])

    for kill_at in KILLS[oracle_name]:
        killed = search(tmp_path / "killed", oracle_name, kill_at=kill_at)
        assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = search(tmp_path / "killed", oracle_name)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert json.loads(resumed.stdout.splitlines()[-1]) == expected
