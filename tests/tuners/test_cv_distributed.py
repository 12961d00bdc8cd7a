"""search(cv=...) in Keras Tuner's chief/worker mode: workers run the chief's split.

Every process is killed at the end, whatever happens.
"""

from __future__ import annotations

import json
import os
import sys
import textwrap

import pytest

from kt_ext.testing import run_local_cluster

pytestmark = pytest.mark.slow

PROCESS = textwrap.dedent(
    """
    import json, os, sys
    import keras, numpy as np
    import kt_ext

    directory = sys.argv[1]
    tuner_id = os.environ["KERASTUNER_TUNER_ID"]
    rng = np.random.default_rng(0)
    x = rng.normal(size=(60, 3)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")

    def build(hp):
        model = keras.Sequential([
            keras.Input((3,)),
            keras.layers.Dense(hp.Int("units", 2, 4)),
            keras.layers.Dense(1, activation="sigmoid"),
        ])
        model.compile("adam", "binary_crossentropy", metrics=["accuracy"])
        return model

    class Logged(kt_ext.CoarseToFine):
        def run_trial(self, trial, *args, **kwargs):
            run = {"tuner": tuner_id, "trial": trial.trial_id}
            with open(os.path.join(directory, "runs.jsonl"), "a") as log:
                log.write(json.dumps(run) + "\\n")
            return super().run_trial(trial, *args, **kwargs)

    # No seed: the chief picks the split's, and workers must read its split.
    tuner = Logged(build, objective="val_loss", max_epochs=2, epoch_budget=2 * 8,
                   directory=directory, project_name="search", worker_timeout=30)
    tuner.search(x, y, cv=2, batch_size=30, verbose=0)
    with open(os.path.join(directory, f"folds-{tuner_id}.json"), "w") as out:
        json.dump(tuner.folds.to_json(), out)
    if tuner_id == "chief":
        oracle = tuner.oracle
        summary = {
            "statuses": {t.trial_id: t.status for t in oracle.trials.values()},
            "epochs_used": oracle.epochs_used,
            "fold_metrics": all(t.metrics.exists("val_loss_fold1")
                                for t in oracle.trials.values()),
        }
        with open(os.path.join(directory, "summary.json"), "w") as out:
            json.dump(summary, out)
    """
)


def test_workers_train_on_the_chiefs_split(tmp_path):
    run = tmp_path / "run"
    run.mkdir()
    codes = run_local_cluster(
        [sys.executable, "-c", PROCESS, str(run)],
        2,
        logs=run,
        env={**os.environ, "TF_CPP_MIN_LOG_LEVEL": "3"},
        timeout=240,
    )
    tails = {name: (run / f"{name}.err").read_text()[-1500:] for name in codes}
    assert codes == {"chief": 0, "tuner0": 0, "tuner1": 0}, tails
    chief = json.loads((run / "folds-chief.json").read_text())
    for worker in ("tuner0", "tuner1"):
        assert json.loads((run / f"folds-{worker}.json").read_text()) == chief
    summary = json.loads((run / "summary.json").read_text())
    assert set(summary["statuses"].values()) == {"COMPLETED"}
    assert summary["fold_metrics"]
    assert summary["epochs_used"] <= 16
    runs = [json.loads(line) for line in (run / "runs.jsonl").read_text().splitlines()]
    assert {r["tuner"] for r in runs} <= {"tuner0", "tuner1"}
    assert len(runs) == len(summary["statuses"])
