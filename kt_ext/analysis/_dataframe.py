"""One row per trial: `trials_dataframe`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import keras_tuner
import numpy as np
import pandas as pd
from keras_tuner.engine import hyperparameters as hp_module
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext._internal.names import WALL_TIME_METRIC, fold_metric_base, is_bookkeeping
from kt_ext.analysis._source import Search, Source, load_search

if TYPE_CHECKING:
    from kt_ext._internal.seam_oracle import MetricHistory

#: `df.attrs["sampling"]` values of numeric entries.
NUMERIC_SAMPLINGS = ("linear", "log", "reverse_log")

#: The columns every frame starts with, and their types.
_BASE_TYPES: dict[str, Any] = {
    "trial_id": object,
    "status": object,
    "score": float,
    "epochs": float,
    "epochs_total": float,
    "epochs_reached": float,
    "stopped_early": bool,
    "wall_time": float,
}
BASE_COLUMNS = tuple(_BASE_TYPES)

#: How the tuners' message for a trial stopped by pruning begins.
STOPPED_EARLY_MESSAGE = "stopped early"


def trials_dataframe(source: Source) -> pd.DataFrame:
    """One row per trial of a search, sorted by trial id.

    Columns:

    - `trial_id`, `status`, `score` (KT's trial score: the objective's best
      value; NaN when there is none);
    - `epochs`: epochs the trial trained itself (its cost): for kt_ext
      oracles what they charged (a trial stopped early, only what it
      trained); else `tuner/epochs - tuner/initial_epoch` for a COMPLETED
      trial that has them (Hyperband-style oracles); else the last step
      reported for the objective + 1 (exact for tuners that report every
      epoch; stock KT tuners report only the best epoch, so it is then a
      lower bound); NaN if nothing was reported;
    - `epochs_total`: the epochs the scored model was trained in all, which
      is what a retrain of the configuration must use: the `epochs_total` of
      the trial it continues (`tuner/trial_id`, whose best weights it
      started from) plus its own epochs up to its best epoch. Keras Tuner's
      `best_step` counts from `tuner/initial_epoch` when the tuner reports
      every epoch (as `RankPruning` does), and from 0 when it reports once at
      the end (`CoarseToFine`, Hyperband); both are read right. NaN for a
      trial without a score;
    - `epochs_reached`: the epoch count the trial's training reached,
      `tuner/initial_epoch + epochs` (Hyperband's `tuner/epochs`, or where a
      trial was stopped early): trials with the same value were scored at
      equal epochs, which is how `rank_correlations` and the plots compare
      them;
    - `stopped_early`: whether pruning stopped the trial before its planned
      epochs (`trial.message` "stopped early ...", or the rank-pruning
      oracle's `stopped_at` in older searches);
    - `wall_time`: seconds, the last value of the `kt_ext/wall_time` metric
      where a tuner logged it, else NaN (KT 1.4.8 itself keeps no timings);
    - `hp_<name>` for every entry of the search space except `tuner/...`
      bookkeeping; NaN where the entry was not active in the trial;
    - `metric_<name>` for every metric logged: its best value in the
      metric's direction (for the objective, the same as `score`), or its last
      value for a metric without a direction. A cross-validated search
      (`search(cv=...)`) logs `<m>` as the mean over folds, and adds
      `metric_<m>_std` (standard deviation over folds) and `metric_<m>_fold<i>`
      (fold i), read at the epoch where the mean `<m>` was best.

    A search without trials gives an empty frame with these columns and
    their types; `best_trials` of a search without a completed trial is
    empty.

    `df.attrs` holds `"source"` (the directory, or the oracle's class name),
    `"objective"` (the metric name; None if it cannot be
    told from a directory, e.g. a multi-metric objective), `"direction"`
    ("min"/"max"), `"sampling"` (entry name -> "linear", "log", "reverse_log",
    "choice" or "fixed"), `"choices"` (entry name -> its values in declared
    order, for choice and fixed entries) and the kt_ext oracles'
    `"narrowing_history"` and `"pruning_log"` (empty lists for other
    oracles).

    Args:
        source: A `keras_tuner` tuner or oracle, or a tuner directory
            (`directory/project_name`, holding oracle.json); a directory is
            read from its JSON files, without loading models.

    Returns:
        The trials.

    Raises:
        TypeError: If `source` is not a tuner, an oracle or a path.
        FileNotFoundError: If the directory or its oracle.json is missing.
        ValueError: If oracle.json is not an oracle's state.

    Example:
        >>> from kt_ext.analysis import trials_dataframe
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
        >>> _ = run_oracle(oracle, objective, epochs=2)  # a synthetic search
        >>> df = trials_dataframe(oracle)  # or a tuner, or its folder
        >>> df.sort_values("score", ascending=False)["trial_id"].tolist()
        ['1', '2', '0']
    """
    search = load_search(source)
    sampling = _sampling(search.hyperparameters)
    metrics = _metric_names(search.trials)
    columns = [
        *BASE_COLUMNS,
        *(f"hp_{name}" for name in sampling),
        *(f"metric_{name}" for name in metrics),
    ]
    totals = _EpochsTotal(search)
    rows = [_row(trial, search, sampling, metrics, totals) for trial in search.trials]
    df = pd.DataFrame(rows, columns=columns).astype(
        {**_BASE_TYPES, **{f"metric_{name}": float for name in metrics}}
    )
    df.attrs.update(
        source=search.label,
        objective=search.objective,
        direction=search.direction,
        sampling=sampling,
        choices=_choices(search.hyperparameters),
        **search.histories,
    )
    return df


def is_scored(df: pd.DataFrame) -> pd.Series:
    """Which trials are COMPLETED with a finite score (the ones that rank)."""
    score = pd.to_numeric(df["score"], errors="coerce").astype(float)
    return (df["status"] == TrialStatus.COMPLETED) & np.isfinite(score)


def scored_trials(df: pd.DataFrame) -> pd.DataFrame:
    """The COMPLETED trials with a finite score."""
    return df[is_scored(df)]


def best_trials(df: pd.DataFrame, count: int | None = None) -> pd.DataFrame:
    """Scored trials, best first (ties in trial order), at most `count`."""
    ranked = scored_trials(df).sort_values(
        "score", ascending=df.attrs["direction"] == "min", kind="stable"
    )
    return ranked if count is None else ranked.head(count)


def _sampling(hyperparameters: keras_tuner.HyperParameters) -> dict[str, str]:
    sampling = {}
    for entry in hyperparameters.space:
        if is_bookkeeping(entry.name):
            continue
        if isinstance(entry, hp_module.Float | hp_module.Int):
            sampling[entry.name] = entry.sampling
        elif isinstance(entry, hp_module.Fixed):
            sampling[entry.name] = "fixed"
        else:
            sampling[entry.name] = "choice"
    return sampling


def _choices(hyperparameters: keras_tuner.HyperParameters) -> dict[str, list[Any]]:
    choices = {}
    for entry in hyperparameters.space:
        if is_bookkeeping(entry.name):
            continue
        if isinstance(entry, hp_module.Choice):
            choices[entry.name] = list(entry.values)
        elif isinstance(entry, hp_module.Boolean):
            choices[entry.name] = [False, True]
        elif isinstance(entry, hp_module.Fixed):
            choices[entry.name] = [entry.value]
    return choices


def _metric_names(trials: list[Trial]) -> list[str]:
    names = dict.fromkeys(name for trial in trials for name in trial.metrics.metrics)
    names.pop(WALL_TIME_METRIC, None)
    return list(names)


def _row(
    trial: Trial,
    search: Search,
    sampling: dict[str, str],
    metrics: list[str],
    totals: _EpochsTotal,
) -> dict[str, Any]:
    values = trial.hyperparameters.values
    tracked = trial.metrics.metrics
    wall_time = tracked.get(WALL_TIME_METRIC)
    epochs = _epochs(trial, search)
    return {
        "trial_id": trial.trial_id,
        "status": trial.status,
        "score": math.nan if trial.score is None else float(trial.score),
        "epochs": epochs,
        "epochs_total": totals(trial.trial_id),
        "epochs_reached": values.get("tuner/initial_epoch", 0) + epochs,
        "stopped_early": is_stopped_early(trial, search.stopped_at),
        "wall_time": math.nan if wall_time is None else _last(wall_time),
        **{f"hp_{name}": values.get(name) for name in sampling},
        **{f"metric_{name}": _metric(tracked, name) for name in metrics},
    }


def _metric(tracked: dict[str, MetricHistory], name: str) -> float:
    """A metric's column value; a fold's or the folds' spread at the best epoch.

    With ``cv``, ``<m>_std`` and ``<m>_fold<i>`` are read at the epoch where
    the mean ``<m>`` was best (for the objective, the scored epoch), so a row
    shows the folds of its score.
    """
    history = tracked.get(name)
    if history is None:
        return math.nan
    base_name = fold_metric_base(name)
    base = tracked.get(base_name) if base_name else None
    step = _best_step(base) if base is not None else None
    if step is None:
        return _final(history)
    values = [obs.value for obs in history.get_history() if obs.step == step]
    return float(np.mean(values[-1])) if values else _final(history)


def _best_step(history: MetricHistory) -> int | None:
    observations = [
        obs for obs in history.get_history() if math.isfinite(np.mean(obs.value))
    ]
    if not observations or history.direction not in ("min", "max"):
        return None
    sign = 1.0 if history.direction == "min" else -1.0
    best = min(observations, key=lambda obs: sign * float(np.mean(obs.value)))
    return best.step


def _epochs(trial: Trial, search: Search) -> float:
    values = trial.hyperparameters.values
    if trial.trial_id in search.epochs_trained:
        # kt_ext oracles know what a trial stopped early really trained.
        return search.epochs_trained[trial.trial_id]
    if trial.status == TrialStatus.COMPLETED and "tuner/epochs" in values:
        return values["tuner/epochs"] - values.get("tuner/initial_epoch", 0)
    history = trial.metrics.metrics.get(search.objective)
    if history is None or not history.get_history():
        return math.nan
    return history.get_history()[-1].step + 1 - values.get("tuner/initial_epoch", 0)


def is_stopped_early(trial: Trial, stopped_at: dict[str, int]) -> bool:
    """Whether pruning stopped ``trial`` before its planned epochs.

    kt_ext's tuners end such a trial COMPLETED with the message "stopped early
    at epoch {e}"; searches saved before they did are told by the
    rank-pruning oracle's ``stopped_at`` record.
    """
    message = trial.message or ""
    if message.startswith(STOPPED_EARLY_MESSAGE):
        return True
    return trial.trial_id in stopped_at and trial.status == TrialStatus.COMPLETED


class _EpochsTotal:
    """`epochs_total` of each trial, following `tuner/trial_id` to its roots."""

    def __init__(self, search: Search) -> None:
        self._trials = {trial.trial_id: trial for trial in search.trials}
        self._objective = search.objective
        self._search = search
        self._known: dict[str, float] = {}

    def __call__(self, trial_id: str) -> float:
        if trial_id not in self._known:
            self._known[trial_id] = math.nan  # a cycle ends in NaN
            self._known[trial_id] = self._compute(self._trials[trial_id])
        return self._known[trial_id]

    def _compute(self, trial: Trial) -> float:
        if trial.status != TrialStatus.COMPLETED or trial.score is None:
            return math.nan
        if trial.best_step is None or not math.isfinite(trial.score):
            return math.nan
        values = trial.hyperparameters.values
        start = int(values.get("tuner/initial_epoch", 0))
        own = int(trial.best_step) + 1
        if self._steps_are_absolute(trial, start):
            own -= start
        parent = values.get("tuner/trial_id")
        if parent is None:
            return float(own)
        inherited = self(parent) if parent in self._trials else math.nan
        # A parent that is missing or was not scored: assume it trained
        # `tuner/initial_epoch` epochs, as Hyperband plans.
        return float(own + (start if math.isnan(inherited) else inherited))

    def _steps_are_absolute(self, trial: Trial, start: int) -> bool:
        """Whether the trial's steps count from ``tuner/initial_epoch``.

        A tuner that reports every epoch (through ``update_trial``) records
        Keras' epoch index, which counts on from ``initial_epoch``; Keras
        Tuner's single report at the end of ``fit`` records the best epoch's
        position in the History, from 0. Several steps, or a best step past
        the epochs the trial trained itself, mean the former.
        """
        if start == 0:
            return False
        tracked = trial.metrics.metrics
        histories = (
            [tracked[self._objective]]
            if self._objective in tracked
            else [h for name, h in tracked.items() if name != WALL_TIME_METRIC]
        )
        if any(len(history.get_history()) > 1 for history in histories):
            return True
        return trial.best_step >= _epochs(trial, self._search)


def _final(history: MetricHistory) -> float:
    if history.direction in ("min", "max"):
        value = history.get_best_value()
    else:
        value = history.get_last_value()
    return math.nan if value is None else float(value)


def _last(history: MetricHistory) -> float:
    value = history.get_last_value()
    return math.nan if value is None else float(value)
