"""The peer searches of ``search_quality.py``: Optuna and DEHB, in their own venv.

Started by ``search_quality.py`` as ``benchmarks/.venv-peers/bin/python -I
benchmarks/peers_worker.py``: ``-I`` keeps ``benchmarks/`` off ``sys.path``
(``benchmarks/distributed.py`` would shadow dask's ``distributed``, which
DEHB imports). It imports neither kt_ext nor Keras: the parent process owns
the objective and this worker asks it for scores.

Protocol: one JSON object per line. The parent writes on stdin, the worker on
its original stdout (library output goes to stderr):

- parent: ``{"run": {"arm", "space", "direction", "max_epochs", "budget",
  "seed"}}``; the worker then asks ``{"values": {...}, "epoch": e}`` for each
  epoch it trains, the parent answers ``{"score": s}``; the run ends with
  ``{"done": {"epochs", "trials", "trace"}}`` where ``trace`` lists
  ``[cumulative epochs, recommended values]`` whenever the recommendation
  changed, or with ``{"error": text}``.
- On start the worker says ``{"ready": {"optuna": version or null, "dehb":
  version or null, "why": {...}}}``.

Budget rules (the issue's): an Optuna trial reports every epoch from 1 and is
charged the epochs it reported, pruned or not; a DEHB evaluation retrains from
scratch and is charged its rounded fidelity; the run that reaches the budget is
cut there (its last trial or evaluation counts for nothing). Recommendations:
Optuna's ``study.best_trial`` (completed trials only) and DEHB's incumbent.
"""

from __future__ import annotations

import json
import math
import os
import sys
import tempfile
import traceback
import warnings
from typing import Any

ARMS = {
    "TPE+Median": ("tpe", False, "median"),
    "TPE+Hyperband": ("tpe", False, "hyperband"),
    "MultiTPE+Median": ("tpe", True, "median"),
    "MultiTPE+Hyperband": ("tpe", True, "hyperband"),
    "DEHB": ("dehb", None, None),
}


class Channel:
    """JSON lines to the parent on a private copy of stdout."""

    def __init__(self) -> None:
        self._out = os.fdopen(os.dup(1), "w", buffering=1)
        os.dup2(2, 1)  # whatever a library prints goes to stderr
        sys.stdout = sys.stderr

    def send(self, message: dict[str, Any]) -> None:
        self._out.write(json.dumps(message) + "\n")

    def receive(self) -> dict[str, Any] | None:
        line = sys.stdin.readline()
        return json.loads(line) if line else None

    def score(self, values: dict[str, Any], epoch: int) -> float:
        self.send({"values": values, "epoch": epoch})
        answer = self.receive()
        if answer is None:
            raise EOFError("the parent closed the channel")
        score = answer["score"]
        return math.nan if score is None else float(score)


def _plain(value: Any) -> Any:
    """A NumPy scalar as a JSON-ready Python value."""
    return value.item() if hasattr(value, "item") else value


def _active(entry: dict[str, Any], values: dict[str, Any]) -> bool:
    parent = entry.get("parent")
    return parent is None or values.get(parent["name"]) in parent["values"]


def _suggest(trial: Any, entry: dict[str, Any]) -> Any:
    name, kind = entry["name"], entry["type"]
    if kind == "float":
        return trial.suggest_float(name, entry["low"], entry["high"], log=entry["log"])
    if kind == "int":
        return trial.suggest_int(
            name, entry["low"], entry["high"], step=entry["step"], log=entry["log"]
        )
    return trial.suggest_categorical(name, entry["values"])


def run_optuna(channel: Channel, job: dict[str, Any], multivariate: bool, pruner: str):
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    warnings.simplefilter("ignore")  # multivariate TPE is "experimental"
    max_epochs, budget = job["max_epochs"], job["budget"]
    if pruner == "median":
        chosen = optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=1)
    else:
        chosen = optuna.pruners.HyperbandPruner(
            min_resource=1, max_resource=max_epochs, reduction_factor=3
        )
    study = optuna.create_study(
        direction="maximize" if job["direction"] == "max" else "minimize",
        sampler=optuna.samplers.TPESampler(seed=job["seed"], multivariate=multivariate),
        pruner=chosen,
    )
    used, trials, trace, best_number = 0, 0, [], None
    while used < budget:
        trial = study.ask()
        trials += 1
        values: dict[str, Any] = {}
        for entry in job["space"]:
            if _active(entry, values):
                values[entry["name"]] = _plain(_suggest(trial, entry))
        state = "complete"
        for epoch in range(1, max_epochs + 1):
            if used == budget:
                state = "cut"
                break
            score = channel.score(values, epoch)
            used += 1
            if not math.isfinite(score):
                state = "fail"
                break
            trial.report(score, epoch)
            if epoch < max_epochs and trial.should_prune():
                state = "pruned"
                break
        if state == "cut":
            break
        if state == "complete":
            study.tell(trial, score)
        elif state == "pruned":
            study.tell(trial, state=optuna.trial.TrialState.PRUNED)
        else:
            study.tell(trial, state=optuna.trial.TrialState.FAIL)
        try:
            best = study.best_trial
        except ValueError:  # no completed trial yet
            continue
        if best.number != best_number:
            best_number = best.number
            trace.append([used, {k: _plain(v) for k, v in best.params.items()}])
    return {"epochs": used, "trials": trials, "trace": trace}


def _configspace(space: list[dict[str, Any]]) -> Any:
    import ConfigSpace as CS

    hyperparameters, conditions = {}, []
    for entry in space:
        name, kind = entry["name"], entry["type"]
        if kind == "float":
            hyperparameter = CS.Float(
                name, (entry["low"], entry["high"]), log=entry["log"]
            )
        elif kind == "int" and entry["step"] == 1:
            hyperparameter = CS.Integer(
                name, (entry["low"], entry["high"]), log=entry["log"]
            )
        elif kind == "int":
            steps = list(range(entry["low"], entry["high"] + 1, entry["step"]))
            hyperparameter = CS.OrdinalHyperparameter(name, steps)
        else:
            hyperparameter = CS.Categorical(name, entry["values"])
        hyperparameters[name] = hyperparameter
        if entry.get("parent"):
            parent = entry["parent"]
            conditions.append(
                (hyperparameter, hyperparameters[parent["name"]], parent["values"])
            )
    space_cs = CS.ConfigurationSpace()
    space_cs.add(list(hyperparameters.values()))
    space_cs.add(
        [CS.InCondition(child, parent, values) for child, parent, values in conditions]
    )
    return space_cs


def run_dehb(channel: Channel, job: dict[str, Any]) -> dict[str, Any]:
    from dehb import DEHB

    max_epochs, budget = job["max_epochs"], job["budget"]
    sign = -1.0 if job["direction"] == "max" else 1.0  # DEHB minimises fitness
    with tempfile.TemporaryDirectory(prefix="kt_ext_dehb_") as output:
        dehb = DEHB(
            cs=_configspace(job["space"]),
            min_fidelity=1,
            max_fidelity=max_epochs,
            eta=3,
            n_workers=1,
            seed=job["seed"],
            output_path=output,
            save_freq="end",  # no files per step; run() is never called
        )
        used, trials, trace, incumbent = 0, 0, [], None
        while used < budget:
            job_info = dehb.ask()
            epochs = max(1, round(float(job_info["fidelity"])))
            trials += 1
            if used + epochs > budget:
                used = budget  # cut: it trains to the budget and counts for nothing
                break
            values = {k: _plain(v) for k, v in dict(job_info["config"]).items()}
            score = channel.score(values, epochs)
            used += epochs
            fitness = sign * score if math.isfinite(score) else math.inf
            dehb.tell(job_info, {"fitness": fitness, "cost": float(epochs)})
            config, _ = dehb.get_incumbents()
            if config is not None:
                current = {k: _plain(v) for k, v in dict(config).items()}
                if current != incumbent:
                    incumbent = current
                    trace.append([used, current])
    return {"epochs": used, "trials": trials, "trace": trace}


def _versions() -> dict[str, Any]:
    ready: dict[str, Any] = {"optuna": None, "dehb": None, "why": {}}
    for name in ("optuna", "dehb"):
        try:
            module = __import__(name)
            ready[name] = getattr(module, "__version__", "unknown")
        except Exception as error:  # report why, run the rest
            ready["why"][name] = f"{type(error).__name__}: {error}"
    if ready["dehb"] == "unknown":
        from importlib.metadata import version

        ready["dehb"] = version("dehb")
    return ready


def main() -> None:
    channel = Channel()
    channel.send({"ready": _versions()})
    while (message := channel.receive()) is not None:
        job = message["run"]
        try:
            family, multivariate, pruner = ARMS[job["arm"]]
            if family == "dehb":
                result = run_dehb(channel, job)
            else:
                result = run_optuna(channel, job, multivariate, pruner)
            channel.send({"done": result})
        except EOFError:
            return
        except Exception:
            channel.send({"error": traceback.format_exc()})


if __name__ == "__main__":
    main()
