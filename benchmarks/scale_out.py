"""Scale-out in simulation: N workers on a simulated clock (issue #22, item 3).

Drives Keras Tuner's Hyperband and kt_ext's oracles with N simulated workers
(``kt_ext.testing.simulate_workers``: no Keras, no threads, no sleeping) on
the search-quality tasks: the synthetic objectives of ``kt_ext.testing``
(max_epochs=27) and the lcbench surrogate (max_epochs=50; needs onnxruntime,
the ``bench`` extra). The optima are ``search_quality.py``'s cached ones.

Clock: an epoch of a configuration takes ``(0.5 + 0.5 * size / median size)
* exp(0.25 * z)`` simulated seconds, where size is units x layers (``units``
or ``max_units`` times ``num_layers``; 1 layer where there is none), the
median size is over 1,000 seeded uniform configurations of the task's space,
and ``z`` is a standard normal drawn from (seed, configuration, epoch), apart
from the objective's own noise. A median configuration's epoch takes about
1 s; the smallest a bit over 0.5 s, the largest several seconds, so workers
finish at different times. The critical path is ``max_epochs`` seconds: a
median configuration trained through the rungs to ``max_epochs`` (continued
trials resume, as in Hyperband), which bounds any method's time to a
recommendation trained that far; a recommendation is scored at
``max_epochs`` however far it was trained, so ``T_N`` can be shorter.

Budget: with N workers every arm gets ``B_N = N * B_1`` epochs, where
``B_1`` is what stock Hyperband (factor 3, one iteration) trained on the same
(task, seed) with one worker: each worker has about one Hyperband iteration
of work whatever N is. Hyperband runs ``hyperband_iterations=N``; kt_ext's
oracles get ``epoch_budget=B_N``. A budget fixed at ``B_1`` for every N would
leave each of 64 workers a few epochs, less than the critical path (27 or
50), so every method would idle most of the time by construction and the
utilization target would measure nothing but the tail.

Arms: ``Hyperband`` (``kt_ext.compare.stock_seed`` of the seed), and
``CoarseToFine`` and ``RankPruning`` with ``promotion="sync"`` and, where the
oracles take a ``promotion`` argument, ``"async"``. Per (task, seed, arm, N):
utilization (share of worker-time spent training, over N x the makespan);
``T_N``, the simulated time when the recommendation (``get_best_trials(1)``)
first had regret <= one-worker Hyperband's final regret on the pair (inf if
never); and the regret at equal simulated wall-clock: each arm's
recommendation when Hyperband with the same N ended.

Summary per arm and N, pooled over all (task, seed) pairs (medians):
utilization; ``T_1 / T_N`` (the arm's own one-worker time over its N-worker
time, over the pairs where both reach the target: their number is shown);
``T1s / T_N``, the same against the one-worker ``"sync"`` search (what one
worker runs by default) for the async arms;
``T_N / critical path``; and per bench, the median regret at Hyperband's end
over Hyperband's (lower is better). Targets (issue #22): utilization >= 0.95
under async, ``T_1 / T_N`` >= 1.9 at 2 and >= 3.5 at 4 workers, ``T_N`` within
1.5x the critical path at 16 and 64, regret ratio <= 1. Writes
``scale_out.csv`` next to this file (rows appended as pairs finish).

Cost: the oracles' own work per reported epoch and per trial (trial files,
saves) is real, so a run costs about N units per arm and worker count, where
a unit is one Hyperband iteration's trials. On the shared 2-core machine
(load 10-18, 2026-12-07) one ``mlp`` pair with the five arms at 1, 2, 4 and
16 workers took 400-600 s; 64 workers cost three times 1, 2, 4 and 16
together, and an lcbench pair more than a synthetic one, so the default run
(8 tasks, 10 seeds, 5 worker counts) is more than a day there: run it on a
machine with cores to spare, with ``--jobs``.

Usage:
    python benchmarks/scale_out.py [--tasks mlp,126029] [--seeds 10]
        [--workers 1,2,4,16,64] [--arms Hyperband,CoarseToFine/sync] [--jobs 1]
    python benchmarks/scale_out.py --quick    # mlp, 2 seeds, 1/2/4 workers
    python benchmarks/scale_out.py --report   # tables of the CSV
"""

from __future__ import annotations

import argparse
import csv
import inspect
import json
import math
import os
import pathlib
import statistics
import tempfile
import time
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from keras_tuner.oracles import HyperbandOracle
from search_quality import (
    DEFAULT_LCBENCH,
    DEVELOPMENT_TASKS,
    FACTOR,
    SYNTHETIC,
    _objective,
    optima,
)

from kt_ext._internal.names import is_bookkeeping
from kt_ext.compare import stock_seed
from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import (
    SimulatedTrial,
    make_oracle,
    recommendation,
    regret,
    simulate_workers,
    uniform_configs,
)
from kt_ext.testing._curves import stable_normal

ROOT = pathlib.Path(__file__).resolve().parent
CSV_PATH = ROOT / "scale_out.csv"
WORKERS = (1, 2, 4, 16, 64)
TASKS = (*SYNTHETIC, *DEVELOPMENT_TASKS)
COST_NOISE = 0.25
COST_SEED = 7_919  # the duration noise is drawn apart from the objective's
ASYNC = "promotion" in inspect.signature(CoarseToFineOracle).parameters
OURS = {"CoarseToFine": CoarseToFineOracle, "RankPruning": RankPruningOracle}
ARMS = (
    "Hyperband",
    *(
        f"{name}/{p}"
        for p in ("sync", "async")
        if p == "sync" or ASYNC
        for name in OURS
    ),
)


class EpochCost:
    """Simulated seconds of one epoch: grows with units x layers, with noise."""

    def __init__(self, objective: Any, seed: int) -> None:
        configs = uniform_configs(objective.hyperparameters(), 1_000, seed=0)
        self.reference = statistics.median(self.size(values) for values in configs)
        self.seed = seed + COST_SEED

    @staticmethod
    def size(values: Mapping[str, Any]) -> float:
        units = values.get("units", values.get("max_units", 64))
        return float(units) * float(values.get("num_layers", 1))

    def __call__(self, values: Mapping[str, Any], epoch: int) -> float:
        key = {k: v for k, v in values.items() if not is_bookkeeping(k)}
        noise = math.exp(COST_NOISE * stable_normal(self.seed, key, epoch))
        return (0.5 + 0.5 * self.size(values) / self.reference) * noise


def make_arm(arm: str, objective: Any, seed: int, budget: int, max_epochs: int, n: int):
    """The oracle of ``arm`` for ``n`` workers and the epoch budget ``budget``."""
    if arm == "Hyperband":
        return make_oracle(
            HyperbandOracle,
            objective,
            max_epochs=max_epochs,
            factor=FACTOR,
            hyperband_iterations=n,
            seed=stock_seed(seed),
        )
    name, promotion = arm.split("/")
    extra = {"promotion": promotion} if ASYNC else {}
    return make_oracle(
        OURS[name],
        objective,
        max_epochs=max_epochs,
        factor=FACTOR,
        epoch_budget=budget,
        seed=seed,
        **extra,
    )


def run_arm(oracle: Any, objective: Any, cost: EpochCost, n: int, score: Callable):
    """One simulated search; its result and (time, regret) at each change."""
    trace: list[tuple[float, float]] = []
    last: list[Any] = [None]

    def note(oracle: Any, span: SimulatedTrial) -> None:
        values = recommendation(oracle)
        if values is not None and values != last[0]:
            last[0] = values
            trace.append((span.end, score(values)))

    result = simulate_workers(oracle, objective, cost, workers=n, on_trial_end=note)
    return result, trace


def first_time(trace: list[tuple[float, float]], target: float) -> float:
    """Simulated time when the regret first was <= ``target``; inf if never."""
    return next((t for t, value in trace if value <= target), math.inf)


def at_time(trace: list[tuple[float, float]], when: float) -> float:
    """Regret of the recommendation at simulated time ``when``; inf before any."""
    current = math.inf
    for t, value in trace:
        if t > when:
            break
        current = value
    return current


def run_pair(
    task: str, seed: int, arms: list[str], workers: list[int], lcbench: str, best: float
) -> list[dict[str, Any]]:
    """Every arm at every worker count on one (task, seed)."""
    started = time.perf_counter()
    objective, max_epochs = _objective(task, seed, lcbench)
    cost = EpochCost(objective, seed)
    scores: dict[str, float] = {}

    def score(values: dict[str, Any]) -> float:
        key = json.dumps(values, sort_keys=True, default=str)
        if key not in scores:
            scores[key] = regret(
                objective.noise_free(values, max_epochs), best, objective.direction
            )
        return scores[key]

    hyperband_1, trace_1 = run_arm(
        make_arm("Hyperband", objective, seed, 0, max_epochs, 1),
        objective,
        cost,
        1,
        score,
    )
    budget_1 = hyperband_1.total_epochs
    target = trace_1[-1][1] if trace_1 else math.inf
    rows = []
    for n in workers:
        runs = {}
        for arm in arms:
            if arm == "Hyperband" and n == 1:
                runs[arm] = (hyperband_1, trace_1)
                continue
            oracle = make_arm(arm, objective, seed, n * budget_1, max_epochs, n)
            runs[arm] = run_arm(oracle, objective, cost, n, score)
            used = getattr(oracle, "epochs_used", None)
            if used is not None and used > n * budget_1:
                raise RuntimeError(f"{arm} charged {used} > {n * budget_1} epochs")
        hyperband_end = runs["Hyperband"][0].makespan
        for arm, (result, trace) in runs.items():
            rows.append(
                {
                    "bench": "synthetic" if task in SYNTHETIC else "lcbench",
                    "task": task,
                    "seed": seed,
                    "arm": arm,
                    "workers": n,
                    "budget": n * budget_1,
                    "epochs": result.total_epochs,
                    "trials": len(result.trials),
                    "makespan": round(result.makespan, 3),
                    "busy": round(result.busy, 3),
                    "idle": round(result.idle, 3),
                    "done": round(result.done, 3),
                    "utilization": round(result.utilization, 5),
                    "critical_path": float(max_epochs),
                    "target": target,
                    "t_target": first_time(trace, target),
                    "regret": trace[-1][1] if trace else math.inf,
                    "hyperband_end": hyperband_end,
                    "regret_at_hyperband_end": at_time(trace, hyperband_end),
                }
            )
    print(f"  {task} seed {seed}: {time.perf_counter() - started:.0f} s", flush=True)
    return rows


# --- the summary -----------------------------------------------------------------


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def speedups(
    rows: list[dict[str, Any]], arm: str, n: int, base: str | None = None
) -> list[float]:
    """``T_1 / T_N`` of ``arm`` on each pair where both reached the target.

    ``T_1`` is ``base``'s with one worker (default: ``arm``'s own).
    """
    base = base or arm
    one = {(r["task"], r["seed"]): r["t_target"] for r in rows if _is(r, base, 1)}
    ratios = []
    for r in rows:
        if not _is(r, arm, n) or (r["task"], r["seed"]) not in one:
            continue
        t_1, t_n = one[(r["task"], r["seed"])], r["t_target"]
        if math.isfinite(t_1) and math.isfinite(t_n):
            ratios.append(t_1 / t_n)
    return ratios


def _is(row: dict[str, Any], arm: str, n: int) -> bool:
    return row["arm"] == arm and row["workers"] == n


def regret_ratio(rows: list[dict[str, Any]], arm: str, n: int, bench: str) -> float:
    """Median regret at Hyperband's end over Hyperband's, on one bench."""
    group = [r for r in rows if r["bench"] == bench and r["workers"] == n]
    mine = [r["regret_at_hyperband_end"] for r in group if r["arm"] == arm]
    hyperband = [r["regret_at_hyperband_end"] for r in group if r["arm"] == "Hyperband"]
    if not mine or not hyperband:
        return math.nan
    base = _median(hyperband)
    return _median(mine) / base if base > 0 else math.inf


def print_table(rows: list[dict[str, Any]]) -> None:
    arms = list(dict.fromkeys(r["arm"] for r in rows))
    workers = sorted({r["workers"] for r in rows})
    benches = list(dict.fromkeys(r["bench"] for r in rows))
    pairs = len({(r["task"], r["seed"]) for r in rows})
    tasks = sorted({r["task"] for r in rows})
    print(f"\n{pairs} (task, seed) pairs, tasks {', '.join(tasks)}; medians pooled")
    head = (
        f"{'arm':<20}{'N':>4}{'util':>7}{'T1/TN':>8}{'T1s/TN':>8}{'TN/crit':>9}"
        f"{'reached':>9}"
    )
    print(head + "".join(f"{'regret ' + b[:5]:>14}" for b in benches))
    for arm in arms:
        for n in workers:
            mine = [r for r in rows if _is(r, arm, n)]
            if not mine:
                continue
            ratios = speedups(rows, arm, n)
            speed = _median(ratios)
            sync = _median(speedups(rows, arm, n, arm.replace("async", "sync")))
            crit = _median([r["t_target"] / r["critical_path"] for r in mine])
            reached = sum(math.isfinite(r["t_target"]) for r in mine)
            line = (
                f"{arm:<20}{n:>4}{_median([r['utilization'] for r in mine]):>7.3f}"
                f"{speed:>7.2f}x{sync:>7.2f}x{crit:>9.2f}"
                f"{f'{reached}/{len(mine)}':>9}"
            )
            line += "".join(f"{regret_ratio(rows, arm, n, b):>13.2f}x" for b in benches)
            print(line + f"  ({len(ratios)} pairs)")


def headline(rows: list[dict[str, Any]]) -> str:
    parts = []
    for arm in dict.fromkeys(r["arm"] for r in rows):
        utilization = min(
            _median([r["utilization"] for r in rows if _is(r, arm, n)])
            for n in {r["workers"] for r in rows if r["arm"] == arm}
        )
        text = f"{arm}: utilization >= {utilization:.3f}"
        for n in (2, 4):
            ratios = speedups(rows, arm, n)
            if ratios:
                text += f", T1/T{n} {_median(ratios):.2f}x"
        parts.append(text)
    return "Headline: " + "; ".join(parts) + "."


def read_rows(path: str | os.PathLike[str]) -> list[dict[str, Any]]:
    """The rows of a CSV written by this script, numbers as numbers."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        for name, value in row.items():
            if name not in ("bench", "task", "arm"):
                row[name] = float(value)
        row["seed"], row["workers"] = int(row["seed"]), int(row["workers"])
    return rows


# --- main ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(TASKS))
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--workers", default=",".join(map(str, WORKERS)))
    parser.add_argument("--arms", default=",".join(ARMS))
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--lcbench", default=str(DEFAULT_LCBENCH))
    parser.add_argument("--csv", default=str(CSV_PATH))
    parser.add_argument("--quick", action="store_true", help="mlp, 2 seeds, N<=4")
    parser.add_argument("--report", action="store_true", help="tables of --csv")
    args = parser.parse_args()
    if args.report:
        rows = read_rows(args.csv)
        print_table(rows)
        print(headline(rows))
        return
    if args.quick:
        args.tasks, args.seeds, args.workers = "mlp", 2, "1,2,4"
    tasks, arms = args.tasks.split(","), args.arms.split(",")
    workers = [int(n) for n in args.workers.split(",")]
    unknown = sorted(set(arms) - set(ARMS)) + sorted(set(tasks) - set(TASKS))
    if unknown or 1 not in workers or "Hyperband" not in arms:
        parser.error(
            f"unknown {unknown}; arms {ARMS}, tasks {TASKS}; "
            "Hyperband and 1 worker are needed (the target and T_1)"
        )
    if os.access("/dev/shm", os.W_OK):  # Keras Tuner's trial files
        tempfile.tempdir = "/dev/shm"
    best = optima(tasks, args.lcbench)
    jobs = [
        (task, seed, arms, workers, args.lcbench, best[task])
        for seed in range(args.seeds)
        for task in tasks
    ]
    started = time.perf_counter()
    rows: list[dict[str, Any]] = []
    with open(args.csv, "w", newline="") as file:
        writer: csv.DictWriter | None = None
        with ProcessPoolExecutor(args.jobs) as pool:
            for pair in pool.map(run_pair, *zip(*jobs, strict=True)):
                if writer is None:
                    writer = csv.DictWriter(file, fieldnames=list(pair[0]))
                    writer.writeheader()
                writer.writerows(pair)
                file.flush()
                rows += pair
    print_table(rows)
    print(f"\nCSV: {args.csv}; {time.perf_counter() - started:.0f} s in all")
    print(headline(rows))


if __name__ == "__main__":
    main()
