"""The peer searches of ``search_quality.py``: Optuna, DEHB, SMAC3 and MOBSTER.

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
  version or null, "smac": ..., "syne_tune": ..., "why": {...}}}``.

Budget rules (the issue's): an Optuna trial reports every epoch from 1 and is
charged the epochs it reported, pruned or not; a DEHB or SMAC3 evaluation
retrains from scratch and is charged its rounded fidelity (both restart a
configuration at a higher fidelity: it pays in full again); MOBSTER pauses a
trial at a rung and resumes it from its checkpoint, so a promoted trial pays
only its extra epochs. The run that reaches the budget is cut there (its last
trial or evaluation counts for nothing). Recommendations: Optuna's
``study.best_trial`` (completed trials only), DEHB's and SMAC3's incumbent
(SMAC3: the best at the highest budget observed, its default), MOBSTER's best
last score among the trials trained furthest (those at ``max_epochs`` once one
got there).
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
    "SMAC": ("smac", None, None),
    "MOBSTER": ("mobster", None, None),
}
LIBRARIES = ("optuna", "dehb", "smac", "syne_tune")  # as the ready message names them


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


def run_smac(channel: Channel, job: dict[str, Any]) -> dict[str, Any]:
    """SMAC3's MultiFidelityFacade with its Hyperband intensifier, ask/tell."""
    import logging

    from smac import MultiFidelityFacade, Scenario
    from smac.runhistory import StatusType, TrialValue

    logging.disable(logging.WARNING)  # SMAC logs every incumbent change
    max_epochs, budget = job["max_epochs"], job["budget"]
    sign = -1.0 if job["direction"] == "max" else 1.0  # SMAC minimises cost
    with tempfile.TemporaryDirectory(prefix="kt_ext_smac_") as output:
        scenario = Scenario(
            _configspace(job["space"]),
            deterministic=True,
            n_trials=1_000_000,  # the epoch budget ends the run
            min_budget=1,
            max_budget=max_epochs,
            seed=job["seed"],
            output_directory=output,
        )
        smac = MultiFidelityFacade(
            scenario,
            lambda config, seed=0, budget=1.0: 0.0,  # never called: ask/tell
            intensifier=MultiFidelityFacade.get_intensifier(scenario, eta=3),
            overwrite=True,
            logging_level=False,
        )
        used, trials, trace, incumbent = 0, 0, [], None
        while used < budget:
            info = smac.ask()
            epochs = max(1, round(float(info.budget)))
            trials += 1
            if used + epochs > budget:
                used = budget  # cut: it trains to the budget and counts for nothing
                break
            values = {k: _plain(v) for k, v in dict(info.config).items()}
            score = channel.score(values, epochs)
            used += epochs
            if math.isfinite(score):
                smac.tell(info, TrialValue(cost=sign * score), save=False)
            else:
                smac.tell(
                    info,
                    TrialValue(cost=math.inf, status=StatusType.CRASHED),
                    save=False,
                )
            config = smac.intensifier.get_incumbent()
            if config is not None:
                current = {k: _plain(v) for k, v in dict(config).items()}
                if current != incumbent:
                    incumbent = current
                    trace.append([used, current])
    return {"epochs": used, "trials": trials, "trace": trace}


def _syne_space(space: list[dict[str, Any]], max_epochs: int) -> dict[str, Any]:
    from syne_tune import config_space as sp

    domains: dict[str, Any] = {}
    for entry in space:
        name, kind = entry["name"], entry["type"]
        if kind == "float":
            low, high = entry["low"], entry["high"]
            domains[name] = (sp.loguniform if entry["log"] else sp.uniform)(low, high)
        elif kind == "int" and entry["step"] == 1:
            low, high = entry["low"], entry["high"]
            domains[name] = (sp.lograndint if entry["log"] else sp.randint)(low, high)
        elif kind == "int":
            domains[name] = sp.choice(
                list(range(entry["low"], entry["high"] + 1, entry["step"]))
            )
        else:
            domains[name] = sp.choice(entry["values"])
    domains["epochs"] = max_epochs  # MOBSTER's max_resource_attr
    return domains


def run_mobster(channel: Channel, job: dict[str, Any]) -> dict[str, Any]:
    """syne-tune's MOBSTER, promotion (pause/resume) type, one worker.

    Conditional entries get a value always (syne-tune has no conditions); the
    inactive ones are dropped before scoring and from the recommendation.
    """
    import logging
    from datetime import datetime

    from syne_tune.backend.trial_status import Trial
    from syne_tune.optimizer.baselines import MOBSTER
    from syne_tune.optimizer.scheduler import SchedulerDecision

    logging.disable(logging.WARNING)
    max_epochs, budget = job["max_epochs"], job["budget"]
    scheduler = MOBSTER(
        _syne_space(job["space"], max_epochs),
        metric="score",
        mode="max" if job["direction"] == "max" else "min",
        resource_attr="epoch",
        max_resource_attr="epochs",
        type="promotion",
        grace_period=1,
        reduction_factor=3,
        points_to_evaluate=[],  # no midpoint first: the same start as the others
        random_seed=job["seed"],
    )
    better = max if job["direction"] == "max" else min
    trained: dict[int, tuple[Trial, int, float]] = {}  # id: trial, epochs, last score
    used, next_id, trace, recommended = 0, 0, [], None
    while used < budget:
        suggestion = scheduler.suggest(next_id)
        if suggestion is None:
            break
        if suggestion.spawn_new_trial_id:
            trial = Trial(next_id, suggestion.config, datetime.now())
            scheduler.on_trial_add(trial)
            done, last = 0, math.nan
            next_id += 1
        else:  # resumed from its checkpoint: only the extra epochs are paid
            trial, done, last = trained[suggestion.checkpoint_trial_id]
            if suggestion.config is not None:
                trial.config = suggestion.config
        values = {}
        for entry in job["space"]:
            if _active(entry, values):
                values[entry["name"]] = _plain(trial.config[entry["name"]])
        failed = False
        for epoch in range(done + 1, int(trial.config["epochs"]) + 1):
            if used == budget:
                break  # cut
            score = channel.score(values, epoch)
            used += 1
            if not math.isfinite(score):
                scheduler.on_trial_error(trial)
                failed = True
                break
            done, last = epoch, score
            result = {"score": score, "epoch": epoch}
            if scheduler.on_trial_result(trial, result) != SchedulerDecision.CONTINUE:
                break
        if done == max_epochs and not failed:
            scheduler.on_trial_complete(trial, {"score": last, "epoch": done})
        if not failed and done > 0:
            trained[trial.trial_id] = (trial, done, last)
        scored = [(d, s, t) for t, d, s in trained.values()]
        if not scored or (used == budget and done < int(trial.config["epochs"])):
            continue
        furthest = max(d for d, _, _ in scored)
        best = better(
            ((s, t.trial_id) for d, s, t in scored if d == furthest),
            key=lambda pair: pair[0],
        )
        current = {
            k: _plain(trained[best[1]][0].config[k])
            for k in (e["name"] for e in job["space"])
        }
        kept = {}
        for entry in job["space"]:
            if _active(entry, kept):
                kept[entry["name"]] = current[entry["name"]]
        if kept != recommended:
            recommended = kept
            trace.append([used, kept])
    return {"epochs": used, "trials": next_id, "trace": trace}


def _versions() -> dict[str, Any]:
    ready: dict[str, Any] = {name: None for name in LIBRARIES}
    ready["why"] = {}
    for name in LIBRARIES:
        try:
            module = __import__(name)
            ready[name] = getattr(module, "__version__", "unknown")
        except Exception as error:  # report why, run the rest
            ready["why"][name] = f"{type(error).__name__}: {error}"
    for name in LIBRARIES:
        if ready[name] == "unknown":
            from importlib.metadata import version

            ready[name] = version(name.replace("_", "-"))
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
            elif family == "smac":
                result = run_smac(channel, job)
            elif family == "mobster":
                result = run_mobster(channel, job)
            else:
                result = run_optuna(channel, job, multivariate, pruner)
            channel.send({"done": result})
        except EOFError:
            return
        except Exception:
            channel.send({"error": traceback.format_exc()})


if __name__ == "__main__":
    main()
