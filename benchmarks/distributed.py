"""Parallel throughput in Keras Tuner's chief/worker mode (figure 6 of BENCHMARKS.md).

Runs the same search on a synthetic objective (no Keras training; each epoch
sleeps ``--seconds-per-epoch``, so trials cost time without using the CPU) as
one chief with 1 and with 2 workers on 127.0.0.1, for stock Hyperband and
kt_ext's oracles, interleaved, and prints trials per minute and the speedup of
2 workers over 1. Round barriers (a round's survivors are known only when its
last trial ends) are what keeps the speedup under 2x. Writes
``distributed.csv`` next to this file.

    python benchmarks/distributed.py --repeats 2
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

ORACLES = ("hyperband", "coarse_to_fine", "rank_pruning")


def one_process(oracle_name: str, directory: str, seconds_per_epoch: float) -> None:
    """The chief or a worker (per ``KERASTUNER_TUNER_ID``) of one search."""
    from keras_tuner.oracles import HyperbandOracle

    from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
    from kt_ext.testing import SyntheticTuner, get_objective, make_oracle

    objective = get_objective("mlp", seed=2)
    if oracle_name == "hyperband":
        oracle = make_oracle(HyperbandOracle, objective, max_epochs=27, seed=3)
    else:
        cls = {"coarse_to_fine": CoarseToFineOracle, "rank_pruning": RankPruningOracle}
        oracle = make_oracle(cls[oracle_name], objective, max_epochs=27, seed=3)
    tuner = SyntheticTuner(
        oracle,
        objective,
        seconds_per_epoch=seconds_per_epoch,
        directory=directory,
        project_name="search",
    )
    tuner_id = os.environ["KERASTUNER_TUNER_ID"]
    if tuner_id != "chief":
        # Timed from the first worker's start, not counting imports.
        Path(directory, f"{tuner_id}.start").write_text(str(time.time()))
    tuner.search()
    if tuner_id == "chief":
        starts = [float(p.read_text()) for p in Path(directory).glob("*.start")]
        summary = {"trials": len(oracle.trials), "seconds": time.time() - min(starts)}
        Path(directory, "summary.json").write_text(json.dumps(summary))


def measure(oracle_name: str, workers: int, seconds_per_epoch: float) -> dict:
    """Trials, wall seconds (the chief's) and trials per minute of one search."""
    from kt_ext.testing import run_local_cluster

    directory = tempfile.mkdtemp(prefix="kt_ext_distributed_")
    command = [
        sys.executable,
        __file__,
        "--process",
        oracle_name,
        "--directory",
        directory,
        "--seconds-per-epoch",
        str(seconds_per_epoch),
    ]
    codes = run_local_cluster(command, workers, logs=directory, timeout=600)
    if any(codes.values()):
        raise RuntimeError(f"{oracle_name} with {workers} workers: {codes}")
    summary = json.loads(Path(directory, "summary.json").read_text())
    summary["per_minute"] = summary["trials"] / summary["seconds"] * 60
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--seconds-per-epoch", type=float, default=0.1)
    parser.add_argument("--process", help=argparse.SUPPRESS)
    parser.add_argument("--directory", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.process:
        one_process(args.process, args.directory, args.seconds_per_epoch)
        return
    runs: dict[tuple[str, int], list[dict]] = {}
    for _ in range(args.repeats):
        for oracle_name in ORACLES:  # interleaved: 1 worker, 2 workers, next
            for workers in (1, 2):
                run = measure(oracle_name, workers, args.seconds_per_epoch)
                runs.setdefault((oracle_name, workers), []).append(run)
                print(
                    f"{oracle_name:<15} {workers} worker(s): {run['trials']} trials "
                    f"in {run['seconds']:.1f} s",
                    flush=True,
                )
    rows = []
    print(f"\nmedians of {args.repeats} runs")
    print("| oracle | trials/min, 1 worker | 2 workers | speedup |")
    print("|---|---|---|---|")
    for oracle_name in ORACLES:
        one = statistics.median(r["per_minute"] for r in runs[oracle_name, 1])
        two = statistics.median(r["per_minute"] for r in runs[oracle_name, 2])
        rows.append([oracle_name, round(one, 1), round(two, 1), round(two / one, 2)])
        print(f"| {oracle_name} | {one:.1f} | {two:.1f} | {two / one:.2f}x |")
    out = Path(__file__).with_name("distributed.csv")
    with open(out, "w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["oracle", "trials_per_min_1", "trials_per_min_2", "speedup"])
        writer.writerows(rows)
    speedups = ", ".join(f"{row[0]} {row[3]:.2f}x" for row in rows)
    print(f"2 workers vs 1, trials per minute: {speedups}; wrote {out}")


if __name__ == "__main__":
    main()
