"""A seeded Keras search killed with SIGKILL and resumed ends at the same best."""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap

import keras
import pytest

SEARCH = textwrap.dedent(
    """
    import json, os, signal, sys
    import keras
    import kt_ext
    from kt_ext.datasets import load
    from kt_ext.hypermodels import MLPHyperModel

    directory, kill = sys.argv[1], sys.argv[2] == "kill"

    class Tuner(kt_ext.CoarseToFine):
        def on_epoch_end(self, trial, model, epoch, logs=None):
            if kill and trial.trial_id == "0003":  # mid-trial, not yet reported
                os.kill(os.getpid(), signal.SIGKILL)
            super().on_epoch_end(trial, model, epoch, logs=logs)

    (x, y), validation, _ = load("breast_cancer", seed=0)
    hypermodel = MLPHyperModel.for_data(
        x, y, overrides={"num_layers": 1, "units": (4, 16), "batch_size": 64})
    tuner = Tuner(hypermodel, objective="val_loss", max_epochs=3, epoch_budget=12,
                  initial_trials=4, seed=7, directory=directory, project_name="p")
    tuner.search(x, y, validation_data=validation, verbose=0)
    best = tuner.oracle.get_best_trials(1)[0]
    ids = sorted(tuner.oracle.trials)
    print(json.dumps({"best": best.trial_id, "score": best.score, "trials": ids,
                      "backend": keras.backend.backend()}))
    """
)


def search(directory, kill=False):
    return subprocess.run(
        [sys.executable, "-c", SEARCH, str(directory), "kill" if kill else "run"],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "TF_CPP_MIN_LOG_LEVEL": "3",
            "KERAS_BACKEND": keras.backend.backend(),
        },
    )


@pytest.mark.backends
@pytest.mark.slow
def test_a_seeded_keras_search_killed_in_trial_3_ends_like_an_uninterrupted_one(
    tmp_path,
):
    whole = search(tmp_path / "whole")
    assert whole.returncode == 0, whole.stderr[-2000:]
    expected = json.loads(whole.stdout.splitlines()[-1])
    assert expected["backend"] == keras.backend.backend()

    killed = search(tmp_path / "killed", kill=True)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    resumed = search(tmp_path / "killed")
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    result = json.loads(resumed.stdout.splitlines()[-1])

    assert "0003" in result["trials"] and result["trials"] == expected["trials"]
    assert result["best"] == expected["best"]
    assert math.isclose(result["score"], expected["score"], rel_tol=1e-6)
