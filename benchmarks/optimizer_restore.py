"""Does restoring a continued trial's optimizer state change what a search finds?

Runs ``CoarseToFine`` on ``MLPHyperModel`` (digits, by default) twice per
seed, in one process: as shipped (a continued trial loads its parent's
optimizer slots and ``iterations``, then resets its tuned learning rate) and
with the optimizer state dropped as before (only the weights are loaded: Keras
skips the optimizer and Adam restarts from zero). Trials are seeded, so both
arms train the same first round and differ from the first continued trial on.
Prints, per seed and arm, the best trial, its validation score and its test
accuracy after nothing but the search (the best trial's model as saved), and
the mean of the continued trials' scores, then the median differences.

    python benchmarks/optimizer_restore.py --seeds 1 2 3
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import warnings

import keras

import kt_ext
from kt_ext._internal import seam_training
from kt_ext.datasets import load
from kt_ext.hypermodels import MLPHyperModel


def _weights_only(model: keras.Model, path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Keras's "Skipping variable loading"
        model.load_weights(path)


def run(dataset: str, seed: int, restore: bool, args: argparse.Namespace) -> dict:
    (x, y), validation, (x_test, y_test) = load(dataset, seed=0)
    hypermodel = MLPHyperModel.for_data(x, y)
    shipped = seam_training.load_checkpoint
    if not restore:
        seam_training.load_checkpoint = _weights_only
    try:
        with tempfile.TemporaryDirectory() as directory:
            tuner = kt_ext.CoarseToFine(
                hypermodel,
                objective="val_loss",
                max_epochs=args.max_epochs,
                epoch_budget=args.epoch_budget,
                seed=seed,
                directory=directory,
                project_name="p",
            )
            tuner.search(x, y, validation_data=validation, verbose=0)
            trials = tuner.oracle.trials.values()
            best = tuner.oracle.get_best_trials(1)[0]
            model = tuner.get_best_models(1)[0]
            test = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    finally:
        seam_training.load_checkpoint = shipped
    scores = [
        t.score
        for t in trials
        if t.hyperparameters.values.get("tuner/trial_id") and t.score is not None
    ]
    return {
        "best": best.trial_id,
        "val_loss": best.score,
        "test_accuracy": test["accuracy"],
        "continued_mean": statistics.fmean(scores) if scores else float("nan"),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="digits")
    parser.add_argument("--seeds", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--max-epochs", type=int, default=9)
    parser.add_argument("--epoch-budget", type=int, default=90)
    args = parser.parse_args()
    rows = []
    print("seed  arm        best  val_loss  test_acc  continued_mean")
    for seed in args.seeds:
        for restore in (True, False):
            row = run(args.dataset, seed, restore, args)
            arm = "restored" if restore else "dropped"
            rows.append((seed, restore, row))
            print(
                f"{seed:4d}  {arm:9s}  {row['best']}  {row['val_loss']:.4f}"
                f"    {row['test_accuracy']:.4f}    {row['continued_mean']:.4f}"
            )
    for key in ("val_loss", "test_accuracy", "continued_mean"):
        by_seed = {}
        for seed, restore, row in rows:
            by_seed.setdefault(seed, {})[restore] = row[key]
        deltas = [pair[True] - pair[False] for pair in by_seed.values()]
        print(f"median {key} (restored - dropped): {statistics.median(deltas):+.4f}")
    same = sum(
        rows[i][2]["best"] == rows[i + 1][2]["best"] for i in range(0, len(rows), 2)
    )
    print(f"same best trial in {same} of {len(args.seeds)} seeds")


if __name__ == "__main__":
    main()
