"""Figure 1 of BENCHMARKS.md for RankPruning on the synthetic objectives.

Every tuner gets the epochs that stock Hyperband (factor=3, one iteration,
max_epochs=27) trained on the same objective and seed: RankPruning with and
without trial pruning, and RandomSearch (trials of max_epochs each). All run
through ``kt_ext.testing.run_oracle`` (no Keras training), reporting every
epoch. Prints a table of medians over seeds, a paired Wilcoxon test of the
best scores against Hyperband, and a closing headline; writes
``rank_pruning.csv`` next to this file.

Usage:
    .venv/bin/python benchmarks/rank_pruning.py [--seeds 10]
"""

from __future__ import annotations

import argparse
import csv
import math
import pathlib
import statistics
from collections.abc import Callable
from typing import Any

from keras_tuner.oracles import HyperbandOracle, RandomSearchOracle
from scipy import stats

from kt_ext.oracles import RankPruningOracle
from kt_ext.testing import DriverResult, get_objective, make_oracle, run_oracle

MAX_EPOCHS = 27
FACTOR = 3
OBJECTIVES = ("lr_only", "mlp")
CSV_PATH = pathlib.Path(__file__).with_suffix(".csv")


def _hyperband(objective: Any, seed: int, budget: int) -> DriverResult:
    oracle = make_oracle(
        HyperbandOracle,
        objective,
        max_epochs=MAX_EPOCHS,
        factor=FACTOR,
        hyperband_iterations=1,
        seed=seed + 1,  # KT treats seed 0 as "no seed".
    )
    return run_oracle(oracle, objective)


def _rank_pruning(prune: bool) -> Callable[[Any, int, int], DriverResult]:
    def run(objective: Any, seed: int, budget: int) -> DriverResult:
        oracle = make_oracle(
            RankPruningOracle,
            objective,
            max_epochs=MAX_EPOCHS,
            factor=FACTOR,
            epoch_budget=budget,
            seed=seed,
            prune_trials=prune,
        )
        return run_oracle(oracle, objective)

    return run


def _random_search(objective: Any, seed: int, budget: int) -> DriverResult:
    trials = budget // MAX_EPOCHS
    oracle = make_oracle(
        RandomSearchOracle, objective, max_trials=trials, seed=seed + 1
    )
    return run_oracle(oracle, objective, epochs=MAX_EPOCHS, max_trials=trials)


TUNERS: dict[str, Callable[[Any, int, int], DriverResult]] = {
    "RankPruning": _rank_pruning(True),
    "RankPruning(no trial pruning)": _rank_pruning(False),
    "RandomSearch": _random_search,
}


def _wilcoxon(differences: list[float]) -> str:
    nonzero = [d for d in differences if d != 0]
    if len(nonzero) < 6:
        return "n/a"
    return f"{stats.wilcoxon(nonzero).pvalue:.3g}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    args = parser.parse_args()

    rows: list[dict[str, Any]] = []
    for name in OBJECTIVES:
        for seed in range(args.seeds):
            objective = get_objective(name, seed=seed)
            reference = _hyperband(objective, seed, 0)
            budget = reference.total_epochs
            target = reference.best_score
            results = {"Hyperband": reference}
            for tuner, run in TUNERS.items():  # interleaved per seed
                results[tuner] = run(objective, seed, budget)
            for tuner, result in results.items():
                reached = result.epochs_to_reach(target)
                rows.append(
                    {
                        "objective": name,
                        "seed": seed,
                        "tuner": tuner,
                        "direction": objective.direction,
                        "budget": budget,
                        "epochs": result.total_epochs,
                        "trials": len(result.trials),
                        "best_score": result.best_score,
                        "budget_to_match": (
                            math.inf if reached is None else reached / budget
                        ),
                    }
                )

    with CSV_PATH.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)

    tuners = ["Hyperband", *TUNERS]
    header = (
        f"{'objective':<9} {'tuner':<30} {'median best':>12} "
        f"{'median budget-to-match':>23} {'wins/ties/losses':>17} {'Wilcoxon p':>11}"
    )
    print(f"{args.seeds} seeds per objective, max_epochs={MAX_EPOCHS}, factor={FACTOR}")
    print(header)
    print("-" * len(header))
    headline: dict[str, list[float]] = {}
    for name in OBJECTIVES:
        mine = [row for row in rows if row["objective"] == name]
        sign = 1.0 if mine[0]["direction"] == "max" else -1.0
        by_seed = {(row["seed"], row["tuner"]): row["best_score"] for row in mine}
        for tuner in tuners:
            scores = [row["best_score"] for row in mine if row["tuner"] == tuner]
            match = [row["budget_to_match"] for row in mine if row["tuner"] == tuner]
            diffs = [
                sign * (by_seed[(seed, tuner)] - by_seed[(seed, "Hyperband")])
                for seed in range(args.seeds)
            ]
            headline.setdefault(tuner, []).extend(match)
            wins = sum(d > 0 for d in diffs)
            ties = sum(d == 0 for d in diffs)
            record = f"{wins}/{ties}/{len(diffs) - wins - ties}"
            test = "-" if tuner == "Hyperband" else _wilcoxon(diffs)
            print(
                f"{name:<9} {tuner:<30} {statistics.median(scores):>12.4f} "
                f"{statistics.median(match):>23.3f} {record:>17} {test:>11}"
            )
    print(f"CSV: {CSV_PATH}")
    best = statistics.median(headline["RankPruning"])
    print(
        "Headline: RankPruning needs a median "
        f"{best:.2f}x of Hyperband's epochs to reach Hyperband's final best "
        f"(over {len(headline['RankPruning'])} objective-seed pairs; "
        "inf = never)."
    )


if __name__ == "__main__":
    main()
