"""Oracle decision cost (figure 4 of BENCHMARKS.md).

Mean seconds per ``create_trial`` + ``end_trial`` (with the ``update_trial``
of each epoch) when an oracle is driven through N trials of the synthetic
``mlp`` objective, no Keras training: kt_ext's CoarseToFine and RankPruning
oracles next to Keras Tuner's RandomSearch, and BayesianOptimization at 100
trials only (it costs seconds per trial). Every oracle writes its files as in
a real search (Keras Tuner saves oracle.json and trial.json per trial).

    python benchmarks/oracle_cost.py --trials 100 1000
"""

from __future__ import annotations

import argparse
import csv
import tempfile
import time
from pathlib import Path

from keras_tuner.oracles import BayesianOptimizationOracle, RandomSearchOracle

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

MAX_EPOCHS = 3


def oracle_for(name: str, objective, trials: int):
    if name == "RandomSearch":
        return make_oracle(RandomSearchOracle, objective, max_trials=trials, seed=1)
    if name == "BayesianOptimization":
        return make_oracle(
            BayesianOptimizationOracle, objective, max_trials=trials, seed=1
        )
    cls = {"CoarseToFine": CoarseToFineOracle, "RankPruning": RankPruningOracle}[name]
    return make_oracle(cls, objective, max_epochs=MAX_EPOCHS, max_trials=trials, seed=1)


def measure(name: str, trials: int) -> dict:
    objective = get_objective("mlp", seed=0)
    oracle = oracle_for(name, objective, trials)
    with tempfile.TemporaryDirectory() as directory:
        started = time.perf_counter()
        result = run_oracle(
            oracle, objective, epochs=MAX_EPOCHS, max_trials=trials, directory=directory
        )
        elapsed = time.perf_counter() - started
    return {
        "oracle": name,
        "trials": len(result.trials),
        "seconds_per_trial": elapsed / max(1, len(result.trials)),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[100, 1000])
    args = parser.parse_args()
    rows = []
    for trials in args.trials:
        names = ["RandomSearch", "CoarseToFine", "RankPruning"]
        if trials <= 100:
            names.append("BayesianOptimization")
        for name in names:
            rows.append(measure(name, trials))
            row = rows[-1]
            print(
                f"{row['oracle']:<22} {trials:>6} trials  "
                f"{row['seconds_per_trial'] * 1000:8.2f} ms per trial",
                flush=True,
            )
    low, high = min(args.trials), max(args.trials)
    for name in ("RandomSearch", "CoarseToFine", "RankPruning"):
        cost = {
            r["trials"]: r["seconds_per_trial"] for r in rows if r["oracle"] == name
        }
        if low in cost and high in cost and low != high:
            print(
                f"{name}: {cost[high] / cost[low]:.2f}x the per-trial cost at "
                f"{high} trials as at {low} (goal for kt_ext oracles: <= 2x)"
            )
    out = Path(__file__).with_name("oracle_cost.csv")
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
