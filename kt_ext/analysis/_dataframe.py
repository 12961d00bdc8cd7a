"""One row per trial: `trials_dataframe`."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import keras_tuner
import numpy as np
import pandas as pd
from keras_tuner.engine import hyperparameters as hp_module
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext._names import WALL_TIME_METRIC, is_bookkeeping
from kt_ext.analysis._source import Search, Source, load_search

if TYPE_CHECKING:
    from kt_ext._seam_oracle import MetricHistory

#: `df.attrs["sampling"]` values of numeric entries.
NUMERIC_SAMPLINGS = ("linear", "log", "reverse_log")


def trials_dataframe(source: Source) -> pd.DataFrame:
    """One row per trial of a search, sorted by trial id.

    Columns:

    - `trial_id`, `status`, `score` (KT's trial score: the objective's best
      value; NaN when there is none);
    - `epochs`: epochs trained in the trial: `tuner/epochs -
      tuner/initial_epoch` for a COMPLETED trial that has them (Hyperband-style
      oracles); otherwise the last step reported for the objective + 1 (exact
      for tuners that report every epoch; stock KT tuners report only the best
      epoch, so it is then a lower bound); NaN if nothing was reported;
    - `wall_time`: seconds, the last value of the `kt_ext/wall_time` metric
      where a tuner logged it, else NaN (KT 1.4.8 keeps no timings);
    - `hp_<name>` for every entry of the search space except `tuner/...`
      bookkeeping; NaN where the entry was not active in the trial;
    - `metric_<name>` for every metric logged: its best value in the
      metric's direction (for the objective, the same as `score`), or its last
      value for a metric without a direction.

    `df.attrs` holds `"source"` (the directory, or the oracle's class name),
    `"objective"` (the metric name; None if it cannot be
    told from a directory, e.g. a multi-metric objective), `"direction"`
    ("min"/"max"), `"sampling"` (entry name -> "linear", "log", "reverse_log",
    "choice" or "fixed") and the kt_ext oracles' `"narrowing_history"` and
    `"pruning_log"` (empty lists for other oracles).

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
        >>> df = trials_dataframe("runs/bc")  # doctest: +SKIP
        >>> df.sort_values("score", ascending=False).head()  # doctest: +SKIP
    """
    search = load_search(source)
    sampling = _sampling(search.hyperparameters)
    metrics = _metric_names(search.trials)
    columns = [
        "trial_id",
        "status",
        "score",
        "epochs",
        "wall_time",
        *(f"hp_{name}" for name in sampling),
        *(f"metric_{name}" for name in metrics),
    ]
    rows = [_row(trial, search, sampling, metrics) for trial in search.trials]
    df = pd.DataFrame(rows, columns=columns)
    df.attrs.update(
        source=search.label,
        objective=search.objective,
        direction=search.direction,
        sampling=sampling,
        **search.histories,
    )
    return df


def is_scored(df: pd.DataFrame) -> pd.Series:
    """Which trials are COMPLETED with a finite score (the ones that rank)."""
    return (df["status"] == TrialStatus.COMPLETED) & np.isfinite(df["score"])


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


def _metric_names(trials: list[Trial]) -> list[str]:
    names = dict.fromkeys(name for trial in trials for name in trial.metrics.metrics)
    names.pop(WALL_TIME_METRIC, None)
    return list(names)


def _row(
    trial: Trial, search: Search, sampling: dict[str, str], metrics: list[str]
) -> dict[str, Any]:
    values = trial.hyperparameters.values
    tracked = trial.metrics.metrics
    wall_time = tracked.get(WALL_TIME_METRIC)
    return {
        "trial_id": trial.trial_id,
        "status": trial.status,
        "score": math.nan if trial.score is None else float(trial.score),
        "epochs": _epochs(trial, search),
        "wall_time": math.nan if wall_time is None else _last(wall_time),
        **{f"hp_{name}": values.get(name) for name in sampling},
        **{
            f"metric_{name}": _final(tracked[name]) if name in tracked else math.nan
            for name in metrics
        },
    }


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


def _final(history: MetricHistory) -> float:
    if history.direction in ("min", "max"):
        value = history.get_best_value()
    else:
        value = history.get_last_value()
    return math.nan if value is None else float(value)


def _last(history: MetricHistory) -> float:
    value = history.get_last_value()
    return math.nan if value is None else float(value)
