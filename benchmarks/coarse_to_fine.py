"""Figure 1 of BENCHMARKS.md for CoarseToFine: search efficiency at equal budget.

On each task and seed, stock Hyperband (factor=3, one iteration) runs first;
every other tuner then gets the epochs it trained: CoarseToFine with its
defaults, and RandomSearch and BayesianOptimization with trials of
``max_epochs`` each, as many as fit. Tasks: the synthetic objectives of
``kt_ext.testing`` (max_epochs=27) and the lcbench surrogate's development
tasks (max_epochs=50; needs the ``bench`` extra). Everything runs through
``kt_ext.testing.run_oracle`` (no Keras training).

Prints, per task and tuner, the median best validation score, the median
budget-to-match (fraction of Hyperband's epochs trained when the tuner's best
first reached Hyperband's final best; ``inf`` = never), wins against
Hyperband and a paired Wilcoxon test of the best scores against Hyperband
(``n/a`` under 6 non-zero differences); then the same over all (task, seed)
pairs and a closing headline. Writes ``coarse_to_fine.csv`` next to this file.

Usage:
    .venv/bin/python benchmarks/coarse_to_fine.py [--seeds 10] [--jobs 2]
        [--lcbench ../shared/data/yahpo_lcbench]
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import pathlib
import statistics
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from keras_tuner.oracles import (
    BayesianOptimizationOracle,
    HyperbandOracle,
    RandomSearchOracle,
)
from scipy import stats

from kt_ext.oracles import CoarseToFineOracle
from kt_ext.testing import (
    DEVELOPMENT_TASKS,
    DriverResult,
    LCBenchObjective,
    get_objective,
    make_oracle,
    run_oracle,
)

FACTOR = 3
SYNTHETIC = ("lr_only", "mlp")
TUNERS = ("Hyperband", "CoarseToFine", "RandomSearch", "BayesianOptimization")
ROOT = pathlib.Path(__file__).resolve().parent
CSV_PATH = ROOT / "coarse_to_fine.csv"
DEFAULT_LCBENCH = ROOT.parent.parent / "shared" / "data" / "yahpo_lcbench"


def _objective(task: str, lcbench: str) -> tuple[Any, int]:
    if task in SYNTHETIC:
        return get_objective(task, seed=0), 27
    return LCBenchObjective(task, data_dir=lcbench), LCBenchObjective.max_epochs


def _fixed_epochs(oracle_cls: type) -> Callable[..., DriverResult]:
    def run(objective: Any, seed: int, budget: int, max_epochs: int) -> DriverResult:
        oracle = make_oracle(
            oracle_cls, objective, max_trials=budget // max_epochs, seed=seed + 1
        )
        return run_oracle(oracle, objective, epochs=max_epochs)

    return run


def _coarse_to_fine(
    objective: Any, seed: int, budget: int, max_epochs: int
) -> DriverResult:
    oracle = make_oracle(
        CoarseToFineOracle,
        objective,
        max_epochs=max_epochs,
        factor=FACTOR,
        epoch_budget=budget,
        seed=seed,
    )
    return run_oracle(oracle, objective)


RUNNERS: dict[str, Callable[..., DriverResult]] = {
    "CoarseToFine": _coarse_to_fine,
    "RandomSearch": _fixed_epochs(RandomSearchOracle),
    "BayesianOptimization": _fixed_epochs(BayesianOptimizationOracle),
}


def run_pair(task: str, seed: int, lcbench: str) -> list[dict[str, Any]]:
    """Every tuner on one (task, seed), at Hyperband's budget; one row each."""
    objective, max_epochs = _objective(task, lcbench)
    if task in SYNTHETIC:
        objective = get_objective(task, seed=seed)  # noise differs per seed
    hyperband = run_oracle(
        make_oracle(
            HyperbandOracle,
            objective,
            max_epochs=max_epochs,
            factor=FACTOR,
            hyperband_iterations=1,
            seed=seed + 1,  # KT treats seed 0 as "no seed".
        ),
        objective,
    )
    budget = hyperband.total_epochs
    results = {"Hyperband": hyperband}
    results.update(
        {
            name: run(objective, seed, budget, max_epochs)
            for name, run in RUNNERS.items()
        }
    )
    rows = []
    for name, result in results.items():
        reached = result.epochs_to_reach(hyperband.best_score)
        rows.append(
            {
                "task": task,
                "seed": seed,
                "tuner": name,
                "direction": objective.direction,
                "max_epochs": max_epochs,
                "budget": budget,
                "epochs_used": result.total_epochs,
                "trials": len(result.trials),
                "best_score": result.best_score,
                "hyperband_best": hyperband.best_score,
                "budget_to_match": math.inf if reached is None else reached / budget,
            }
        )
    return rows


def _wilcoxon(differences: list[float]) -> str:
    nonzero = [d for d in differences if d != 0]
    if len(nonzero) < 6:
        return "n/a"
    return f"{stats.wilcoxon(nonzero).pvalue:.3g}"


def _gain(row: dict[str, Any]) -> float:
    """How much better than Hyperband's best (positive = better)."""
    sign = 1.0 if row["direction"] == "max" else -1.0
    return sign * (row["best_score"] - row["hyperband_best"])


def _summary(rows: list[dict[str, Any]], tuner: str) -> tuple[float, float, int, str]:
    mine = [r for r in rows if r["tuner"] == tuner]
    gains = [_gain(r) for r in mine]
    return (
        statistics.median(r["best_score"] for r in mine),
        statistics.median(r["budget_to_match"] for r in mine),
        sum(g > 0 for g in gains),
        "-" if tuner == "Hyperband" else _wilcoxon(gains),
    )


def _print_table(rows: list[dict[str, Any]], tasks: list[str], seeds: int) -> None:
    print(
        f"{'task':<14}{'tuner':<22}{'median best':>12}{'budget-to-match':>17}"
        f"{'wins vs HB':>12}{'Wilcoxon p':>12}{'epochs used':>13}"
    )
    for task in [*tasks, "all"]:
        group = rows if task == "all" else [r for r in rows if r["task"] == task]
        for tuner in TUNERS:
            best, match, wins, test = _summary(group, tuner)
            used = statistics.median(
                r["epochs_used"] / r["budget"] for r in group if r["tuner"] == tuner
            )
            label = "(gain)" if task == "all" else f"{best:.4f}"
            if task == "all":
                gains = [_gain(r) for r in group if r["tuner"] == tuner]
                label = f"{statistics.median(gains):+.4f}"
            print(
                f"{task:<14}{tuner:<22}{label:>12}{match:>17.2f}"
                f"{f'{wins}/{len(group) // len(TUNERS)}':>12}{test:>12}{used:>13.2f}"
            )
    print(f"({seeds} seeds per task; 'all' shows the median gain over Hyperband)")


def _headline(rows: list[dict[str, Any]], tasks: list[str]) -> str:
    _, match, wins, test = _summary(rows, "CoarseToFine")
    pairs = len(rows) // len(TUNERS)
    not_below_hb = not_below_rs = 0
    for task in tasks:
        group = [r for r in rows if r["task"] == task]
        sign = 1.0 if group[0]["direction"] == "max" else -1.0
        ctf = sign * _summary(group, "CoarseToFine")[0]
        not_below_hb += ctf >= sign * _summary(group, "Hyperband")[0]
        not_below_rs += ctf >= sign * _summary(group, "RandomSearch")[0]
    return (
        f"CoarseToFine reached Hyperband's final best after a median {match:.2f} of "
        f"Hyperband's epochs (goal <= 0.50); it beat Hyperband in {wins}/{pairs} "
        f"(task, seed) pairs (Wilcoxon p={test}); its median best was >= "
        f"Hyperband's on {not_below_hb}/{len(tasks)} tasks and >= RandomSearch's "
        f"on {not_below_rs}/{len(tasks)}."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--lcbench", default=str(DEFAULT_LCBENCH))
    parser.add_argument("--synthetic-only", action="store_true")
    args = parser.parse_args()
    tasks = list(SYNTHETIC)
    if not args.synthetic_only:
        tasks += DEVELOPMENT_TASKS
    jobs = [(task, seed, args.lcbench) for task in tasks for seed in range(args.seeds)]
    with ProcessPoolExecutor(args.jobs) as pool:
        rows = [
            row for pair in pool.map(run_pair, *zip(*jobs, strict=True)) for row in pair
        ]
    with CSV_PATH.open("w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    _print_table(rows, tasks, args.seeds)
    print(_headline(rows, tasks))


if __name__ == "__main__":
    main()
