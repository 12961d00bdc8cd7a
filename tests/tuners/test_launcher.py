"""``search(workers=N)``: workers start, stop and leave no process behind.

Each test runs a caller script (the user's process, the chief in it) as a
subprocess, so that it can be interrupted or killed like a user's, and checks
the workers by process listing. A synthetic objective keeps trials cheap (no
Keras training); the caller's tuner class is defined in its ``__main__``, so
it reaches the workers by value, as a notebook's would.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from kt_ext.oracles import CoarseToFineOracle
from kt_ext.testing import SyntheticTuner, get_objective, make_oracle, run_oracle
from kt_ext.tuners._launch_plan import usable_cpus, visible_gpus, worker_devices

pytestmark = pytest.mark.slow

SETTINGS = {"max_epochs": 9, "epoch_budget": 60, "seed": 3, "promotion": "sync"}
LONG = {"max_epochs": 27, "epoch_budget": 2000, "seed": 3}
DEADLINE_S = 150

CALLER = textwrap.dedent(
    """
    import json, os, signal, sys
    from keras_tuner.oracles import HyperbandOracle
    from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
    from kt_ext.testing import SyntheticTuner, get_objective, make_oracle

    signal.signal(signal.SIGINT, signal.default_int_handler)  # as in a terminal
    directory, name = sys.argv[1], sys.argv[2]
    settings, seconds = json.loads(sys.argv[3]), float(sys.argv[4])
    kill_at, mode = int(sys.argv[5]), sys.argv[6]
    objective = get_objective("mlp", seed=2)
    DEVICE_VARIABLES = ["CUDA_VISIBLE_DEVICES", "TF_NUM_INTRAOP_THREADS",
                        "TF_NUM_INTEROP_THREADS", "OMP_NUM_THREADS"]

    class LoggedTuner(SyntheticTuner):
        def run_trial(self, trial, *args, **kwargs):
            tuner_id = os.environ.get("KERASTUNER_TUNER_ID", "caller")
            run = {"tuner": tuner_id, "trial": trial.trial_id, "pid": os.getpid(),
                   "env": {k: os.environ.get(k) for k in DEVICE_VARIABLES}}
            with open(os.path.join(directory, "runs.jsonl"), "a") as log:
                log.write(json.dumps(run) + "\\n")
            mine = self.__dict__.setdefault("runs", [])
            mine.append(trial.trial_id)
            if tuner_id == "worker0" and len(mine) == kill_at:
                os.kill(os.getpid(), signal.SIGKILL)
            return super().run_trial(trial, *args, **kwargs)

    if mode == "raise":
        from kt_ext.tuners import _launcher

        def check(processes, folder):
            runs = os.path.join(directory, "runs.jsonl")
            if os.path.exists(runs) and len(open(runs).readlines()) >= 2:
                raise RuntimeError("an error in the chief")

        _launcher._check = check

    cls = {"c2f": CoarseToFineOracle, "rp": RankPruningOracle,
           "hb": HyperbandOracle}[name]
    if name != "hb":  # Keras Tuner's own oracle has no worker_timeout
        settings["worker_timeout"] = 2.0
    oracle = make_oracle(cls, objective, **settings)
    tuner = LoggedTuner(oracle, objective, seconds_per_epoch=seconds,
                        directory=directory, project_name="search")
    environ = dict(os.environ)
    tuner.search(workers=2)
    summary = {
        "statuses": {t.trial_id: t.status for t in oracle.trials.values()},
        "best": {k: v for k, v in oracle.get_best_trials(1)[0].hyperparameters
                 .values.items() if "/" not in k},
        "epochs_used": getattr(oracle, "epochs_used", 0),
        "environ_unchanged": dict(os.environ) == environ,
    }
    with open(os.path.join(directory, "summary.json"), "w") as out:
        json.dump(summary, out)
    """
)


def start_caller(
    directory: Path,
    oracle_name: str = "c2f",
    settings: dict | None = None,
    seconds: float = 0.05,
    kill_at: int = 0,
    mode: str = "",
) -> subprocess.Popen:
    directory.mkdir(exist_ok=True)
    command = [
        sys.executable,
        "-c",
        CALLER,
        str(directory),
        oracle_name,
        json.dumps(settings or SETTINGS),
        str(seconds),
        str(kill_at),
        mode or "-",
    ]
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"}
    env.pop("KERASTUNER_TUNER_ID", None)
    return subprocess.Popen(
        command,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=open(directory / "caller.err", "w"),
        start_new_session=True,
    )


def finish(process: subprocess.Popen, directory: Path) -> int:
    try:
        return process.wait(timeout=DEADLINE_S)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def workers_of(directory: Path) -> list[int]:
    """The pids of this machine's worker processes of ``directory``'s search."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        ours = "kt_ext.tuners._worker" in command and str(directory) in command
        if ours and state != "Z":  # a zombie has exited, its parent not reaped it
            pids.append(int(entry.name))
    return pids


def read_runs(directory: Path) -> list[dict]:
    path = directory / "runs.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


def wait_for_both_workers(directory: Path, process: subprocess.Popen) -> None:
    deadline = time.monotonic() + DEADLINE_S
    while {r["tuner"] for r in read_runs(directory)} != {"worker0", "worker1"}:
        assert process.poll() is None, (directory / "caller.err").read_text()[-2000:]
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert len(workers_of(directory)) == 2


def assert_no_worker_left(directory: Path, within_s: float = 10.0) -> None:
    deadline = time.monotonic() + within_s
    while workers_of(directory) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert workers_of(directory) == []


def succeeded(process, tmp_path: Path) -> dict:
    """The caller's summary, once it has ended well and left no worker."""
    code = finish(process, tmp_path)
    assert code == 0, (tmp_path / "caller.err").read_text()[-2000:]
    assert_no_worker_left(tmp_path, within_s=0)
    return json.loads((tmp_path / "summary.json").read_text())


def test_two_workers_search_as_one_process_and_leave_nothing(tmp_path):
    process = start_caller(tmp_path)
    summary = succeeded(process, tmp_path)
    assert summary["environ_unchanged"]
    assert set(summary["statuses"].values()) == {"COMPLETED"}
    assert summary["epochs_used"] <= SETTINGS["epoch_budget"]
    runs = read_runs(tmp_path)
    assert {run["tuner"] for run in runs} == {"worker0", "worker1"}
    # Each worker got its devices: a GPU each, or a share of the CPU threads.
    expected = worker_devices(2, visible_gpus(), usable_cpus())
    for index, devices in enumerate(expected):
        seen = {r["tuner"]: r["env"] for r in runs}[f"worker{index}"]
        assert {k: v for k, v in seen.items() if v is not None} == devices
    # Rounds wait for their last trial: the search is the one-process one.
    objective = get_objective("mlp", seed=2)
    oracle = make_oracle(CoarseToFineOracle, objective, **SETTINGS)
    assert summary["best"] == run_oracle(oracle, objective).best_values
    assert not (tmp_path / "search" / "workers" / "payload.pkl").exists()


def test_a_fidelity_tuner_around_keras_tuners_own_oracle(tmp_path):
    process = start_caller(tmp_path, "hb", settings={"max_epochs": 9, "seed": 3})
    summary = succeeded(process, tmp_path)
    assert summary["environ_unchanged"]
    assert set(summary["statuses"].values()) == {"COMPLETED"}
    assert {run["tuner"] for run in read_runs(tmp_path)} == {"worker0", "worker1"}


def test_a_killed_workers_trial_goes_to_the_other(tmp_path):
    process = start_caller(tmp_path, "rp", kill_at=2)
    summary = succeeded(process, tmp_path)
    assert set(summary["statuses"].values()) == {"COMPLETED"}
    assert summary["epochs_used"] <= SETTINGS["epoch_budget"]
    runs = read_runs(tmp_path)
    killed = [run["trial"] for run in runs if run["tuner"] == "worker0"][-1]
    again = [run["tuner"] for run in runs if run["trial"] == killed]
    assert again == ["worker0", "worker1"]


def test_ctrl_c_stops_the_workers_and_the_search_resumes(tmp_path):
    process = start_caller(tmp_path, settings=LONG, seconds=0.2)
    wait_for_both_workers(tmp_path, process)
    process.send_signal(signal.SIGINT)
    code = finish(process, tmp_path)
    assert code != 0
    assert "KeyboardInterrupt" in (tmp_path / "caller.err").read_text()
    assert_no_worker_left(tmp_path)
    before = len(read_runs(tmp_path))

    # The same call again resumes the directory, with a budget that ends it.
    process = start_caller(tmp_path, settings=LONG, seconds=0.0)
    summary = succeeded(process, tmp_path)
    assert set(summary["statuses"].values()) <= {"COMPLETED", "STOPPED"}
    assert summary["epochs_used"] <= LONG["epoch_budget"]
    assert len(read_runs(tmp_path)) > before


def test_an_exception_in_the_chief_stops_the_workers(tmp_path):
    process = start_caller(tmp_path, settings=LONG, seconds=0.2, mode="raise")
    code = finish(process, tmp_path)
    assert code == 1
    assert "an error in the chief" in (tmp_path / "caller.err").read_text()
    assert_no_worker_left(tmp_path)


def test_a_killed_caller_leaves_no_worker(tmp_path):
    process = start_caller(tmp_path, settings=LONG, seconds=0.2)
    wait_for_both_workers(tmp_path, process)
    os.kill(process.pid, signal.SIGKILL)
    process.wait()
    assert_no_worker_left(tmp_path)


def test_a_keras_search_with_cv_in_this_process(tmp_path, binary_data):
    """The chief in pytest's own process: os.environ is untouched; the workers
    train Keras models on the chief's folds, read from mapped arrays."""
    import keras

    import kt_ext

    def build(hp):
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(hp.Int("units", 2, 8), activation="relu"),
                keras.layers.Dense(1, activation="sigmoid"),
            ]
        )
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    (x, y), _ = binary_data
    tuner = kt_ext.CoarseToFine(
        build,
        objective="val_accuracy",
        max_epochs=3,
        epoch_budget=24,
        worker_timeout=10.0,
        seed=1,
        directory=tmp_path,
        project_name="keras",
    )
    environ = dict(os.environ)
    tuner.search(x, y, cv=2, workers=2, verbose=0)
    assert dict(os.environ) == environ
    assert_no_worker_left(tmp_path, within_s=0)
    trials = tuner.oracle.trials.values()
    assert {trial.status for trial in trials} == {"COMPLETED"}
    assert tuner.oracle.epochs_used <= 24
    best = tuner.oracle.get_best_trials(1)[0]
    assert best.metrics.exists("val_accuracy_std")


def _explode() -> None:
    raise RuntimeError("cannot load in a worker")


class Unloadable:
    """Pickles, but raises when a worker unpickles it."""

    def __reduce__(self):
        return (_explode, ())


def test_workers_that_all_fail_end_the_search_with_their_error(tmp_path):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=3, seed=1)
    tuner = SyntheticTuner(oracle, objective, directory=tmp_path, project_name="p")
    with pytest.raises(RuntimeError, match=r"(?s)Every worker exited.*cannot load"):
        tuner.search(workers=2, unloadable=Unloadable())
    assert_no_worker_left(tmp_path, within_s=0)
    assert not (tmp_path / "p" / "workers" / "payload.pkl").exists()
