"""What a :class:`kt_ext.SearchCV` search records per trial and fold, and says.

A :class:`FoldRecorder` rides along in the search's ``callbacks``. The tuner
copies the callbacks once per fold, in fold order (``copy.deepcopy``); every
copy shares one :class:`TrialLog` and takes the next fold's index. Each copy
times its fold: validation between ``on_test_begin`` and ``on_test_end``
(plus a scorer's time, see below), training as the rest of the time between
``on_train_begin`` and ``on_train_end``. With a ``scoring`` scorer, a copy
scores its fold's model on the fold's validation rows at every epoch end and
writes the value to the epoch logs (``val_score``) before the tuner averages
them over folds. With ``verbose=2``, fold 0's copy shows Keras's progress
bar (the other folds' none, so bars never interleave).

:func:`follow_trials` hands each trial's fold times to the log when the trial
ends, and with ``verbose >= 1`` prints one line per trial.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import keras
import numpy as np

from kt_ext._internal.scores import is_finite_score
from kt_ext.model_selection._refit import configuration_epochs, fold_std
from kt_ext.model_selection._search_folds import FixedSplits
from kt_ext.model_selection._search_scoring import SCORE_METRIC, model_view
from kt_ext.model_selection._split import take_rows


class TrialLog:
    """The fold times of every trial of one search, and what a scorer needs.

    Attributes:
        times: ``{trial_id: [(fit_seconds, score_seconds) per fold]}``.
    """

    def __init__(
        self,
        splits: FixedSplits,
        *,
        scorer: Callable[..., float] | None = None,
        data: tuple[Any, Any, Any] = (None, None, None),
        classes: np.ndarray | None = None,
        progress: bool = False,
    ) -> None:
        self.splits = splits.splits
        self.scorer = scorer
        self.x, self.y, self.sample_weight = data
        self.classes = classes
        self.progress = progress
        self.times: dict[str, list[tuple[float, float]]] = {}
        self._current: dict[int, list[float]] = {}
        self._copies = 0

    def next_fold(self) -> int:
        """The fold of the next copy of the callbacks (copies come in fold order)."""
        fold = self._copies % len(self.splits)
        self._copies += 1
        return fold

    def add(self, fold: int, fit: float, score: float) -> None:
        """Adds seconds of training and of validation to ``fold`` of this trial."""
        spent = self._current.setdefault(fold, [0.0, 0.0])
        spent[0] += fit
        spent[1] += score

    def end_trial(self, trial_id: str) -> None:
        """Files the running trial's fold times under ``trial_id``."""
        folds = sorted(self._current)
        self.times[trial_id] = [
            (self._current[f][0], self._current[f][1]) for f in folds
        ]
        self._current = {}
        self._copies = 0

    def score(self, fold: int, model: Any) -> float:
        """The scorer's value for ``model`` on ``fold``'s validation rows."""
        if self.scorer is None:
            raise ValueError("`scoring` must be given to score a fold, got None.")
        rows = self.splits[fold][1]
        weight = take_rows(self.sample_weight, rows)
        kwargs = {} if weight is None else {"sample_weight": weight}
        view = model_view(model, self.classes)
        y = take_rows(self.y, rows)
        return float(self.scorer(view, take_rows(self.x, rows), y, **kwargs))


class FoldRecorder(keras.callbacks.Callback):
    """Times one fold of a trial; scores it per epoch; shows fold 0's progress."""

    def __init__(self, log: TrialLog, fold: int | None = None) -> None:
        super().__init__()
        self.log = log
        self.fold = fold
        self._progress: keras.callbacks.ProgbarLogger | None = None
        self._began = self._tested = 0.0
        self._testing = self._scoring = 0.0

    def __deepcopy__(self, memo: dict[int, Any]) -> FoldRecorder:
        # One copy per fold, in fold order: all record to the same log.
        return FoldRecorder(self.log, self.log.next_fold())

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params(params)
        if self.log.progress and self.fold == 0:
            self._progress = keras.callbacks.ProgbarLogger()
            self._progress.set_params({**params, "verbose": 1})

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._began = time.perf_counter()
        self._testing = self._scoring = 0.0
        if self._progress is not None:
            self._progress.set_model(self.model)
            self._progress.on_train_begin(logs)

    def on_test_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._tested = time.perf_counter()

    def on_test_end(self, logs: dict[str, Any] | None = None) -> None:
        self._testing += time.perf_counter() - self._tested

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._progress is not None:
            self._progress.on_epoch_begin(epoch, logs)

    def on_train_batch_end(self, batch: int, logs: dict[str, Any] | None = None):
        if self._progress is not None:
            self._progress.on_train_batch_end(batch, logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self.log.scorer is not None and logs is not None and self.fold is not None:
            started = time.perf_counter()
            logs[SCORE_METRIC] = self.log.score(self.fold, self.model)
            self._scoring += time.perf_counter() - started
        if self._progress is not None:
            self._progress.on_epoch_end(epoch, logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._progress is not None:
            self._progress.on_train_end(logs)
        if self.fold is None:
            return
        spent = time.perf_counter() - self._began
        scored = self._testing + self._scoring
        self.log.add(self.fold, max(spent - scored, 0.0), scored)
        self._testing = self._scoring = 0.0
        self._began = time.perf_counter()


def follow_trials(tuner: Any, log: TrialLog, *, verbose: int, max_epochs: int) -> None:
    """Files each trial's fold times when it ends; prints a line if ``verbose``.

    Wraps the tuner's ``on_trial_end`` (Keras Tuner's public hook) on this
    instance only.
    """
    end_trial = tuner.on_trial_end

    def on_trial_end(trial: Any) -> None:
        end_trial(trial)
        log.end_trial(trial.trial_id)
        if verbose:
            print(trial_line(tuner, trial, max_epochs), flush=True)

    tuner.on_trial_end = on_trial_end


def trial_line(tuner: Any, trial: Any, max_epochs: int) -> str:
    """One line for a finished trial: its epochs and mean score ± std over folds.

    Example:
        >>> print(trial_line(tuner, trial, 9))  # doctest: +SKIP
        trial 0003: 3 epochs, val_accuracy 0.9123 ± 0.0131 over 3 folds
    """
    objective = tuner.oracle.objective.name
    if not is_finite_score(trial.score):
        return f"trial {trial.trial_id}: {str(trial.status).lower()}, no score"
    reports = getattr(tuner, "reports_each_epoch", None)
    epochs = configuration_epochs(
        tuner.oracle.trials,
        trial,
        absolute_steps=bool(callable(reports) and reports()),
        default=int(trial.hyperparameters.values.get("tuner/epochs", max_epochs)),
    )
    std = fold_std(trial, objective)
    folds = tuner.folds.folds if getattr(tuner, "folds", None) else 0
    return (
        f"trial {trial.trial_id}: {epochs} epochs, {objective} "
        f"{float(trial.score):.4f} ± {std:.4f} over {folds} folds"
    )
