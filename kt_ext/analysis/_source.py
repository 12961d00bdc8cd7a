"""Read a search -- a live tuner or oracle, or a tuner directory -- into one record.

Both paths end in Keras Tuner's own objects: a live oracle's trials and space,
or `Trial.load` / `HyperParameters.from_config` on the JSON files of a tuner
directory. No model is loaded and nothing is re-run.
"""

from __future__ import annotations

import copy
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeAlias

import keras_tuner
from keras_tuner.engine.base_tuner import BaseTuner
from keras_tuner.engine.trial import Trial

from kt_ext.oracles._journal import GENERATION_KEY, read_state

#: Keys under which kt_ext oracles keep their histories, as attributes and in
#: `get_state` (hence in oracle.json and its journal, oracle_journal.jsonl).
HISTORY_KEYS = ("narrowing_history", "pruning_log")

#: What the analysis functions accept as a search.
Source: TypeAlias = keras_tuner.Oracle | BaseTuner | str | os.PathLike


@dataclass(frozen=True)
class Search:
    """What the analysis reads from a search.

    Attributes:
        label: The directory, or the live oracle's class name.
        objective: The objective's metric name; None when it cannot be told
            from the files (an objective that combines metrics).
        direction: "min" or "max".
        hyperparameters: The search space.
        trials: The trials, sorted by trial id.
        histories: `narrowing_history` and `pruning_log` (empty lists for
            oracles without them).
        epochs_trained: Trial id to epochs actually trained, as kt_ext oracles
            record it (`epochs_trained` in their state; empty for others).
        stopped_at: Trial id to the epoch (0-based) at which rank pruning
            stopped it (`rank_pruning.stopped_at` in the state; empty for
            other oracles).
    """

    label: str
    objective: str | None
    direction: str
    hyperparameters: keras_tuner.HyperParameters
    trials: list[Trial]
    histories: dict[str, list[dict[str, Any]]]
    epochs_trained: dict[str, int]
    stopped_at: dict[str, int]


def load_search(source: Source) -> Search:
    """Read a live tuner, a live oracle or a tuner directory.

    Args:
        source: A `keras_tuner` tuner (its `.oracle` is read), an oracle, or
            the path of a tuner directory (`directory/project_name`, holding
            oracle.json and `trial_*/trial.json`).

    Returns:
        The search.

    Raises:
        TypeError: If `source` is none of these.
        FileNotFoundError: If the directory or its oracle.json is missing.
        ValueError: If oracle.json is not an oracle's state.
    """
    if isinstance(source, BaseTuner):
        source = source.oracle
    if isinstance(source, keras_tuner.Oracle):
        return _from_oracle(source)
    if isinstance(source, str | os.PathLike):
        return _from_directory(Path(source))
    raise TypeError(
        "`source` must be a Keras Tuner tuner or oracle, or the path of a tuner "
        f"directory, got {source!r}."
    )


def _from_oracle(oracle: keras_tuner.Oracle) -> Search:
    state = oracle.get_state()
    return Search(
        label=type(oracle).__name__,
        objective=oracle.objective.name,
        direction=oracle.objective.direction,
        hyperparameters=oracle.get_space(),
        trials=_sorted(oracle.trials.values()),
        histories={
            key: _history(getattr(oracle, key, state.get(key))) for key in HISTORY_KEYS
        },
        epochs_trained=dict(state.get("epochs_trained", {})),
        stopped_at=_stopped_at(state),
    )


def _from_directory(path: Path) -> Search:
    if not path.is_dir():
        raise FileNotFoundError(f"Tuner directory {str(path)!r} does not exist.")
    oracle_file = path / "oracle.json"
    if not oracle_file.is_file():
        raise FileNotFoundError(_no_oracle_message(path))
    try:
        state = json.loads(oracle_file.read_text(encoding="utf-8"))
    except json.JSONDecodeError as error:
        raise ValueError(f"{str(oracle_file)!r} is not valid JSON: {error}.") from error
    if isinstance(state, dict) and GENERATION_KEY in state:
        # A kt_ext oracle: oracle.json is a snapshot, later saves are journaled.
        state = read_state(os.fspath(oracle_file))
    if not isinstance(state, dict) or "hyperparameters" not in state:
        raise ValueError(
            f"{str(oracle_file)!r} must be a Keras Tuner oracle state with a "
            "'hyperparameters' key."
        )
    trials = _sorted(
        Trial.load(os.fspath(name)) for name in path.glob("trial_*/trial.json")
    )
    objective, direction = _objective(state.get("objective"), trials)
    return Search(
        label=str(path),
        objective=objective,
        direction=direction,
        hyperparameters=keras_tuner.HyperParameters.from_config(
            state["hyperparameters"]
        ),
        trials=trials,
        histories={key: _history(state.get(key)) for key in HISTORY_KEYS},
        epochs_trained=dict(state.get("epochs_trained", {})),
        stopped_at=_stopped_at(state),
    )


def _stopped_at(state: dict[str, Any]) -> dict[str, int]:
    pruning = state.get("rank_pruning")
    if not isinstance(pruning, dict):
        return {}
    return dict(pruning.get("stopped_at") or {})


def _no_oracle_message(path: Path) -> str:
    message = (
        f"{str(path)!r} is not a Keras Tuner project folder: it has no "
        "oracle.json. Pass `directory/project_name`, the folder that holds "
        "oracle.json and the trial_* folders."
    )
    projects = sorted(str(name.parent) for name in path.glob("*/oracle.json"))
    if projects:
        message += f" Project folders inside it: {', '.join(projects)}."
    return message


def _objective(
    declared: dict[str, str] | None, trials: list[Trial]
) -> tuple[str | None, str]:
    """The objective of a search on disk.

    KT 1.4.8 does not write the objective to oracle.json; an oracle that does
    (as `{"name", "direction"}`) is believed. Otherwise it is the metric whose
    best value is the score of every scored trial (the first such metric, in
    the order the trials logged them). If none is (an objective that combines
    metrics), the name is None and the direction "min", as KT minimizes such
    objectives.
    """
    if declared is not None:
        return declared["name"], declared["direction"]
    candidates: list[str] | None = None
    for trial in trials:
        if trial.score is None or not math.isfinite(trial.score):
            continue
        matching = [
            name
            for name, history in trial.metrics.metrics.items()
            if history.direction in ("min", "max")
            and history.get_best_value() == trial.score
        ]
        candidates = (
            matching
            if candidates is None
            else [name for name in candidates if name in matching]
        )
    if not candidates:
        return None, "min"
    name = candidates[0]
    direction = next(
        trial.metrics.metrics[name].direction
        for trial in trials
        if name in trial.metrics.metrics
    )
    return name, direction


def _sorted(trials: Iterable[Trial]) -> list[Trial]:
    return sorted(trials, key=lambda trial: (len(trial.trial_id), trial.trial_id))


def _history(records: list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    return copy.deepcopy(list(records or []))
