"""Figure 1 of BENCHMARKS.md against the peers: regret at Hyperband's epoch budget.

On each (task, seed), stock Hyperband (factor=3, one iteration) runs first and
its epochs are the budget of every other arm: RandomSearch (trials of
``max_epochs``; it always runs, it sets the normalized view's scale),
CoarseToFine and RankPruning with their defaults, the one-epoch baseline and
the peers. Tasks: the synthetic objectives of ``kt_ext.testing``
(max_epochs=27) and the six lcbench development tasks (max_epochs=50, as
BENCHMARKS.md sets it; needs onnxruntime, the ``bench`` extra). The arms of a
pair run one after the other (A B C ... A B C ...); no Keras training; one
worker (synchronous): asynchronous promotions (issue #22) had not landed, so
nothing here is measured with several workers.
Keras Tuner's oracles (Hyperband, RandomSearch) get ``kt_ext.compare.stock_seed``
of the seed: with ``seed + 1`` they draw value n from ``Random(seed + 1 + n)``,
so seeds 1..10 shared one stream and Hyperband recommended the same ``mlp``
configuration on 7 of 10 seeds.

The arms, and how each is charged for a configuration continued at a higher
fidelity (BENCHMARKS.md: only its extra epochs where the method resumes from
a checkpoint, in full where it restarts). A run that reaches the budget is cut
there; what it was training counts for nothing.

- Hyperband, CoarseToFine, RankPruning: continue trials from their weights
  (``tuner/initial_epoch``): extra epochs only. RandomSearch: full trials.
- ``OneEpochTopK`` (Egele et al. 2023, "one epoch, then train the top"):
  half the budget trains uniform draws for one epoch, the rest continues the
  best of them by that score to ``max_epochs`` (extra epochs only, as many as
  fit); recommends the best score at ``max_epochs``. Runs here, on the
  objectives directly (no peer environment).
- Optuna 5.0 ``TPESampler`` univariate and multivariate (``Multi``), each with
  ``MedianPruner(n_startup_trials=5, n_warmup_steps=1)`` and with
  ``HyperbandPruner(min_resource=1, max_resource=max_epochs,
  reduction_factor=3)``: a trial reports every epoch from 1 and pays the
  epochs it reported, pruned or not (no continuation). Recommends
  ``study.best_trial`` (completed trials).
- ``DEHB`` 0.1.2 (``min_fidelity=1, max_fidelity=max_epochs, eta=3``,
  ask/tell): every evaluation retrains from scratch and pays its rounded
  fidelity in full. Recommends its incumbent.
- ``SMAC``: SMAC3 2.4.1 ``MultiFidelityFacade`` with its Hyperband
  intensifier (``eta=3``, ``min_budget=1``, ``max_budget=max_epochs``,
  deterministic, ask/tell; no pyrfr needed): restarts, pays its rounded
  budget in full. Recommends its incumbent (the best at the highest budget
  observed, SMAC's default).
- ``MOBSTER``: syne-tune 0.13.0 (``type="promotion"``, pause and resume,
  ``grace_period=1``, ``reduction_factor=3``, ``points_to_evaluate=[]`` so it
  does not start at the space's midpoint as no other arm does; GP
  multi-task model, its default), one worker: a promoted trial resumes from its
  checkpoint and pays only its extra epochs. Recommends the best last score
  among the trials trained furthest. Slow (a GP fitted on every reported
  epoch): 0.5-7.5 minutes a synthetic pair and 4.5-9 minutes an lcbench
  pair on 2 cores shared with other work (load 10-15), so
  ``--cap MOBSTER:lcbench=N`` runs it on the first N seeds of a bench only
  (or it runs apart and ``--report --merge-cached`` adds it); its verdicts
  are then on those pairs, and every head-to-head comparison uses the peer's
  own pairs. Its recommendation rule is doubtful (see docs/performance.md):
  syne-tune's own best configuration is the best metric at any resource.

Scoring (BENCHMARKS.md, Figure 1): a recommendation scores the objective's
noise-free value at ``max_epochs``; regret is its distance to the task's
optimum, the best of 100,000 seeded uniform samples, cached in
``search_quality_optima.json``. Per bench and tuner: the verdict (median
regret over all (task, seed) pairs / Hyperband's median regret over the same
pairs), the median budget-to-match (fraction of Hyperband's epochs after which
the recommendation first had regret <= Hyperband's final regret; ``inf`` =
never), the share of pairs with lower regret than Hyperband and a paired
Wilcoxon test of the regrets (``n/a`` under 6 non-zero differences). Two views
of the regrets are printed: raw, and normalized (each task's regrets divided
by that task's random-search median regret over the seeds), since a bench may
pool tasks of different scales (the synthetic bench pools ``lr_only``, an
accuracy, with ``mlp``, a loss). The normalized view decides on the synthetic
bench, raw decides on lcbench (one scale). The closing headline checks issue
#24's targets per strategy in the deciding view: median regret below every
peer's on that peer's pairs (the one-epoch baseline counts as a peer), at most
0.5x Hyperband's on lcbench, median budget-to-match at most 0.3, never more
epochs than the budget. Writes ``search_quality.csv`` next to this file.

The peers run in their own virtual environment, ``benchmarks/.venv-peers``,
which this script creates from ``requirements-peers.txt`` when it is missing
or the file changed (a few minutes, from the package index): DEHB pins
numpy<2, and kt_ext never imports a peer. ``peers_worker.py`` runs there
with ``python -I`` (a clean ``sys.path``: ``benchmarks/distributed.py`` would
shadow dask's ``distributed``) and asks this process for every score, so the
objectives exist once. If a peer library (or the whole venv) cannot run, its
arms are left out and the reason is printed.

The peers' arms do not depend on kt_ext's code: each (bench, task, seed,
tuner, budget) is kept in ``search_quality_peers_cache.csv``, which is in git
so that a new machine does not run them again (MOBSTER alone takes hours). It
is keyed by the peers' code and pins (a digest of ``peers_worker.py``,
``requirements-peers.txt`` and ``PEER_PROTOCOL``) and by the task (a digest
of its space and of a few of its scores, :func:`task_digest`), never by
kt_ext's oracles: a rerun trains only Hyperband, RandomSearch, the one-epoch
baseline and kt_ext's arms again (``--no-peer-cache`` reruns the peers too;
``--peer-cache`` names another file, one per concurrent run).

Timing: see docs/performance.md (the last full run and its load).
``--bench synthetic --seeds 3 --tuners CoarseToFine,TPE+Median`` takes about
a minute once the peers are cached.

Usage:
    .venv/bin/python benchmarks/search_quality.py [--bench all|synthetic|lcbench]
        [--seeds 10] [--tuners CoarseToFine,TPE+Median] [--jobs 1]
        [--cap MOBSTER:lcbench=2] [--lcbench ../shared/data/yahpo_lcbench]
    .venv/bin/python benchmarks/search_quality.py --report  # tables of the CSV
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import math
import os
import pathlib
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import Any

from keras_tuner.oracles import HyperbandOracle, RandomSearchOracle
from scipy import stats

from kt_ext._internal.names import is_bookkeeping
from kt_ext.compare import stock_seed
from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import (
    DEVELOPMENT_TASKS,
    LCBenchObjective,
    budget_to_match,
    get_objective,
    make_oracle,
    recommendation,
    regret,
    run_oracle,
    sampled_optimum,
    uniform_configs,
)

FACTOR = 3
SYNTHETIC_EPOCHS = 27
LCBENCH_EPOCHS = 50
SYNTHETIC = ("lr_only", "mlp")
BENCHES = {"synthetic": SYNTHETIC, "lcbench": DEVELOPMENT_TASKS}
KT_TUNERS = ("Hyperband", "RandomSearch", "CoarseToFine", "RankPruning")
BASELINES = ("OneEpochTopK",)  # run here, on kt_ext.testing's objectives
# Each peer arm, and the library the worker needs for it.
PEER_LIBRARIES = {
    "TPE+Median": "optuna",
    "TPE+Hyperband": "optuna",
    "MultiTPE+Median": "optuna",
    "MultiTPE+Hyperband": "optuna",
    "DEHB": "dehb",
    "SMAC": "smac",
    "MOBSTER": "syne_tune",
}
PEER_TUNERS = tuple(PEER_LIBRARIES)
ALWAYS = ("Hyperband", "RandomSearch")  # the budget; the normalized view's scale
OURS = ("CoarseToFine", "RankPruning")
OPTIMUM_SAMPLES = 100_000
ROOT = pathlib.Path(__file__).resolve().parent
CSV_PATH = ROOT / "search_quality.csv"
OPTIMA_PATH = ROOT / "search_quality_optima.json"
PEER_CACHE = ROOT / "search_quality_peers_cache.csv"
# Bump when what a peer arm is given or returns changes here.
PEER_PROTOCOL = "2"
PEER_CACHE_FIELDS = (
    "bench",
    "task",
    "task_digest",
    "seed",
    "tuner",
    "budget",
    "version",
    "epochs",
    "trials",
    "trace",
    "seconds",
)
REQUIREMENTS = ROOT / "requirements-peers.txt"
PEER_VENV = ROOT / ".venv-peers"
WORKER = ROOT / "peers_worker.py"
DEFAULT_LCBENCH = ROOT.parent.parent / "shared" / "data" / "yahpo_lcbench"


@dataclass
class Arm:
    """One tuner's search on one pair: what it trained and what it recommended."""

    epochs: int
    trials: int
    trace: list[tuple[int, dict[str, Any]]]  # (cumulative epochs, values) at changes
    seconds: float = 0.0


# --- the objectives ---------------------------------------------------------


class CachedCurves:
    """An lcbench objective that asks the surrogate once per configuration.

    The surrogate is deterministic, so the whole curve of a configuration
    comes from one batched call and every later epoch is read from memory;
    everything else is the wrapped objective's.
    """

    def __init__(self, objective: LCBenchObjective) -> None:
        self._objective = objective
        self._curves: dict[str, list[float]] = {}

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") or name == "_objective":
            raise AttributeError(name)
        return getattr(self._objective, name)

    def evaluate(self, values: dict[str, Any], epoch: int) -> float:
        active = {k: v for k, v in values.items() if not is_bookkeeping(k)}
        key = json.dumps(active, sort_keys=True, default=str)
        if key not in self._curves:
            self._curves[key] = self._objective.curve(active)
        return self._curves[key][epoch - 1]

    def noise_free(self, values: dict[str, Any], epoch: int) -> float:
        return self.evaluate(values, epoch)


def _objective(task: str, seed: int, lcbench: str) -> tuple[Any, int]:
    if task in SYNTHETIC:  # the noise differs per seed
        return get_objective(task, seed=seed), SYNTHETIC_EPOCHS
    objective = LCBenchObjective(task, data_dir=lcbench)
    return CachedCurves(objective), LCBenchObjective.max_epochs


def optima(tasks: list[str], lcbench: str) -> dict[str, float]:
    """The cached optimum of each task (computed and saved when missing)."""
    cache = json.loads(OPTIMA_PATH.read_text()) if OPTIMA_PATH.exists() else {}
    changed = False
    for task in tasks:
        objective, max_epochs = _objective(task, 0, lcbench)
        objective = getattr(objective, "_objective", objective)  # batched calls
        key = f"{task}@{max_epochs}"
        entry = cache.get(key, {})
        if entry.get("samples") != OPTIMUM_SAMPLES or entry.get("seed") != 0:
            start = time.perf_counter()
            best = sampled_optimum(objective, max_epochs, samples=OPTIMUM_SAMPLES)
            cache[key] = {"samples": OPTIMUM_SAMPLES, "seed": 0, "optimum": best}
            print(f"optimum of {key}: {best:.6f} ({time.perf_counter() - start:.0f} s)")
            changed = True
    if changed:
        OPTIMA_PATH.write_text(json.dumps(cache, indent=2, sort_keys=True) + "\n")
    return {
        task: cache[f"{task}@{_objective(task, 0, lcbench)[1]}"]["optimum"]
        for task in tasks
    }


def space_description(objective: Any) -> list[dict[str, Any]]:
    """The objective's Keras Tuner space as plain JSON for the peer worker."""
    entries = []
    for entry in objective.hyperparameters().space:
        config, kind = entry.get_config(), type(entry).__name__
        if kind in ("Float", "Int"):
            step = config["step"] if kind == "Int" else None
            described = {
                "type": kind.lower(),
                "low": config["min_value"],
                "high": config["max_value"],
                "log": config["sampling"] == "log",
                "step": step or 1,
            }
        elif kind == "Choice":
            described = {"type": "choice", "values": list(config["values"])}
        elif kind == "Boolean":
            described = {"type": "choice", "values": [False, True]}
        else:
            raise ValueError(f"The peers cannot search a {kind} entry ({entry.name}).")
        conditions = [c.get_config() for c in entry.conditions]
        if len(conditions) > 1:
            raise ValueError(f"{entry.name} has more than one condition.")
        described["name"] = entry.name
        described["parent"] = conditions[0] if conditions else None
        entries.append(described)
    return entries


# --- the Keras Tuner arms ------------------------------------------------------


def _tracked(oracle: Any, objective: Any, **kwargs: Any) -> Arm:
    trace: list[tuple[int, dict[str, Any]]] = []

    def note(oracle: Any, record: Any) -> None:
        values = recommendation(oracle)
        if values is not None and (not trace or values != trace[-1][1]):
            trace.append((record.cumulative_epochs, values))

    result = run_oracle(oracle, objective, on_trial_end=note, **kwargs)
    return Arm(result.total_epochs, len(result.trials), trace)


def _hyperband(objective: Any, seed: int, budget: int, max_epochs: int) -> Arm:
    oracle = make_oracle(
        HyperbandOracle,
        objective,
        max_epochs=max_epochs,
        factor=FACTOR,
        hyperband_iterations=1,
        seed=stock_seed(seed),  # independent draws for seeds s and s + 1
    )
    return _tracked(oracle, objective)


def _random_search(objective: Any, seed: int, budget: int, max_epochs: int) -> Arm:
    trials = budget // max_epochs
    oracle = make_oracle(
        RandomSearchOracle, objective, max_trials=trials, seed=stock_seed(seed)
    )
    return _tracked(oracle, objective, epochs=max_epochs, max_trials=trials)


def _ours(oracle_cls: type) -> Callable[[Any, int, int, int], Arm]:
    def run(objective: Any, seed: int, budget: int, max_epochs: int) -> Arm:
        oracle = make_oracle(
            oracle_cls,
            objective,
            max_epochs=max_epochs,
            factor=FACTOR,
            epoch_budget=budget,
            seed=seed,
        )
        return _tracked(oracle, objective)

    return run


def _one_epoch_top_k(objective: Any, seed: int, budget: int, max_epochs: int) -> Arm:
    """Egele et al. (2023): train many for one epoch, then the top ones fully.

    Half the budget trains ``budget // 2`` uniform draws for one epoch; the
    rest continues the best of them by their first-epoch score to
    ``max_epochs``, resuming (each pays its ``max_epochs - 1`` extra epochs),
    as many as fit. The recommendation is the best score at ``max_epochs``.
    """
    configs = uniform_configs(objective.hyperparameters(), budget // 2, seed=seed)
    first = [objective.evaluate(values, 1) for values in configs]
    sign = -1.0 if objective.direction == "max" else 1.0
    order = sorted(
        (i for i in range(len(configs)) if math.isfinite(first[i])),
        key=lambda i: sign * first[i],
    )
    used, trace, best = len(configs), [], math.inf
    top = max(1, (budget - used) // (max_epochs - 1))
    for index in order[:top]:
        if used + max_epochs - 1 > budget:
            break
        score = math.nan
        for epoch in range(2, max_epochs + 1):
            score = objective.evaluate(configs[index], epoch)
        used += max_epochs - 1
        if math.isfinite(score) and sign * score < best:
            best = sign * score
            trace.append((used, configs[index]))
    return Arm(used, len(configs), trace)


KT_RUNNERS: dict[str, Callable[[Any, int, int, int], Arm]] = {
    "Hyperband": _hyperband,
    "RandomSearch": _random_search,
    "CoarseToFine": _ours(CoarseToFineOracle),
    "RankPruning": _ours(RankPruningOracle),
    "OneEpochTopK": _one_epoch_top_k,
}


# --- the peer arms -------------------------------------------------------------


def peer_python() -> pathlib.Path:
    """The peer venv's python, created from the requirements file when needed."""
    python = PEER_VENV / "bin" / "python"
    stamp = PEER_VENV / "requirements.sha256"
    digest = hashlib.sha256(REQUIREMENTS.read_bytes()).hexdigest()
    if python.exists() and stamp.exists() and stamp.read_text() == digest:
        return python
    print(f"creating {PEER_VENV} from {REQUIREMENTS.name} (a few minutes)", flush=True)
    subprocess.run(
        [sys.executable, "-m", "venv", "--clear", str(PEER_VENV)], check=True
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "-r", str(REQUIREMENTS)], check=True
    )
    stamp.write_text(digest)
    return python


class PeerWorker:
    """``peers_worker.py`` in the peer venv, answering its score requests."""

    def __init__(self, python: pathlib.Path) -> None:
        self._process = subprocess.Popen(
            [str(python), "-I", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            cwd="/",
        )
        self.ready = self._receive()["ready"]

    def run(self, arm: str, objective: Any, job: dict[str, Any]) -> Arm:
        self._send({"run": {"arm": arm, **job}})
        while True:
            message = self._receive()
            if "values" in message:
                score = objective.evaluate(message["values"], message["epoch"])
                self._send({"score": score if math.isfinite(score) else None})
            elif "done" in message:
                done = message["done"]
                trace = [(int(epochs), values) for epochs, values in done["trace"]]
                return Arm(done["epochs"], done["trials"], trace)
            else:
                raise RuntimeError(
                    f"{arm} failed in the peer worker:\n{message['error']}"
                )

    def close(self) -> None:
        if self._process.stdin:
            self._process.stdin.close()
        self._process.wait(timeout=60)

    def _send(self, message: dict[str, Any]) -> None:
        assert self._process.stdin is not None
        self._process.stdin.write(json.dumps(message) + "\n")
        self._process.stdin.flush()

    def _receive(self) -> dict[str, Any]:
        assert self._process.stdout is not None
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the peer worker exited ({self._process.wait()})")
        return json.loads(line)


_WORKER: PeerWorker | None = None


def _worker(python: str) -> PeerWorker:
    global _WORKER
    if _WORKER is None:
        _WORKER = PeerWorker(pathlib.Path(python))
    return _WORKER


def peer_check(python: pathlib.Path) -> tuple[list[str], dict[str, str]]:
    """The peer arms that can run, and why the others cannot."""
    ready = _worker(str(python)).ready
    why = {}
    for library in set(PEER_LIBRARIES.values()):
        if ready.get(library) is None:
            why[library] = ready["why"].get(library, "not installed")
    runnable = [arm for arm in PEER_TUNERS if PEER_LIBRARIES[arm] not in why]
    return runnable, why


# --- the peers' cache ---------------------------------------------------------


def peer_version() -> str:
    """What a cached peer arm must have been run with: worker, pins, protocol."""
    digest = hashlib.sha256(PEER_PROTOCOL.encode())
    for path in (WORKER, REQUIREMENTS):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def task_digest(task: str, lcbench: str) -> str:
    """What a task is, as the peers see it: its space and a few of its scores.

    The peers' cache is keyed by it (with the peers' pins), not by kt_ext's
    code: a change of the objective invalidates the cached arms, a change of
    kt_ext's oracles does not. Scores are rounded to 4 decimals, so that
    another CPU's last bits (the lcbench surrogate is float32 ONNX) keep it.
    """
    objective, max_epochs = _objective(task, 0, lcbench)
    probes = uniform_configs(objective.hyperparameters(), 4, seed=0)
    scores = [
        round(objective.evaluate(values, epoch), 4)
        for values in probes
        for epoch in (1, max_epochs)
    ]
    described = json.dumps([space_description(objective), scores], default=str)
    return hashlib.sha256(described.encode()).hexdigest()[:12]


def _cache_key(
    bench: str, task: str, digest: str, seed: int, tuner: str, budget: int
) -> str:
    return f"{bench}|{task}|{digest}|{seed}|{tuner}|{budget}"


def read_peer_cache(path: pathlib.Path, version: str) -> dict[str, Arm]:
    """The cached peer arms of this ``version``, by bench, task, seed, tuner, budget."""
    if not path.exists():
        return {}
    cache = {}
    with open(path, newline="") as file:
        for row in csv.DictReader(file):
            if row["version"] != version:
                continue
            key = _cache_key(
                row["bench"],
                row["task"],
                row["task_digest"],
                int(row["seed"]),
                row["tuner"],
                int(row["budget"]),
            )
            trace = [
                (int(epochs), values) for epochs, values in json.loads(row["trace"])
            ]
            cache[key] = Arm(
                int(row["epochs"]), int(row["trials"]), trace, float(row["seconds"])
            )
    return cache


def append_peer_cache(path: pathlib.Path, entries: list[dict[str, Any]]) -> None:
    """Appends freshly run peer arms (rows of ``PEER_CACHE_FIELDS``)."""
    if not entries:
        return
    new = not path.exists()
    with open(path, "a", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=PEER_CACHE_FIELDS)
        if new:
            writer.writeheader()
        writer.writerows(entries)


# --- one pair ------------------------------------------------------------------


def run_pair(
    task: str,
    digest: str,
    seed: int,
    tuners: list[str],
    lcbench: str,
    optimum: float,
    python: str,
    cached: dict[str, Arm],
    version: str,
    caps: dict[str, dict[str, int]],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every tuner on one (task, seed), at Hyperband's budget.

    Returns one row per tuner, and the peer arms run now (not taken from
    ``cached``) as rows for the peers' cache.
    """
    objective, max_epochs = _objective(task, seed, lcbench)
    bench = "synthetic" if task in SYNTHETIC else "lcbench"
    arms: dict[str, Arm] = {}
    fresh: list[dict[str, Any]] = []
    budget = 0
    for tuner in [*ALWAYS, *[t for t in tuners if t not in ALWAYS]]:
        if seed >= caps.get(tuner, {}).get(bench, seed + 1):
            continue  # a capped arm: fewer seeds on this bench (see --cap)
        start = time.perf_counter()
        key = _cache_key(bench, task, digest, seed, tuner, budget)
        if tuner in KT_RUNNERS:
            arm = KT_RUNNERS[tuner](objective, seed, budget, max_epochs)
        elif key in cached:
            arms[tuner] = cached[key]
            continue
        else:
            job = {
                "space": space_description(objective),
                "direction": objective.direction,
                "max_epochs": max_epochs,
                "budget": budget,
                "seed": seed,
            }
            arm = _worker(python).run(tuner, objective, job)
            fresh.append(
                {
                    "bench": bench,
                    "task": task,
                    "task_digest": digest,
                    "seed": seed,
                    "tuner": tuner,
                    "budget": budget,
                    "version": version,
                    "epochs": arm.epochs,
                    "trials": arm.trials,
                    "trace": json.dumps(arm.trace, sort_keys=True),
                    "seconds": round(time.perf_counter() - start, 3),
                }
            )
        arm.seconds = time.perf_counter() - start
        arms[tuner] = arm
        budget = budget or arm.epochs

    seconds = sum(arm.seconds for arm in arms.values())
    print(f"  {bench} {task} seed {seed}: {seconds:.0f} s", flush=True)
    return pair_rows(bench, task, seed, objective, optimum, arms), fresh


def pair_rows(
    bench: str,
    task: str,
    seed: int,
    objective: Any,
    optimum: float,
    arms: dict[str, Arm],
    target: float | None = None,
) -> list[dict[str, Any]]:
    """One CSV row per arm of a pair; ``target`` is Hyperband's final regret
    (taken from ``arms["Hyperband"]`` when not given)."""
    max_epochs = SYNTHETIC_EPOCHS if bench == "synthetic" else LCBENCH_EPOCHS
    scores: dict[str, float] = {}

    def regret_of(values: dict[str, Any]) -> float:
        key = json.dumps(values, sort_keys=True)
        if key not in scores:
            scores[key] = objective.noise_free(values, max_epochs)
        return regret(scores[key], optimum, objective.direction)

    traces = {
        tuner: [(epochs, regret_of(values)) for epochs, values in arm.trace]
        for tuner, arm in arms.items()
    }
    finals = {
        tuner: trace[-1][1] if trace else math.inf for tuner, trace in traces.items()
    }
    target = finals["Hyperband"] if target is None else target
    budget = arms["Hyperband"].epochs if "Hyperband" in arms else None
    return [
        {
            "bench": bench,
            "task": task,
            "seed": seed,
            "tuner": tuner,
            "direction": objective.direction,
            "max_epochs": max_epochs,
            "budget": budget if budget is not None else arm.epochs,
            "epochs_used": arm.epochs,
            "trials": arm.trials,
            "optimum": optimum,
            "regret": finals[tuner],
            "hyperband_regret": target,
            "budget_to_match": budget_to_match(traces[tuner], target, budget),
            "seconds": round(arm.seconds, 3),
        }
        for tuner, arm in arms.items()
    ]


def merge_cached(
    rows: list[dict[str, Any]], path: pathlib.Path, lcbench: str
) -> list[dict[str, Any]]:
    """``rows`` with the peer arms found in the cache for their pairs added.

    For an arm that ran in a separate process (``--peer-cache``, ``--cap``):
    its pairs are scored against the Hyperband rows already in ``rows``,
    without training anything again.
    """
    cached = read_peer_cache(path, peer_version())
    digests: dict[str, str] = {}
    added = []
    for hb in [r for r in rows if r["tuner"] == "Hyperband"]:
        bench, task, seed = hb["bench"], hb["task"], hb["seed"]
        present = {
            r["tuner"]
            for r in rows
            if (r["bench"], r["task"], r["seed"]) == (bench, task, seed)
        }
        if task not in digests:
            digests[task] = task_digest(task, lcbench)
        arms = {
            tuner: cached[key]
            for tuner in PEER_TUNERS
            if tuner not in present
            and (
                key := _cache_key(bench, task, digests[task], seed, tuner, hb["budget"])
            )
            in cached
        }
        if arms:
            objective, _ = _objective(task, seed, lcbench)
            arms["Hyperband"] = Arm(hb["budget"], 0, [])  # the budget, no row
            new = pair_rows(
                bench,
                task,
                seed,
                objective,
                float(hb["optimum"]),
                arms,
                target=hb["regret"],
            )
            added += [r for r in new if r["tuner"] != "Hyperband"]
    return rows + added


# --- the summary -----------------------------------------------------------------


def _wilcoxon(differences: list[float]) -> str:
    nonzero = [d for d in differences if d != 0 and math.isfinite(d)]
    if len(nonzero) < 6:
        return "n/a"
    return f"{stats.wilcoxon(nonzero).pvalue:.2g}"


DECIDES = {"synthetic": "normalized", "lcbench": "raw"}  # the rule
VIEWS = {
    "raw": ("regret", "hyperband_regret"),
    "normalized": ("norm", "hyperband_norm"),
}


def normalize(rows: list[dict[str, Any]]) -> None:
    """Adds each row's regrets divided by its task's random-search median regret.

    Tasks of one bench can have regrets of different scales (accuracy against
    loss); divided by what random search reaches on the same task, they pool
    fairly. A task whose random-search median regret is 0 keeps its raw values.
    """
    for task in {r["task"] for r in rows}:
        random = [
            r["regret"]
            for r in rows
            if r["task"] == task and r["tuner"] == "RandomSearch"
        ]
        scale = statistics.median(random) if random else 0.0
        scale = scale if scale > 0 and math.isfinite(scale) else 1.0
        for row in (r for r in rows if r["task"] == task):
            row["norm"] = row["regret"] / scale
            row["hyperband_norm"] = row["hyperband_regret"] / scale


def summarise(
    rows: list[dict[str, Any]], tuner: str, view: str = "raw"
) -> dict[str, Any]:
    """The verdict line of ``tuner`` over ``rows`` (one bench) in one view."""
    mine = [r for r in rows if r["tuner"] == tuner]
    own, hyperband = VIEWS[view]
    hb = statistics.median(r[hyperband] for r in mine)
    median = statistics.median(r[own] for r in mine)
    differences = [r[hyperband] - r[own] for r in mine]
    return {
        "median_regret": median,
        "ratio": median / hb if hb > 0 else math.inf,
        "budget_to_match": statistics.median(r["budget_to_match"] for r in mine),
        "better": sum(d > 0 for d in differences),
        "pairs": len(mine),
        "wilcoxon": "-" if tuner == "Hyperband" else _wilcoxon(differences),
        "over_budget": sum(r["epochs_used"] > r["budget"] for r in mine),
    }


def print_bench(rows: list[dict[str, Any]], bench: str, tuners: list[str]) -> None:
    normalize(rows)
    tasks = sorted({r["task"] for r in rows})
    seeds = len({r["seed"] for r in rows})
    print(f"\n{bench}: {len(tasks)} tasks x {seeds} seeds, pooled over (task, seed)")
    for view in VIEWS:
        decides = " (decides)" if DECIDES.get(bench) == view else " (shown)"
        print(f"{view} regrets{decides}:")
        print(
            f"{'tuner':<20}{'median regret':>14}{'vs Hyperband':>14}"
            f"{'budget-to-match':>17}{'better than HB':>16}{'Wilcoxon p':>12}"
        )
        for tuner in [t for t in tuners if any(r["tuner"] == t for r in rows)]:
            s = summarise(rows, tuner, view)
            share = f"{s['better']}/{s['pairs']} ({s['better'] / s['pairs']:.0%})"
            print(
                f"{tuner:<20}{s['median_regret']:>14.4g}{s['ratio']:>13.2f}x"
                f"{s['budget_to_match']:>17.2f}{share:>16}{s['wilcoxon']:>12}"
            )
    print("per task, median regret / Hyperband's (shown; decides nothing):")
    print(f"{'tuner':<20}" + "".join(f"{task:>10}" for task in tasks))
    for tuner in [t for t in tuners if any(r["tuner"] == t for r in rows)]:
        cells = []
        for task in tasks:
            group = [r for r in rows if r["task"] == task]
            ran = any(r["tuner"] == tuner for r in group)
            ratio = summarise(group, tuner)["ratio"] if ran else None
            cells.append(f"{ratio:>9.2f}x" if ratio is not None else f"{'-':>10}")
        print(f"{tuner:<20}" + "".join(cells))


def read_rows(path: str) -> list[dict[str, Any]]:
    """The rows of an earlier run's CSV, numbers as numbers."""
    with open(path, newline="") as file:
        rows = list(csv.DictReader(file))
    for row in rows:
        for name in ("regret", "hyperband_regret", "budget_to_match"):
            row[name] = float(row[name])
        for name in ("seed", "epochs_used", "budget"):
            row[name] = int(row[name])
    return rows


def write_rows(path: str, rows: list[dict[str, Any]]) -> None:
    """Writes the rows of a run (or a merged report) as CSV."""
    fields = [f for f in rows[0] if f not in ("norm", "hyperband_norm")]
    with open(path, "w", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=fields, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(rows)


def head_to_head(rows: list[dict[str, Any]], tuner: str, peer: str, view: str) -> bool:
    """Whether ``tuner``'s median regret is below ``peer``'s on the peer's pairs."""
    own = VIEWS[view][0]
    pairs = {(r["task"], r["seed"]) for r in rows if r["tuner"] == peer}
    mine = [
        r[own] for r in rows if r["tuner"] == tuner and (r["task"], r["seed"]) in pairs
    ]
    theirs = [r[own] for r in rows if r["tuner"] == peer]
    return bool(mine) and statistics.median(mine) < statistics.median(theirs)


def headline(rows: list[dict[str, Any]], benches: list[str], tuners: list[str]) -> str:
    """The targets of issue #24 per strategy and bench, in the deciding view."""
    parts = []
    for tuner in [t for t in OURS if t in tuners]:
        for bench in benches:
            group = [r for r in rows if r["bench"] == bench]
            if not any(r["tuner"] == tuner for r in group):
                continue
            normalize(group)
            view = DECIDES[bench]
            mine = summarise(group, tuner, view)
            peers = [t for t in tuners if t in (*PEER_TUNERS, *BASELINES)]
            peers = [t for t in peers if any(r["tuner"] == t for r in group)]
            ahead_of = [p for p in peers if not head_to_head(group, tuner, p, view)]
            target = " (target <= 0.50)" if bench == "lcbench" else ""
            parts.append(
                f"{tuner} on {bench} ({view}): {mine['ratio']:.2f}x Hyperband's median "
                f"regret{target}, budget-to-match {mine['budget_to_match']:.2f} "
                f"(target <= 0.30), {mine['over_budget']} pairs over budget, "
                + (
                    f"not below {', '.join(ahead_of)}"
                    if ahead_of
                    else f"below all {len(peers)} peers"
                )
            )
    return "Headline: " + ("; ".join(parts) or "no kt_ext arm ran") + "."


# --- main ------------------------------------------------------------------------


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bench", choices=["all", *BENCHES], default="all")
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument(
        "--first-seed",
        type=int,
        default=0,
        help="run seeds first-seed..seeds-1 only (to fill the peers' cache in parts)",
    )
    parser.add_argument(
        "--tuners", default="all", help="comma-separated; Hyperband always runs"
    )
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--lcbench", default=str(DEFAULT_LCBENCH))
    parser.add_argument("--csv", default=str(CSV_PATH))
    parser.add_argument(
        "--cap",
        action="append",
        default=[],
        metavar="TUNER:BENCH=SEEDS",
        help="run TUNER on the first SEEDS seeds of BENCH only (e.g. MOBSTER, slow)",
    )
    parser.add_argument(
        "--peer-cache",
        default=str(PEER_CACHE),
        help="the peers' cache to read and append to (one per concurrent run)",
    )
    parser.add_argument(
        "--no-peer-cache",
        action="store_true",
        help=f"rerun the peers instead of reading {PEER_CACHE.name}",
    )
    parser.add_argument(
        "--report", action="store_true", help="print the tables of --csv; run nothing"
    )
    parser.add_argument(
        "--merge-cached",
        action="append",
        default=[],
        metavar="CACHE",
        help="with --report: add the peer arms this cache holds for the CSV's pairs",
    )
    args = parser.parse_args()
    if args.report:
        rows = read_rows(args.csv)
        for path in args.merge_cached:
            rows = merge_cached(rows, pathlib.Path(path), args.lcbench)
        if args.merge_cached:  # the merged table replaces the CSV
            write_rows(args.csv, rows)
        tuners = list(dict.fromkeys(r["tuner"] for r in rows))
        benches = list(dict.fromkeys(r["bench"] for r in rows))
        for bench in benches:
            print_bench([r for r in rows if r["bench"] == bench], bench, tuners)
        print(headline(rows, benches, tuners))
        return
    if os.access("/dev/shm", os.W_OK):  # Keras Tuner's trial files: half the CPU
        tempfile.tempdir = "/dev/shm"

    every = [*KT_TUNERS, *BASELINES, *PEER_TUNERS]
    tuners = every if args.tuners == "all" else args.tuners.split(",")
    unknown = sorted(set(tuners) - set(every))
    if unknown:
        parser.error(f"--tuners: unknown {unknown}; choose from {every}")
    tuners = [*ALWAYS, *[t for t in every if t in tuners and t not in ALWAYS]]
    python = ""
    if any(t in PEER_TUNERS for t in tuners):
        try:
            python = str(peer_python())
            runnable, why = peer_check(pathlib.Path(python))
        except (OSError, subprocess.CalledProcessError, RuntimeError) as error:
            runnable, why = [], {"peers": f"no peer venv: {error}"}
        for library, reason in why.items():
            print(f"left out {library}: {reason}")
        tuners = [t for t in tuners if t not in PEER_TUNERS or t in runnable]

    caps: dict[str, dict[str, int]] = {}
    for cap in args.cap:
        tuner, _, rest = cap.partition(":")
        bench, _, count = rest.partition("=")
        if tuner not in every or bench not in BENCHES or not count.isdigit():
            parser.error(f"--cap: expected TUNER:BENCH=SEEDS, got {cap!r}")
        caps.setdefault(tuner, {})[bench] = int(count)
    benches = list(BENCHES) if args.bench == "all" else [args.bench]
    version = peer_version()
    peer_cache = pathlib.Path(args.peer_cache)
    cached = {} if args.no_peer_cache else read_peer_cache(peer_cache, version)
    rows: list[dict[str, Any]] = []
    started = time.perf_counter()
    for bench in benches:  # one bench after the other
        tasks = list(BENCHES[bench])
        optimum = optima(tasks, args.lcbench)
        digest = {task: task_digest(task, args.lcbench) for task in tasks}
        jobs = [
            (
                task,
                digest[task],
                seed,
                tuners,
                args.lcbench,
                optimum[task],
                python,
                cached,
                version,
                caps,
            )
            for seed in range(args.first_seed, args.seeds)
            for task in tasks
        ]
        if args.jobs == 1:
            pairs = []
            for job in jobs:  # cache each pair's peers as soon as they ran
                pairs.append(run_pair(*job))
                append_peer_cache(peer_cache, pairs[-1][1])
        else:
            with ProcessPoolExecutor(args.jobs) as pool:
                pairs = list(pool.map(run_pair, *zip(*jobs, strict=True)))
            for _, fresh in pairs:
                append_peer_cache(peer_cache, fresh)
        rows += [row for pair, _ in pairs for row in pair]
        print_bench([r for r in rows if r["bench"] == bench], bench, tuners)
        print(f"({time.perf_counter() - started:.0f} s so far)", flush=True)
    if _WORKER is not None:
        _WORKER.close()
    write_rows(args.csv, rows)
    print(f"\nCSV: {args.csv}; {time.perf_counter() - started:.0f} s in all")
    print(headline(rows, benches, tuners))


if __name__ == "__main__":
    main()
