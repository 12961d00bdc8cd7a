"""Per-trial fixed cost and steady epoch time (figure 3 of BENCHMARKS.md).

Runs, interleaved and on the same data (W1: breast_cancer with
``MLPHyperModel``):

- ``hyperband (keras arrays)``: stock ``kt.Hyperband`` with NumPy arrays fed
  to ``fit`` the way Keras does it (kt_ext's pipeline switched off), the
  baseline;
- ``hyperband``: stock ``kt.Hyperband`` with kt_ext's ``MLPHyperModel`` as
  shipped (NumPy data fed as a ``tf.data`` pipeline);
- ``coarse_to_fine`` and ``rank_pruning``: kt_ext's tuners as shipped (one
  garbage collection per trial instead of Keras Tuner's two, of the young
  generations only after a small model; optimizer and metric variables created
  before tracing; the best epoch's checkpoint written once per trial; a trial
  whose graph an earlier trial traced trains that earlier model, counted in
  the ``reused`` column);
- ``... (not lean)``: the same tuners with their lean trials switched off
  (``tuner._lean_trials = False``), to show what that saving is worth and that
  it changes no result: the same seed must try the same configurations and
  reach the same scores;
- ``keras alone``: the models that ``coarse_to_fine`` trained with the same
  seed, each built, its training state created early and trained for its
  epochs with nothing but Keras (no tuner, oracle, checkpoint or reuse): the
  floor that a tuner building a new model for every trial cannot go below.

Each search runs in a fresh process: in one long process every search would
inherit the graphs TensorFlow keeps from the searches before it, and stock
Keras Tuner's per-trial garbage collection would walk them all (its fixed cost
doubled from the first seed to the second that way). Steady epoch time is the
median duration of the epochs other than the first of each ``fit``; per-trial
fixed cost = (wall time - epochs x steady epoch time) / trials. Prints a table
and the headline ratios, and writes ``trial_cost.csv`` next to this file.
Each child first fits one model on each input path, so the process's one-time
costs (TensorFlow's first trace, lazy imports) count in no arm.

    python benchmarks/trial_cost.py --repeats 2

``--backends tensorflow,jax,torch`` measures the Keras 3 backends instead
(docs/backends.md): stock Hyperband and both kt_ext tuners on each backend
(``KERAS_BACKEND`` set in each child), backends interleaved within each arm,
and on JAX also a ``coarse_to_fine (jax compile cache)`` arm: the same search
with JAX's persistent compilation cache on, which lets a model of an architecture an
earlier trial compiled skip XLA's compilation (its train and test steps are
still traced). A backend whose package is not installed is skipped, with a
line saying so. Writes ``trial_cost_backends.csv``.

    nice python benchmarks/trial_cost.py --backends tensorflow,jax,torch --repeats 3
"""

from __future__ import annotations

import argparse
import csv
import importlib.util
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import nullcontext
from pathlib import Path
from typing import Any
from unittest import mock

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras
import keras_tuner as kt

import kt_ext
from kt_ext import datasets
from kt_ext._internal.heap import frozen_heap
from kt_ext._internal.quiet import quiet_search
from kt_ext.hypermodels import MLPHyperModel
from kt_ext.tuners._lean import build_training_state


class EpochTimer(keras.callbacks.Callback):
    """Records each epoch's duration and whether it was a fit's first."""

    def __init__(self) -> None:
        super().__init__()
        self.epochs: list[tuple[bool, float]] = []

    def __deepcopy__(self, memo: dict) -> EpochTimer:
        return self  # one timer for every trial of a search

    def on_train_begin(self, logs=None) -> None:
        self._first = True

    def on_epoch_begin(self, epoch, logs=None) -> None:
        self._started = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None) -> None:
        self.epochs.append((self._first, time.perf_counter() - self._started))
        self._first = False


def warm_up(data: datasets.Dataset) -> None:
    """Pays the process's one-time costs, which are no trial's fixed cost.

    TensorFlow's first trace, first ``tf.data`` pipeline and Keras' lazy imports
    cost seconds once per process; a fit on each input path before the timed
    search keeps them out of every arm alike.
    """
    (x, y), validation, _ = data
    hypermodel = MLPHyperModel.for_data(x, y)
    hp = kt.HyperParameters()
    hypermodel.fit(
        hp, hypermodel.build(hp), x, y, epochs=2, validation_data=validation, verbose=0
    )
    hypermodel.build(hp).fit(x, y, epochs=2, validation_data=validation, verbose=0)


def run(arm: str, data: datasets.Dataset, max_epochs: int, seed: int) -> dict:
    (x, y), _, _ = data
    hypermodel = MLPHyperModel.for_data(x, y)
    common = {
        "objective": "val_accuracy",
        "max_epochs": max_epochs,
        "factor": 3,
        "seed": seed,
        "directory": tempfile.mkdtemp(prefix="kt_ext_bench_"),
        "project_name": "p",
    }
    tuner_cls = {
        "coarse_to_fine": kt_ext.CoarseToFine,
        "rank_pruning": kt_ext.RankPruning,
    }.get(arm.split(" ")[0], kt.Hyperband)
    keras.utils.set_random_seed(seed)
    tuner = tuner_cls(hypermodel, **common)
    if arm.endswith("(not lean)"):
        tuner._lean_trials = False
    keras_arrays = mock.patch(
        "kt_ext.hypermodels._base.fit_arguments", lambda args, kwargs: (args, kwargs)
    )
    with keras_arrays if arm.endswith("arrays)") else nullcontext():
        return timed_search(arm, seed, tuner, data, max_epochs)


def timed_search(
    arm: str, seed: int, tuner: Any, data: datasets.Dataset, max_epochs: int
) -> dict:
    """Runs ``tuner``'s search quietly on W1; its row of costs and results."""
    (x, y), (x_val, y_val), _ = data
    timer = EpochTimer()
    with quiet_search():
        started = time.perf_counter()
        tuner.search(
            x,
            y,
            epochs=max_epochs,
            validation_data=(x_val, y_val),
            callbacks=[timer],
            verbose=0,
        )
        wall = time.perf_counter() - started
    trials = list(tuner.oracle.trials.values())
    return {
        "arm": arm,
        "seed": seed,
        **cost_columns(wall, timer, len(trials)),
        "best_val": tuner.oracle.get_best_trials(1)[0].score,
        # Trials that trained an earlier model of the same graph (lean trials).
        "reused": tuner._lean.models.adopted if hasattr(tuner, "_lean") else 0,
        "configurations": json.dumps([t.hyperparameters.values for t in trials]),
        "scores": json.dumps([t.score for t in trials if t.score is not None]),
    }


def cost_columns(wall: float, timer: EpochTimer, trials: int) -> dict:
    """Wall time, epochs, steady epoch time and per-trial fixed cost (figure 3).

    Steady epoch time is the median of the epochs other than each fit's first.
    """
    steady = statistics.median(d for first, d in timer.epochs if not first)
    return {
        "wall_s": wall,
        "trials": trials,
        "epochs": len(timer.epochs),
        "steady_epoch_s": steady,
        "fixed_cost_s": (wall - len(timer.epochs) * steady) / trials,
    }


def run_keras_alone(
    data: datasets.Dataset, configurations: list[dict], seed: int
) -> dict:
    """Builds and trains each configuration with Keras only: the floor."""
    (x, y), (x_val, y_val), _ = data
    hypermodel = MLPHyperModel.for_data(x, y)
    timer = EpochTimer()
    keras.utils.set_random_seed(seed)
    with quiet_search(), frozen_heap():
        started = time.perf_counter()
        for values in configurations:
            keras.backend.clear_session(free_memory=False)
            hp = kt.HyperParameters()
            hp.values = dict(values)
            model = hypermodel.build(hp)
            build_training_state(model, x, y)
            hypermodel.fit(
                hp,
                model,
                x,
                y,
                epochs=values["tuner/epochs"],
                initial_epoch=values.get("tuner/initial_epoch", 0),
                validation_data=(x_val, y_val),
                callbacks=[timer],
                verbose=0,
            )
        wall = time.perf_counter() - started
    return {
        "arm": "keras alone",
        **cost_columns(wall, timer, len(configurations)),
        "reused": 0,
        "configurations": json.dumps(configurations),
    }


def child_row(
    script: str, arm: str, seed: int, *arguments: str, env: dict | None = None
) -> dict:
    """Runs one arm of ``script`` in a fresh Python process; its row, printed."""
    child = subprocess.run(
        [sys.executable, script, "--arm", arm, "--seed", str(seed), *arguments],
        capture_output=True,
        text=True,
        env=env,
    )
    if child.returncode != 0:
        sys.exit(f"{arm} seed {seed} failed:\n{child.stderr[-3000:]}")
    row = json.loads(child.stdout.splitlines()[-1])
    print(
        f"{arm} seed {seed}: {row['wall_s']:.1f} s, {row['trials']} trials, "
        f"{row['epochs']} epochs, steady {row['steady_epoch_s']:.4f} s, "
        f"fixed {row['fixed_cost_s']:.3f} s, reused {row['reused']}",
        flush=True,
    )
    return row


# The backends' arms (--backends): the tuners as shipped.
BACKEND_ARMS = ("hyperband", "coarse_to_fine", "rank_pruning")
# JAX's persistent compilation cache, on for the `(jax compile cache)` arm:
# a fresh folder per search, every compiled step kept however small.
JAX_CACHE = {
    "JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS": "0",
    "JAX_PERSISTENT_CACHE_MIN_ENTRY_SIZE_BYTES": "0",
}


def installed_backends(names: list[str]) -> list[str]:
    """The backends of ``names`` whose package is installed; says which are not."""
    found = []
    for name in names:
        if name not in ("tensorflow", "jax", "torch"):
            sys.exit(f"--backends: unknown backend {name!r} (tensorflow, jax, torch)")
        if importlib.util.find_spec(name) is None:
            print(f"skipping {name}: not installed (pip install 'kt_ext[{name}]')")
        else:
            found.append(name)
    return found


def run_backends(backends: list[str], repeats: int, max_epochs: int) -> None:
    """Each backend's arms, interleaved (TF, JAX, torch, TF, ...); prints the
    medians per trial and per epoch, writes ``trial_cost_backends.csv``."""
    backends = installed_backends(backends)
    runs = [(arm, b, {}) for arm in BACKEND_ARMS for b in backends]
    if "jax" in backends:
        runs.append(("coarse_to_fine (jax compile cache)", "jax", JAX_CACHE))
    rows = []
    for seed in range(1, repeats + 1):
        for arm, backend, extra in runs:
            with tempfile.TemporaryDirectory(prefix="kt_ext_jax_cache_") as cache:
                env = {**os.environ, **extra, "KERAS_BACKEND": backend}
                if extra:
                    env["JAX_COMPILATION_CACHE_DIR"] = cache
                row = child_row(
                    __file__, arm, seed, "--max-epochs", str(max_epochs), env=env
                )
            if row["backend"] != backend:
                sys.exit(f"{arm} ran on {row['backend']}, not {backend}")
            rows.append({**row, "arm": f"{arm} [{backend}]"})
    print(f"W1, max_epochs={max_epochs}, factor=3, {repeats} runs per arm, medians")
    print(
        "arm                                           wall_s  trials  epochs  "
        "per_trial_s  per_epoch_s  steady_s  fixed_s"
    )
    for arm, backend, _ in runs:
        mine = [r for r in rows if r["arm"] == f"{arm} [{backend}]"]

        def median(key: str, mine: list[dict] = mine) -> float:
            return statistics.median(r[key] for r in mine)

        per_trial = statistics.median(r["wall_s"] / r["trials"] for r in mine)
        per_epoch = statistics.median(r["wall_s"] / r["epochs"] for r in mine)
        print(
            f"{arm + ' [' + backend + ']':<45} {median('wall_s'):7.1f} "
            f"{median('trials'):7.0f} {median('epochs'):7.0f} {per_trial:12.3f} "
            f"{per_epoch:12.3f} {median('steady_epoch_s'):9.4f} "
            f"{median('fixed_cost_s'):8.3f}"
        )
    write_csv(rows, "trial_cost_backends.csv")


def run_in_child(
    arm: str, max_epochs: int, seed: int, configurations: str | None = None
) -> dict:
    """``run`` (or, given configurations, ``run_keras_alone``) in a fresh process."""
    with tempfile.NamedTemporaryFile("w", suffix=".json") as handle:
        handle.write(configurations or "[]")
        handle.flush()
        return child_row(
            __file__,
            arm,
            seed,
            "--max-epochs",
            str(max_epochs),
            "--configurations",
            handle.name,
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeats", type=int, default=2)
    parser.add_argument("--max-epochs", type=int, default=9)
    parser.add_argument(
        "--backends",
        help="comma-separated Keras backends to measure instead (tensorflow,jax,torch)",
    )
    parser.add_argument("--arm", help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--configurations", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.arm:  # a child process: one search, its row as JSON
        data = datasets.load("breast_cancer", seed=0)
        warm_up(data)
        if args.arm == "keras alone":
            configurations = json.loads(Path(args.configurations).read_text())
            row = run_keras_alone(data, configurations, args.seed)
        else:
            row = run(args.arm, data, args.max_epochs, args.seed)
        print(
            json.dumps({**row, "seed": args.seed, "backend": keras.backend.backend()})
        )
        return
    if args.backends:
        run_backends(args.backends.split(","), args.repeats, args.max_epochs)
        return
    arms = [
        "hyperband (keras arrays)",
        "hyperband",
        "coarse_to_fine",
        "rank_pruning",
        "coarse_to_fine (not lean)",
        "rank_pruning (not lean)",
        "keras alone",
    ]
    rows = []
    for seed in range(1, args.repeats + 1):
        for arm in arms:  # interleaved: A B C D A B C D ...
            # Keras alone trains the models coarse_to_fine tried (run before).
            tried = next(
                (
                    r["configurations"]
                    for r in rows
                    if r["arm"] == "coarse_to_fine" and r["seed"] == seed
                ),
                None,
            )
            rows.append(run_in_child(arm, args.max_epochs, seed, tried))
    print(f"W1, max_epochs={args.max_epochs}, factor=3, {args.repeats} runs per arm")
    summary = print_summary(rows, arms)
    base = summary["hyperband (keras arrays)"]
    for arm in arms[1:]:
        s = summary[arm]
        print(
            f"{arm}: fixed cost {s['fixed_cost_s'] / base['fixed_cost_s']:.2f}x, "
            f"steady epoch {s['steady_epoch_s'] / base['steady_epoch_s']:.2f}x, "
            f"wall {s['wall_s'] / base['wall_s']:.2f}x of stock Hyperband's "
            "(medians, same run)"
        )
    for arm in ("coarse_to_fine", "rank_pruning"):
        print_against_twin(rows, summary, arm, f"{arm} (not lean)")
    write_csv(rows, "trial_cost.csv")


def print_summary(rows: list[dict], arms: list[str] | tuple[str, ...]) -> dict:
    """Prints each arm's medians as a table; returns them by arm."""
    keys = ("wall_s", "trials", "epochs", "steady_epoch_s", "fixed_cost_s", "reused")
    print(
        "arm                          wall_s  trials  epochs  steady_s  fixed_s  reused"
    )
    summary = {}
    for arm in arms:
        mine = [r for r in rows if r["arm"] == arm]
        summary[arm] = s = {k: statistics.median(r[k] for r in mine) for k in keys}
        print(
            f"{arm:<27} {s['wall_s']:7.1f} {s['trials']:7.0f} {s['epochs']:7.0f} "
            f"{s['steady_epoch_s']:9.4f} {s['fixed_cost_s']:8.3f} {s['reused']:7.0f}"
        )
    return summary


def print_against_twin(rows: list[dict], summary: dict, arm: str, twin: str) -> None:
    """Prints ``arm``'s fixed cost and wall time as ratios to ``twin``'s (the
    same tuner with a saving switched off) and whether their results agree."""
    same, difference = same_seed_agreement(rows, arm, twin)
    mine, other = summary[arm], summary[twin]
    print(
        f"{arm} vs {twin}: fixed cost "
        f"{mine['fixed_cost_s'] / other['fixed_cost_s']:.2f}x, wall "
        f"{mine['wall_s'] / other['wall_s']:.2f}x; same configurations for every "
        f"seed: {'yes' if same else 'NO'}; largest score difference {difference:.2g}"
    )


def same_seed_agreement(rows: list[dict], arm: str, twin: str) -> tuple[bool, float]:
    """Whether ``arm`` and ``twin`` tried the same configurations for every
    seed, and the largest difference between their trials' scores."""
    pairs = [
        (a, b)
        for a in rows
        for b in rows
        if a["arm"] == arm and b["arm"] == twin and a["seed"] == b["seed"]
    ]
    same = all(a["configurations"] == b["configurations"] for a, b in pairs)
    differences = [
        abs(x - y)
        for a, b in pairs
        for x, y in zip(json.loads(a["scores"]), json.loads(b["scores"]), strict=False)
        if x is not None and y is not None
    ]
    return same, max(differences, default=float("nan"))


def write_csv(rows: list[dict], name: str) -> None:
    """Writes ``rows`` to ``name`` next to this file."""
    out = Path(__file__).with_name(name)
    with open(out, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
