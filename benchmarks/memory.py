"""Peak memory of a long search of tiny models (figure 5 of BENCHMARKS.md).

Runs ``kt_ext.CoarseToFine`` for 300 one-epoch trials of a tiny
``MLPHyperModel`` on breast_cancer and prints the process's peak resident
memory after 30 and after 300 trials, and their ratio: Keras state is cleared
between trials, so the growth should be small. Writes ``memory.csv`` next to
this file.

    python benchmarks/memory.py --trials 300
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import tempfile
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

import kt_ext
from kt_ext import datasets
from kt_ext._quiet import quiet_search
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, default=300)
    args = parser.parse_args()
    (x, y), validation, _ = datasets.load("breast_cancer", seed=0)
    hypermodel = MLPHyperModel.for_data(
        x, y, overrides={"num_layers": 1, "units": (4, 16), "batch_size": 64}
    )
    tuner = kt_ext.CoarseToFine(
        hypermodel,
        objective="val_accuracy",
        max_epochs=1,
        max_trials=args.trials,
        seed=1,
        directory=tempfile.mkdtemp(prefix="kt_ext_memory_"),
        project_name="p",
    )
    marks = (30, args.trials)
    recorder = PeakMemory(marks)
    with quiet_search():
        tuner.search(x, y, validation_data=validation, callbacks=[recorder], verbose=0)
    first, last = (recorder.peaks[mark] for mark in marks)
    print(f"peak RSS after {marks[0]} trials: {first:.0f} MiB")
    print(f"peak RSS after {marks[1]} trials: {last:.0f} MiB")
    print(f"growth: {last / first:.2f}x from {marks[0]} to {marks[1]} trials")
    out = Path(__file__).with_name("memory.csv")
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["trials", "peak_rss_mib"])
        writer.writerows(sorted(recorder.peaks.items()))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
