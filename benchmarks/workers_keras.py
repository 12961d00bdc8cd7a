"""A real Keras search with ``workers=2`` against ``workers=1``, side by side.

``MLPHyperModel`` on the bundled ``telco_churn`` table (4,225 training rows),
CoarseToFine with ``max_epochs=9``, ``factor=3`` and one epoch budget, the
same seed in every run. Runs alternate (1 worker, 2 workers, 1, 2, ...), each
in a fresh process (the caller; with 2 workers it is the chief and starts
them), timed from ``search()``'s call to its return, worker start-up
included. Prints trials and epochs per minute, the best ``val_accuracy``, the
CPU seconds the run used (caller and workers) against its wall time, the
machine's load average when the run began, and the largest resident memory of
a worker. Writes ``workers_keras.csv`` next to this file.

    python benchmarks/workers_keras.py --repeats 2
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

# Synchronous rounds in both arms, so that they make the same decisions and
# the ratio measures throughput alone (workers=2 alone would default to
# promotion="async", a different search).
SETTINGS = {
    "max_epochs": 9,
    "factor": 3,
    "epoch_budget": 60,
    "seed": 1,
    "promotion": "sync",
}


def worker_rss_mib(directory: str) -> float:
    """The largest resident memory (MiB) of this search's worker processes now."""
    largest = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            if "kt_ext.tuners._worker" not in command or directory not in command:
                continue
            for line in (entry / "status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    largest = max(largest, int(line.split()[1]) / 1024)
        except OSError:
            continue
    return largest


def one_run(workers: int, directory: str) -> dict:
    """The search of one arm, in this process; returns what it measured."""
    import kt_ext
    from kt_ext.datasets import load
    from kt_ext.hypermodels import MLPHyperModel

    data = load("telco_churn", seed=0)
    (x, y), (x_val, y_val), _ = data
    hypermodel = MLPHyperModel(input_shape=x.shape[1:], task="binary")
    tuner = kt_ext.CoarseToFine(
        hypermodel,
        objective="val_accuracy",
        directory=directory,
        project_name="search",
        **SETTINGS,
    )
    rss = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            rss[0] = max(rss[0], worker_rss_mib(directory))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    load_before = os.getloadavg()[0]
    cpu_before = time.process_time()
    start = time.perf_counter()
    tuner.search(x, y, validation_data=(x_val, y_val), workers=workers, verbose=0)
    seconds = time.perf_counter() - start
    done.set()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = time.process_time() - cpu_before + children.ru_utime + children.ru_stime
    best = tuner.oracle.get_best_trials(1)[0]
    return {
        "workers": workers,
        "trials": len(tuner.oracle.trials),
        "epochs": tuner.oracle.epochs_used,
        "seconds": seconds,
        "best_val_accuracy": best.score,
        "cpu_seconds": cpu,
        "load_before": load_before,
        "worker_rss_mib": rss[0],
    }


def measure(workers: int) -> dict:
    directory = tempfile.mkdtemp(prefix="kt_ext_workers_keras_")
    command = [sys.executable, __file__, "--one", str(workers), "--dir", directory]
    subprocess.run(command, check=True, timeout=1800, stdout=subprocess.DEVNULL)
    run = json.loads(Path(directory, "run.json").read_text())
    run["trials_per_min"] = run["trials"] / run["seconds"] * 60
    run["epochs_per_min"] = run["epochs"] / run["seconds"] * 60
    run["cores_busy"] = run["cpu_seconds"] / run["seconds"]
    return run


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--one", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--dir", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.one:
        run = one_run(args.one, args.dir)
        Path(args.dir, "run.json").write_text(json.dumps(run))
        return
    runs: list[dict] = []
    for repeat in range(args.repeats):
        for workers in (1, 2):  # interleaved, so both see the same machine
            run = measure(workers)
            run["repeat"] = repeat
            runs.append(run)
            print(
                f"repeat {repeat} workers={workers}: {run['trials']} trials, "
                f"{run['epochs']} epochs in {run['seconds']:.1f} s, best "
                f"val_accuracy {run['best_val_accuracy']:.4f}, "
                f"{run['cores_busy']:.2f} cores busy, load {run['load_before']:.1f}, "
                f"worker RSS {run['worker_rss_mib']:.0f} MiB",
                flush=True,
            )
    print(f"\nmedians of {args.repeats} runs, {os.cpu_count()} CPU cores")
    print(
        "| workers | trials/min | epochs/min | best val_accuracy | cores busy "
        "| worker RSS (MiB) |"
    )
    print("|---|---|---|---|---|---|")
    for workers in (1, 2):
        mine = [run for run in runs if run["workers"] == workers]

        def median(key: str, mine: list[dict] = mine) -> float:
            return statistics.median(run[key] for run in mine)

        rss = f"{median('worker_rss_mib'):.0f}" if workers > 1 else "-"
        print(
            f"| {workers} | {median('trials_per_min'):.1f} | "
            f"{median('epochs_per_min'):.1f} | {median('best_val_accuracy'):.4f} | "
            f"{median('cores_busy'):.2f} | {rss} |"
        )
    out = Path(__file__).with_name("workers_keras.csv")
    keys = ["repeat", "workers", "trials", "epochs", "seconds", "trials_per_min",
            "epochs_per_min", "best_val_accuracy", "cpu_seconds", "cores_busy",
            "load_before", "worker_rss_mib"]  # fmt: skip
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=keys, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(runs)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
