"""What reusing traced models is worth where graphs repeat.

Keras Tuner's introductory ``model_builder`` (one hidden layer of 32 to 512
units in steps of 32, Adam with a learning rate of 1e-2, 1e-3 or 1e-4) on W1
(breast_cancer): its graph depends on the units only, so trials repeat graphs
often. Runs kt_ext's tuners as shipped and with their traced-model reuse
switched off (``tuner._lean.models.capacity = 0``), interleaved, each search
in a fresh process after a warm-up fit (``trial_cost.py``'s ``warm_up``), and
prints the per-trial fixed cost (figure 3 of BENCHMARKS.md) of both, how many
trials reused a model, and whether the same seed tried the same configurations
and reached the same scores. Writes ``reuse.csv`` next to this file.

    python benchmarks/reuse.py --repeats 2
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras

# Run as a script, this file's folder is on the path: trial_cost is its neighbour.
from trial_cost import (
    child_row,
    print_against_twin,
    print_summary,
    timed_search,
    warm_up,
    write_csv,
)

import kt_ext
from kt_ext import datasets

ARMS = (
    "coarse_to_fine",
    "coarse_to_fine (no reuse)",
    "rank_pruning",
    "rank_pruning (no reuse)",
)


def model_builder(hp):
    """Keras Tuner's introductory model, on breast_cancer's 30 features."""
    model = keras.Sequential(
        [
            keras.Input((30,)),
            keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
        "binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


def run(arm: str, data: datasets.Dataset, max_epochs: int, seed: int) -> dict:
    tuner_cls = kt_ext.CoarseToFine if arm.startswith("coarse") else kt_ext.RankPruning
    keras.utils.set_random_seed(seed)
    tuner = tuner_cls(
        model_builder,
        objective="val_accuracy",
        max_epochs=max_epochs,
        factor=3,
        seed=seed,
        directory=tempfile.mkdtemp(prefix="kt_ext_bench_"),
        project_name="p",
    )
    if arm.endswith("(no reuse)"):
        tuner._lean.models.capacity = 0
    return timed_search(arm, seed, tuner, data, max_epochs)


def run_in_child(arm: str, max_epochs: int, seed: int) -> dict:
    """``run`` in a fresh Python process."""
    return child_row(__file__, arm, seed, "--max-epochs", str(max_epochs))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=9)
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:  # a child process: one search, its row as JSON
        data = datasets.load("breast_cancer", seed=0)
        warm_up(data)
        print(json.dumps(run(args.arm, data, args.max_epochs, args.seed)))
        return
    rows = [
        run_in_child(arm, args.max_epochs, seed)
        for seed in range(1, args.repeats + 1)
        for arm in ARMS  # interleaved: A B C D A B C D ...
    ]
    print(
        f"W1, introductory model_builder, max_epochs={args.max_epochs}, factor=3, "
        f"{args.repeats} runs per arm (medians)"
    )
    summary = print_summary(rows, ARMS)
    for arm in ("coarse_to_fine", "rank_pruning"):
        print_against_twin(rows, summary, arm, f"{arm} (no reuse)")
    write_csv(rows, "reuse.csv")


if __name__ == "__main__":
    main()
