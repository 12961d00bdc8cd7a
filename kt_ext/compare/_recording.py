"""Recording what a search costs: epochs, wall time and score of each trial.

:class:`SearchRecorder` is a Keras callback for ``tuner.search(...)`` that works
with any Keras Tuner tuner: Keras Tuner deep-copies callbacks for each trial,
and this one hands out itself, so one recorder sees every trial. It counts the
epochs actually trained (a trial stopped early counts what it trained; a
cross-validated trial counts every fold's epochs) and logs one
:class:`TrialCost` per ``fit``, scored like Keras Tuner scores a trial: the
best epoch's value of the objective. :meth:`SearchRecorder.follow` logs one
per trial of a tuner instead, scored on the epoch logs the tuner reports
(with ``search(cv=...)``, the mean over folds), and only when the trial
completed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import keras
from keras_tuner.engine.trial import TrialStatus

from kt_ext._internal.scores import is_better


@dataclasses.dataclass(frozen=True)
class TrialCost:
    """One finished fit (or trial): its score and what the search had spent by then.

    ``trial_id`` is the id of the trial (``"0004"``), or None when the
    recorder does not follow a tuner.

    Example:
        >>> cost = TrialCost(score=0.9, epochs=3, cumulative_epochs=12, elapsed_s=4.5)
        >>> cost.cumulative_epochs, cost.trial_id
        (12, None)
    """

    score: float | None
    epochs: int
    cumulative_epochs: int
    elapsed_s: float
    trial_id: str | None = None


class SearchRecorder(keras.callbacks.Callback):
    """Logs epochs, wall time and the objective's best value of every fit.

    Args:
        objective: The metric to score a fit by, e.g. ``"val_accuracy"``.
        direction: ``"max"`` or ``"min"``.
        on_epoch: Called after every epoch (e.g. to advance a progress bar).
        on_fit: Called with each new :class:`TrialCost` (e.g. to print it).

    Example:
        >>> import copy
        >>> recorder = SearchRecorder("val_accuracy", "max")
        >>> copy.deepcopy(recorder) is recorder
        True
    """

    def __init__(
        self,
        objective: str,
        direction: str,
        *,
        on_epoch: Callable[[], None] | None = None,
        on_fit: Callable[[TrialCost], None] | None = None,
    ) -> None:
        super().__init__()
        self.objective = objective
        self.direction = direction
        self.epochs = 0
        self.log: list[TrialCost] = []
        self._on_epoch = on_epoch
        self._on_fit = on_fit
        self._started = time.monotonic()
        self._fit_epochs = 0
        self._fit_best: float | None = None
        self._trial_id: str | None = None
        self._per_trial = False

    def follow(self, tuner: Any) -> None:
        """Logs one record per trial that ``tuner`` runs, named by its id.

        A trial is scored on the epoch logs the tuner reports (its
        ``on_epoch_end``: with ``search(cv=...)``, the mean over folds, not
        one fold's ``fit``), and gets no score unless it completed. Keras
        Tuner hands callbacks no trial, so the tuner's public
        ``on_trial_begin``, ``on_epoch_end`` and ``on_trial_end`` hooks are
        wrapped on this one tuner object.
        """
        self._per_trial = True
        begin, epoch_end, end = (
            tuner.on_trial_begin,
            tuner.on_epoch_end,
            tuner.on_trial_end,
        )

        def on_trial_begin(trial: Any) -> None:
            self._trial_id = trial.trial_id
            self._start()
            begin(trial)

        def on_epoch_end(
            trial: Any, model: Any, epoch: int, logs: dict[str, Any] | None = None
        ) -> None:
            self._observe(logs)
            epoch_end(trial, model, epoch, logs=logs)

        def on_trial_end(trial: Any) -> None:
            end(trial)
            completed = trial.status == TrialStatus.COMPLETED
            self._record(self._fit_best if completed else None)

        tuner.on_trial_begin = on_trial_begin
        tuner.on_epoch_end = on_epoch_end
        tuner.on_trial_end = on_trial_end

    def __deepcopy__(self, memo: dict[int, Any]) -> SearchRecorder:
        return self

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._per_trial:
            self._start()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epochs += 1
        self._fit_epochs += 1
        if not self._per_trial:
            self._observe(logs)
        if self._on_epoch is not None:
            self._on_epoch()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if not self._per_trial:
            self._record(self._fit_best)

    def _start(self) -> None:
        self._fit_epochs = 0
        self._fit_best = None

    def _observe(self, logs: dict[str, Any] | None) -> None:
        value = (logs or {}).get(self.objective)
        if is_better(value, self._fit_best, self.direction):
            self._fit_best = float(value)

    def _record(self, score: float | None) -> None:
        record = TrialCost(
            score=score,
            epochs=self._fit_epochs,
            cumulative_epochs=self.epochs,
            elapsed_s=time.monotonic() - self._started,
            trial_id=self._trial_id,
        )
        self.log.append(record)
        if self._on_fit is not None:
            self._on_fit(record)
