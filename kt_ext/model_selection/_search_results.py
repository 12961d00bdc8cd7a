"""``SearchCV.cv_results_``: one row per configuration, as ``GridSearchCV`` has it.

A configuration is a set of hyperparameter values (``tuner/...`` entries
aside), so a trial that continues another trial's weights
(``tuner/trial_id``) joins its row. Its row shows the trial that trained it
furthest: the scored trial with the most ``tuner/epochs`` (a configuration
with no scored trial keeps a row with NaN scores, ranked last, as
``GridSearchCV`` ranks failed fits). Scores are "greater is better": for an
objective that is minimised they are negated, as scikit-learn's ``neg_*``
scorers are.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from keras_tuner.engine.trial import Trial, TrialStatus
from scipy.stats import rankdata

from kt_ext._internal.names import is_bookkeeping
from kt_ext._internal.scores import is_finite_score
from kt_ext.model_selection._refit import configuration_epochs
from kt_ext.oracles._space import values_key


@dataclasses.dataclass(frozen=True)
class SearchResults:
    """A finished search, read for scikit-learn.

    Attributes:
        cv_results: The ``cv_results_`` columns.
        best_index: The row that ranks first (the earlier of equal rows).
        best_trial: The trial of that row, the one refit repeats.
    """

    cv_results: dict[str, Any]
    best_index: int
    best_trial: Trial


def search_results(
    trials: Mapping[str, Trial],
    *,
    objective: str,
    direction: str,
    absolute_steps: bool,
    max_epochs: int,
    fold_times: Mapping[str, Sequence[tuple[float, float]]] | None = None,
) -> SearchResults:
    """The columns of ``cv_results_`` from a search's trials (by id).

    Columns: ``params``, ``mean_test_score``, ``std_test_score``,
    ``split{i}_test_score`` (one per fold, where the trials report them),
    ``rank_test_score``, ``n_resources`` (the epochs that trained the model
    the row's score is from: those of the trials it continued, plus its own
    up to its best epoch; for a row without a score, the epochs planned),
    ``iter`` (the round, ``tuner/round``; 0 for oracles without rounds),
    ``trial_id``, and one ``param_<name>`` masked array per hyperparameter
    (masked where the entry was not active).

    Args:
        trials: Every trial of the search (``oracle.trials``).
        objective: The objective's metric name, e.g. ``"val_accuracy"``.
        direction: ``"max"`` or ``"min"``; ``"min"`` scores are negated.
        absolute_steps: Whether the tuner reports every epoch (see
            :func:`kt_ext.model_selection._refit.configuration_epochs`).
        max_epochs: Epochs of a trial without ``tuner/epochs``.
        fold_times: Each trial's ``(fit_seconds, score_seconds)`` per fold;
            ``mean/std_fit_time`` and ``mean/std_score_time`` are then, per
            row, the seconds its trial and the trials it continued spent, per
            fold, as mean and standard deviation over folds (NaN without).

    Raises:
        RuntimeError: No configuration has a finite score.
    """
    rows = _furthest_trials(trials)
    sign = -1.0 if direction == "min" else 1.0
    mean = np.array([_score(trial) * sign for trial in rows])
    folds = _fold_count(rows, objective)
    results: dict[str, Any] = {
        "params": [_params(trial) for trial in rows],
        "mean_test_score": mean,
        "std_test_score": np.array(
            [_at_best_step(trial, f"{objective}_std") for trial in rows]
        ),
    }
    for fold in range(folds):
        results[f"split{fold}_test_score"] = sign * np.array(
            [_at_best_step(trial, f"{objective}_fold{fold}") for trial in rows]
        )
    results["rank_test_score"] = _ranks(mean)
    for index, kind in enumerate(("fit", "score")):
        per_fold = [
            _chain_times(trials, trial, fold_times or {}, index) for trial in rows
        ]
        results[f"mean_{kind}_time"] = np.array(
            [np.mean(t) if len(t) else math.nan for t in per_fold]
        )
        results[f"std_{kind}_time"] = np.array(
            [np.std(t) if len(t) else math.nan for t in per_fold]
        )
    results["n_resources"] = np.array(
        [_epochs(trials, trial, absolute_steps, max_epochs) for trial in rows],
        dtype=int,
    )
    results["iter"] = np.array(
        [int(trial.hyperparameters.values.get("tuner/round", 0)) for trial in rows],
        dtype=int,
    )
    results["trial_id"] = np.array([trial.trial_id for trial in rows], dtype=object)
    results.update(param_columns(results["params"]))
    if not np.isfinite(mean).any():
        raise RuntimeError(
            "No configuration completed with a finite score, so there is none "
            f"to refit ({len(trials)} trials)."
        )
    best = int(np.flatnonzero(results["rank_test_score"] == 1)[0])
    return SearchResults(results, best, rows[best])


def param_columns(params: Sequence[Mapping[str, Any]]) -> dict[str, np.ma.MaskedArray]:
    """One masked ``param_<name>`` column per name, masked where it is absent.

    Numbers and booleans keep a NumPy dtype; strings and mixed values are
    objects, as in ``GridSearchCV``.

    Example:
        >>> columns = param_columns([{"units": 8, "dropout": 0.1}, {"units": 16}])
        >>> columns["param_units"].tolist(), columns["param_dropout"].tolist()
        ([8, 16], [0.1, None])
    """
    names = list(dict.fromkeys(name for row in params for name in row))
    columns = {}
    for name in names:
        present = [row[name] for row in params if name in row]
        dtype = np.asarray(present).dtype
        if dtype.kind in "USO" or np.asarray(present).ndim != 1:
            dtype = np.dtype(object)
        column = np.ma.MaskedArray(
            np.empty(len(params), dtype=dtype), mask=[name not in r for r in params]
        )
        for index, row in enumerate(params):
            if name in row:
                column[index] = row[name]
        columns[f"param_{name}"] = column
    return columns


def _furthest_trials(trials: Mapping[str, Trial]) -> list[Trial]:
    """Each configuration's furthest trial, in the order configurations began."""
    groups: dict[str, list[Trial]] = {}
    for trial in trials.values():
        if trial.status in (TrialStatus.RUNNING, TrialStatus.IDLE):
            continue
        groups.setdefault(values_key(trial.hyperparameters.values), []).append(trial)
    return [_furthest(group) for group in groups.values()]


def _furthest(group: list[Trial]) -> Trial:
    scored = [trial for trial in group if _is_scored(trial)] or group
    # The most epochs; of equals, the first listed.
    return max(
        scored,
        key=lambda trial: int(trial.hyperparameters.values.get("tuner/epochs", 0)),
    )


def _is_scored(trial: Trial) -> bool:
    return trial.status == TrialStatus.COMPLETED and is_finite_score(trial.score)


def _score(trial: Trial) -> float:
    return float(trial.score) if _is_scored(trial) else math.nan


def _params(trial: Trial) -> dict[str, Any]:
    return {
        name: value
        for name, value in trial.hyperparameters.values.items()
        if not is_bookkeeping(name)
    }


def _at_best_step(trial: Trial, metric: str) -> float:
    """The value ``metric`` had at the trial's best step (NaN if unknown)."""
    if not _is_scored(trial) or not trial.metrics.exists(metric):
        return math.nan
    for observation in trial.metrics.get_history(metric):
        if observation.step == trial.best_step:
            return float(np.mean(observation.value))
    return math.nan


def _chain_times(
    trials: Mapping[str, Trial],
    trial: Trial,
    fold_times: Mapping[str, Sequence[tuple[float, float]]],
    index: int,
) -> np.ndarray:
    """Seconds per fold (``index`` 0: training, 1: scoring) of ``trial`` and
    the trials it continued; empty when any of them was not timed."""
    total: np.ndarray | None = None
    seen: set[str] = set()
    while trial is not None and trial.trial_id not in seen:
        seen.add(trial.trial_id)
        times = fold_times.get(trial.trial_id)
        if not times:
            return np.array([])
        spent = np.array([fold[index] for fold in times])
        if total is not None and len(total) != len(spent):
            return np.array([])
        total = spent if total is None else total + spent
        trial = trials.get(trial.hyperparameters.values.get("tuner/trial_id", ""))
    return np.array([]) if total is None else total


def _fold_count(rows: Sequence[Trial], objective: str) -> int:
    count = 0
    while any(trial.metrics.exists(f"{objective}_fold{count}") for trial in rows):
        count += 1
    return count


def _ranks(mean: np.ndarray) -> np.ndarray:
    """1 for the best; NaN scores tie with each other below every other score."""
    if not np.isfinite(mean).any():
        return np.ones(len(mean), dtype=np.int32)
    filled = np.where(np.isfinite(mean), mean, np.nanmin(mean) - 1)
    return rankdata(-filled, method="min").astype(np.int32)


def _epochs(
    trials: Mapping[str, Trial], trial: Trial, absolute_steps: bool, max_epochs: int
) -> int:
    planned = int(trial.hyperparameters.values.get("tuner/epochs", max_epochs))
    if not _is_scored(trial):
        return planned
    return configuration_epochs(
        trials, trial, absolute_steps=absolute_steps, default=planned
    )
