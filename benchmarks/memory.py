"""Peak memory of a long search of tiny models (figure 5 of BENCHMARKS.md).

Runs one-epoch trials of a tiny ``MLPHyperModel`` on breast_cancer with
``kt_ext.CoarseToFine`` and, side by side, stock ``kt.RandomSearch`` (each in a
process of its own, since peak memory is per process) and prints the peak
resident memory after 30 and after N trials, and their ratio. Writes
``memory.csv`` next to this file.

    python benchmarks/memory.py --trials 300
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import keras_tuner as kt

import kt_ext
from kt_ext import datasets
from kt_ext._internal.quiet import quiet_search
from kt_ext.hypermodels import MLPHyperModel


class PeakMemory(keras.callbacks.Callback):
    """Records the peak RSS (MiB) after given numbers of trials (fits)."""

    def __init__(self, marks: tuple[int, ...]) -> None:
        super().__init__()
        self.marks = marks
        self.fits = 0
        self.peaks: dict[int, float] = {}

    def __deepcopy__(self, memo: dict) -> PeakMemory:
        return self  # one recorder for every trial

    def on_train_end(self, logs=None) -> None:
        self.fits += 1
        if self.fits in self.marks:
            kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
            self.peaks[self.fits] = kib / 1024


def measure(tuner_name: str, trials: int) -> dict[int, float]:
    """Peak RSS (MiB) after 30 and ``trials`` trials of one search."""
    (x, y), validation, _ = datasets.load("breast_cancer", seed=0)
    hypermodel = MLPHyperModel.for_data(
        x, y, overrides={"num_layers": 1, "units": (4, 16), "batch_size": 64}
    )
    common = {
        "objective": "val_accuracy",
        "max_trials": trials,
        "seed": 1,
        "directory": tempfile.mkdtemp(prefix="kt_ext_memory_"),
        "project_name": "p",
    }
    if tuner_name == "coarse_to_fine":
        tuner = kt_ext.CoarseToFine(hypermodel, max_epochs=1, **common)
    else:
        tuner = kt.RandomSearch(hypermodel, **common)
    recorder = PeakMemory((30, trials))
    with quiet_search():
        tuner.search(
            x, y, epochs=1, validation_data=validation, callbacks=[recorder], verbose=0
        )
    return recorder.peaks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=300)
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:  # a child process: one search, its peaks as JSON
        print(json.dumps(measure(args.arm, args.trials)))
        return
    rows = []
    for arm in ("random_search (stock)", "coarse_to_fine"):
        child = subprocess.run(
            [
                sys.executable,
                __file__,
                "--arm",
                arm.split()[0],
                "--trials",
                str(args.trials),
            ],
            capture_output=True,
            text=True,
            check=True,
        )
        peaks = {
            int(k): v for k, v in json.loads(child.stdout.splitlines()[-1]).items()
        }
        first, last = peaks[30], peaks[args.trials]
        rows.append([arm, round(first), round(last), round(last / first, 2)])
        print(
            f"{arm:<22} peak RSS {first:6.0f} MiB after 30 trials, {last:6.0f} MiB "
            f"after {args.trials}: {last / first:.2f}x",
            flush=True,
        )
    out = Path(__file__).with_name("memory.csv")
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["arm", "peak_mib_30", f"peak_mib_{args.trials}", "growth"])
        writer.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
