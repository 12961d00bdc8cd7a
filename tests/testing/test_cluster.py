"""run_local_cluster: a chief and workers of one command on 127.0.0.1."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from kt_ext.testing import run_local_cluster

SHOW_ENV = (
    "import os, sys; sys.stderr.write(' '.join(os.environ[k] for k in "
    "('KERASTUNER_TUNER_ID', 'KERASTUNER_ORACLE_IP', 'KERASTUNER_ORACLE_PORT', "
    "'EXTRA')))"
)


def test_each_process_gets_its_id_and_the_chiefs_address(tmp_path):
    codes = run_local_cluster(
        [sys.executable, "-c", SHOW_ENV],
        2,
        logs=tmp_path,
        env={"EXTRA": "all"},
        worker_env={"tuner1": {"EXTRA": "mine"}},
        timeout=60,
    )
    assert codes == {"chief": 0, "tuner0": 0, "tuner1": 0}
    seen = {p.stem: p.read_text().split() for p in tmp_path.glob("*.err")}
    assert {name: words[0] for name, words in seen.items()} == {
        "chief": "chief",
        "tuner0": "tuner0",
        "tuner1": "tuner1",
    }
    assert len({tuple(words[1:3]) for words in seen.values()}) == 1
    assert seen["tuner1"][3] == "mine" and seen["tuner0"][3] == "all"


def test_processes_past_the_deadline_are_killed(tmp_path):
    sleeper = "import os, sys, time; sys.stderr.write(str(os.getpid()))\n" + (
        "sys.stderr.flush(); time.sleep(60)"
    )
    with pytest.raises(subprocess.TimeoutExpired):
        run_local_cluster([sys.executable, "-c", sleeper], 1, logs=tmp_path, timeout=3)
    pids = [int(p.read_text()) for p in tmp_path.glob("*.err")]
    assert len(pids) == 2
    for pid in pids:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)


@pytest.mark.parametrize("workers", [0, 1.5, True])
def test_bad_worker_counts_are_rejected(tmp_path, workers):
    with pytest.raises(ValueError, match="workers"):
        run_local_cluster(["true"], workers, logs=tmp_path)


def test_a_command_string_is_rejected(tmp_path):
    with pytest.raises(TypeError, match="command"):
        run_local_cluster("python search.py", 1, logs=tmp_path)
