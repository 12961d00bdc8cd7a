"""Every example runs, offline, at a tiny budget, so that none can rot."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import keras
import pytest

from kt_ext.testing import free_port

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"

TINY = {
    "quickstart_tabular.py": ["--max-epochs", "2"],
    "images_cnn.py": ["--max-epochs", "1", "--max-trials", "1"],
    "lr_schedules.py": ["--max-epochs", "2", "--max-trials", "1"],
    "churn_model_builder.py": ["--max-epochs", "1"],
    "sklearn_search_cv.py": [
        *("--rows", "200", "--max-epochs", "1", "--cv", "2"),
        *("--neurons", "8", "--optimizers", "adam"),
    ],
}


# Runs a script as `python script.py ...` does, once it has said which backend
# Keras runs on (a test under KERAS_BACKEND=jax must not test TensorFlow).
AS_MAIN = (
    "import runpy, sys, keras; "
    "print('keras backend:', keras.backend.backend(), flush=True); "
    "sys.argv = sys.argv[1:]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


# Run by distributed_local.sh, as one chief and two workers.
DISTRIBUTED = "distributed_search.py"


def test_every_example_has_a_tiny_budget():
    scripts = {path.name for path in EXAMPLES.glob("*.py")} - {"_budget.py"}
    assert scripts == {*TINY, DISTRIBUTED}


# On every backend: the tabular quickstart, the LR schedules and scikit-learn's
# wrappers (the CNN and the churn builder take minutes more on JAX, compiling).
ON_EVERY_BACKEND = {"quickstart_tabular.py", "lr_schedules.py", "sklearn_search_cv.py"}


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(name, marks=[pytest.mark.backends] * (name in ON_EVERY_BACKEND))
        for name in sorted(TINY)
    ],
)
def test_example_runs(script, tmp_path):
    if script == "sklearn_search_cv.py" and not hasattr(keras, "wrappers"):
        pytest.skip("keras.wrappers.SKLearnClassifier is Keras 3.8+")
    argv = [script, *TINY[script], "--directory", str(tmp_path)]
    result = subprocess.run(
        [sys.executable, "-c", AS_MAIN, *argv],
        cwd=EXAMPLES,
        capture_output=True,
        text=True,
        timeout=300,
        env={
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PATH": "",
            "HOME": str(tmp_path),
            # The kt_ext under test, where PYTHONPATH points at a checkout.
            "PYTHONPATH": os.environ.get("PYTHONPATH", ""),
            "KERAS_BACKEND": keras.backend.backend(),
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f"keras backend: {keras.backend.backend()}\n" in result.stdout
    assert "test accuracy" in result.stdout or "best schedule" in result.stdout


@pytest.mark.slow
def test_distributed_example_runs_a_chief_and_two_workers(tmp_path):
    port = free_port()
    command = ["bash", "distributed_local.sh", "--max-epochs", "2"]
    process = subprocess.Popen(
        [*command, "--directory", str(tmp_path)],
        cwd=EXAMPLES,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        env={
            "WORKERS": "2",
            "PORT": str(port),
            "PYTHON": sys.executable,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "PATH": os.environ["PATH"],
            "HOME": str(tmp_path),
        },
    )
    try:
        stdout, stderr = process.communicate(timeout=300)
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
            process.communicate()
    assert process.returncode == 0, stderr[-3000:]
    assert "test accuracy" in stdout
    # Both workers took part (each saves a file of its own after a trial).
    assert {p.name for p in tmp_path.glob("distributed/tuner*.json")} == {
        "tuner0.json",
        "tuner1.json",
    }
