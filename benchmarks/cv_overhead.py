"""What training folds in lockstep costs: a ``cv=k`` search against ``k`` models.

Runs, interleaved and on the same data (W1: breast_cancer, train and
validation rows together, with ``MLPHyperModel``), ``CoarseToFine`` with the
same seed:

- ``cv=k``: ``search(x, y, cv=k)`` with ``epoch_budget = k * budget``;
- ``plain``: ``search(x_fold, y_fold, validation_data=...)`` on fold 0's split
  with ``epoch_budget = budget``.

A trial of ``e`` epochs costs ``k * e`` with ``cv``, so both arms try the same
configurations (``tests/oracles/test_cv_budget.py`` shows the oracle decides
the same); the ``cv`` arm trains ``k`` models per trial on the same number of
rows each. The ratio of wall times per model-epoch is the lockstep machinery's
cost (threads taking turns at every epoch end, per-fold checkpoints): 1.0
means none. Prints a table and writes ``cv_overhead.csv`` next to this file.

    python benchmarks/cv_overhead.py --repeats 2
"""

from __future__ import annotations

import argparse
import csv
import pathlib
import statistics
import tempfile
import time

import numpy as np

import kt_ext
from kt_ext.datasets import load
from kt_ext.hypermodels import MLPHyperModel
from kt_ext.model_selection._split import fold_indices


def _search(arm: str, x, y, folds: int, budget: int, max_epochs: int, directory):
    hypermodel = MLPHyperModel.for_data(x, y, overrides={"batch_size": 64})
    scale = folds if arm == "cv" else 1
    tuner = kt_ext.CoarseToFine(
        hypermodel,
        objective="val_accuracy",
        max_epochs=max_epochs,
        epoch_budget=budget * scale,
        seed=0,
        directory=directory,
        project_name=arm,
    )
    started = time.perf_counter()
    if arm == "cv":
        tuner.search(x, y, cv=folds, verbose=0)
    else:
        train, test = fold_indices(folds, x, y, seed=tuner.oracle.seed)[0]
        tuner.search(x[train], y[train], validation_data=(x[test], y[test]), verbose=0)
    seconds = time.perf_counter() - started
    return seconds, tuner.oracle.epochs_used, len(tuner.oracle.trials)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--budget", type=int, default=30)
    parser.add_argument("--max-epochs", type=int, default=9)
    args = parser.parse_args()
    (x, y), (x_val, y_val), _ = load("breast_cancer", seed=0)
    x, y = np.concatenate([x, x_val]), np.concatenate([y, y_val])
    rows = []
    with tempfile.TemporaryDirectory() as directory:
        for repeat in range(args.repeats):
            for arm in ("cv", "plain"):
                seconds, epochs, trials = _search(
                    arm,
                    x,
                    y,
                    args.folds,
                    args.budget,
                    args.max_epochs,
                    pathlib.Path(directory) / str(repeat),
                )
                rows.append(
                    {
                        "repeat": repeat,
                        "arm": arm,
                        "trials": trials,
                        "model_epochs": epochs,
                        "seconds": round(seconds, 2),
                        "ms_per_model_epoch": round(1000 * seconds / epochs, 1),
                    }
                )
                print(rows[-1], flush=True)
    ratios = [
        cv["ms_per_model_epoch"] / plain["ms_per_model_epoch"]
        for cv, plain in zip(rows[::2], rows[1::2], strict=True)
    ]
    print(
        f"cv={args.folds} / plain, wall time per model-epoch: median "
        f"{statistics.median(ratios):.2f}x ({', '.join(f'{r:.2f}' for r in ratios)})"
    )
    out = pathlib.Path(__file__).with_suffix(".csv")
    with out.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


if __name__ == "__main__":
    main()
