"""Oracle decision cost (figure 4 of BENCHMARKS.md).

Decision cost: the seconds an oracle spends in ``create_trial``, the
``update_trial`` of each epoch and ``end_trial`` of one trial, timed around
those calls (wall time, and this process's CPU time, which other jobs on a
shared machine disturb less), when it is driven through a search of N trials
of the synthetic ``mlp`` objective (``max_epochs=3``, no Keras training; the
objective's own time is not counted). Every oracle writes its files as in a
real search (Keras Tuner saves oracle.json and trial.json per trial; kt_ext
oracles their snapshot and journal), by default in ``/dev/shm``: the same
writes, without a shared disk's stalls, which moved the cost of a window of
100 trials by up to 3x on the development machine (``--root`` picks another
folder). Each search runs with the heap alive before it frozen out of garbage
collection, as kt_ext's tuners search (``kt_ext._internal.heap.frozen_heap``), for
every oracle.

What is measured, per oracle and N:

- kt_ext's CoarseToFine and RankPruning (with ``promotion="sync"``, and
  ``"async"`` as the arms ``CoarseToFine async`` and ``RankPruning async``),
  Keras Tuner's RandomSearch at N =
  100, 1,000, 10,000: the mean over the **last 100 trials** of a search of N
  trials (trials 1-100, 901-1,000 and 9,901-10,000), and the mean over all N.
  kt_ext oracles run every trial of every search as a real search does.
  RandomSearch at 10,000 costs tens of ms per trial, so its first 9,900
  trials run with saving switched off (``save`` and trial writes are no-ops:
  the oracle's memory is as in a real search, its files are written again
  from trial 9,901 on, each save writing its whole state as Keras Tuner
  does); its "mean over all" is then not reported.
- Keras Tuner's BayesianOptimization (seconds per trial) at N = 100 and 300:
  the mean over the last 5 trials (96-100, 296-300), after a warm-up whose
  configurations are drawn at random (its own random start, extended) with
  saving switched off.

Each row also gives the size of the state files (``oracle.json`` and its
journal) at the end of the search, in KiB (``state_kib``).

The closing lines give the headline ratio per oracle, wall and CPU: ms per
trial over the last trials at the largest N / over the 100-trial search
(goal for kt_ext oracles: <= 2x from 100 to 10,000). Searches of up to 1,000
trials run ``--repeats`` times (default 3), interleaved, one time before and
the others after the 10,000-trial searches, and the median is kept; searches
of 10,000 trials and Bayesian optimization run once. The machine's load moves
absolute numbers, so compare ratios within one run. The medians are also
written to ``oracle_cost.csv`` next to this file.

    python benchmarks/oracle_cost.py                    # 100, 1000, 10000
    python benchmarks/oracle_cost.py --trials 100 1000  # quicker
    python benchmarks/oracle_cost.py --oracles "CoarseToFine async"
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

from keras_tuner.oracles import BayesianOptimizationOracle, RandomSearchOracle

from kt_ext._internal.heap import frozen_heap
from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

MAX_EPOCHS = 3
WINDOW = 100
BAYESIAN_WINDOW = 5
BAYESIAN_TRIALS = (100, 300)
KT_EXT = ("CoarseToFine", "RankPruning", "CoarseToFine async", "RankPruning async")
# Above this many trials, RandomSearch warms up without saving (see above).
RANDOM_FULL_UP_TO = 1000
# Searches of up to this many trials are repeated (--repeats), medians kept.
REPEAT_UP_TO = 1000


def oracle_for(name: str, objective, trials: int):
    """The oracle ``name`` for ``objective``, seeded, for a search of ``trials``."""
    if name == "RandomSearch":
        return make_oracle(RandomSearchOracle, objective, max_trials=trials, seed=1)
    if name == "BayesianOptimization":
        return make_oracle(
            BayesianOptimizationOracle, objective, max_trials=trials, seed=1
        )
    strategy, _, promotion = name.partition(" ")
    cls = {"CoarseToFine": CoarseToFineOracle, "RankPruning": RankPruningOracle}
    return make_oracle(
        cls[strategy],
        objective,
        max_epochs=MAX_EPOCHS,
        max_trials=trials,
        seed=1,
        promotion=promotion or "sync",
    )


class DecisionTimer:
    """Times an oracle's create/update/end_trial calls, trial by trial."""

    def __init__(self, oracle) -> None:
        self.per_trial: list[float] = []  # wall seconds
        self.cpu_per_trial: list[float] = []  # this process's CPU seconds
        self._pending = self._pending_cpu = 0.0
        for method in ("create_trial", "update_trial"):
            setattr(oracle, method, self._timed(getattr(oracle, method)))
        oracle.end_trial = self._timed(oracle.end_trial, ends=True)

    def _timed(self, call, ends: bool = False):
        def timed(*args, **kwargs):
            started, cpu = time.perf_counter(), time.process_time()
            try:
                return call(*args, **kwargs)
            finally:
                self._pending += time.perf_counter() - started
                self._pending_cpu += time.process_time() - cpu
                if ends:
                    self.per_trial.append(self._pending)
                    self.cpu_per_trial.append(self._pending_cpu)
                    self._pending = self._pending_cpu = 0.0

        return timed


class Warmup:
    """Switches saving (and, for Bayesian, model-based sampling) off for a while."""

    def __init__(self, oracle, random_values: bool) -> None:
        self.oracle = oracle
        self.patched = {"save": lambda: None, "_save_trial": lambda trial: None}
        if random_values:
            self.patched["populate_space"] = lambda trial_id: {
                "status": "RUNNING",
                "values": oracle._random_values(),
            }

    def __enter__(self) -> None:
        for name, replacement in self.patched.items():
            setattr(self.oracle, name, replacement)

    def __exit__(self, *exc) -> None:
        for name in self.patched:
            delattr(self.oracle, name)  # back to the class's method


def default_root() -> str | None:
    """``/dev/shm`` (memory) where there is one, else the system's temp folder."""
    shm = "/dev/shm"
    return shm if os.path.isdir(shm) and os.access(shm, os.W_OK) else None


def measure(
    name: str, trials: int, window: int, warm_up: bool, root: str | None = None
) -> dict:
    """One search of ``trials``; decision cost over the last ``window`` trials."""
    objective = get_objective("mlp", seed=0)
    oracle = oracle_for(name, objective, trials)
    folder = tempfile.TemporaryDirectory(dir=root, prefix="oracle_cost_")
    # As kt_ext's tuners search: TensorFlow's long-lived objects are left out
    # of garbage collection, else one full collection (~0.3 s) lands in some
    # windows of 100 trials and not in others.
    with folder as directory, frozen_heap():
        timer = DecisionTimer(oracle)
        common = {"epochs": MAX_EPOCHS, "directory": directory}
        head = trials - window
        if warm_up and head > 0:
            with Warmup(oracle, random_values=name == "BayesianOptimization"):
                run_oracle(oracle, objective, max_trials=head, **common)
            run_oracle(oracle, objective, max_trials=window, **common)
        else:
            run_oracle(oracle, objective, max_trials=trials, **common)
        files = Path(directory, objective.name)
        state_kib = sum(
            (files / name).stat().st_size
            for name in ("oracle.json", "oracle_journal.jsonl")
            if (files / name).exists()
        )
    times, cpu = timer.per_trial, timer.cpu_per_trial
    last = times[-window:]
    return {
        "oracle": name,
        "trials": trials,
        "window": f"{len(times) - len(last) + 1}-{len(times)}",
        "ms_per_trial_window": 1000 * sum(last) / len(last),
        "cpu_ms_per_trial_window": 1000 * sum(cpu[-window:]) / len(last),
        "ms_per_trial_all": math.nan if warm_up else 1000 * sum(times) / len(times),
        "warm_up_without_saving": warm_up,
        "trials_run": len(times),
        "state_kib": state_kib / 1024,
    }


def plan(sizes: list[int], repeats: int) -> list[tuple[str, int, int, bool]]:
    """(oracle, trials, window, warm-up) for each measurement, interleaved.

    Searches of up to ``REPEAT_UP_TO`` trials run ``repeats`` times (A B C A B
    C ...), once before the longer ones and the other times after them, so
    their median is not taken at a calmer or busier moment of the machine;
    longer searches and Bayesian optimization run once.
    """

    def searches(sizes: list[int]) -> list[tuple[str, int, int, bool]]:
        return [
            (
                name,
                trials,
                min(WINDOW, trials),
                name == "RandomSearch" and trials > RANDOM_FULL_UP_TO,
            )
            for trials in sizes
            for name in ("RandomSearch", *KT_EXT)
        ]

    short = [trials for trials in sizes if trials <= REPEAT_UP_TO]
    runs = searches(short)
    runs += searches([trials for trials in sizes if trials > REPEAT_UP_TO])
    for _ in range(repeats - 1):
        runs += searches(short)
    for trials in BAYESIAN_TRIALS:
        runs.append(("BayesianOptimization", trials, BAYESIAN_WINDOW, True))
    return runs


def medians(rows: list[dict]) -> list[dict]:
    """One row per (oracle, trials): the median over its runs."""
    cells: dict[tuple[str, int], list[dict]] = {}
    for row in rows:
        cells.setdefault((row["oracle"], row["trials"]), []).append(row)
    merged = []
    for runs in cells.values():
        row = dict(runs[0])
        for key in (
            "ms_per_trial_window",
            "cpu_ms_per_trial_window",
            "ms_per_trial_all",
        ):
            row[key] = statistics.median(run[key] for run in runs)
        row["runs"] = len(runs)
        merged.append(row)
    return merged


def _cell(row: dict | None) -> str:
    if row is None:
        return f"{'':>22}"
    wall, cpu = row["ms_per_trial_window"], row["cpu_ms_per_trial_window"]
    return f"{wall:>10.2f} / {cpu:6.2f} ({row['runs']})"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--trials", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument(
        "--repeats",
        type=int,
        default=3,
        help=f"runs of each search of up to {REPEAT_UP_TO} trials (median kept)",
    )
    parser.add_argument(
        "--no-bayesian", action="store_true", help="skip BayesianOptimization"
    )
    parser.add_argument(
        "--oracles",
        nargs="+",
        help="measure only these (e.g. 'CoarseToFine async'); default: all",
    )
    parser.add_argument(
        "--root",
        default=default_root(),
        help="folder for the searches' files (default: /dev/shm where there is "
        "one, else the system's temp folder)",
    )
    args = parser.parse_args()
    print(f"files under {args.root or tempfile.gettempdir()}")
    # Bayesian optimization's Gaussian process fits warn about convergence.
    warnings.filterwarnings("ignore", module="sklearn")
    print(
        f"{'oracle':<21} {'trials':>6} {'window':>11} {'ms/trial':>9} "
        f"{'cpu ms':>8} {'ms/trial (all)':>15}  how",
        flush=True,
    )
    rows = []
    runs = plan(sorted(set(args.trials)), args.repeats)
    for name, trials, window, warm_up in runs:
        if name == "BayesianOptimization" and args.no_bayesian:
            continue
        if args.oracles and name not in args.oracles:
            continue
        row = measure(name, trials, window, warm_up, args.root)
        rows.append(row)
        how = "warm-up without saving" if warm_up else "full search"
        print(
            f"{name:<21} {trials:>6} {row['window']:>11} "
            f"{row['ms_per_trial_window']:9.2f} {row['cpu_ms_per_trial_window']:8.2f} "
            f"{row['ms_per_trial_all']:15.2f}  {how}",
            flush=True,
        )
    rows = medians(rows)
    sizes = sorted({row["trials"] for row in rows})
    print(
        f"\nms per trial over the last {WINDOW} trials ({BAYESIAN_WINDOW} for "
        "Bayesian), wall / CPU, median (runs):"
    )
    print(f"{'oracle':<21}" + "".join(f"{size:>22}" for size in sizes))
    for name in ("RandomSearch", *KT_EXT, "BayesianOptimization"):
        cells = {r["trials"]: r for r in rows if r["oracle"] == name}
        print(f"{name:<21}" + "".join(_cell(cells.get(size)) for size in sizes))
    for name in ("RandomSearch", *KT_EXT, "BayesianOptimization"):
        cells = {r["trials"]: r for r in rows if r["oracle"] == name}
        if len(cells) < 2:
            continue
        low, high = cells[min(cells)], cells[max(cells)]
        wall = high["ms_per_trial_window"] / low["ms_per_trial_window"]
        cpu = high["cpu_ms_per_trial_window"] / low["cpu_ms_per_trial_window"]
        goal = " (goal: <= 2x)" if name in KT_EXT else ""
        print(
            f"{name}: {wall:.2f}x wall, {cpu:.2f}x CPU, ms per trial at "
            f"{max(cells)} trials as at {min(cells)}{goal}"
        )
    out = Path(__file__).with_name("oracle_cost.csv")
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
