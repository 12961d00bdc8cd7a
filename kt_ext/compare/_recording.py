"""Recording what a search costs: epochs, wall time and score of each fit.

:class:`SearchRecorder` is a Keras callback for ``tuner.search(...)`` that works
with any Keras Tuner tuner: Keras Tuner deep-copies callbacks for each trial,
and this one hands out itself, so one recorder sees every trial. It counts the
epochs actually trained (a trial stopped early counts what it trained) and
logs one :class:`TrialCost` per ``fit`` (one per trial with
``executions_per_trial=1``), scored like Keras Tuner scores a trial: the best
epoch's value of the objective. :meth:`SearchRecorder.follow` names each fit
by the id of the trial it belongs to.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from typing import Any

import keras

from kt_ext._scores import is_better


@dataclasses.dataclass(frozen=True)
class TrialCost:
    """One finished fit: its score and what the search had spent by then.

    ``trial_id`` is the id of the trial the fit belongs to (``"0004"``), or
    None when the recorder does not follow a tuner.
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

    def follow(self, tuner: Any) -> None:
        """Names each fit by the trial ``tuner`` runs (its ``on_trial_begin``).

        Keras Tuner hands callbacks no trial, so the tuner's public
        ``on_trial_begin`` hook is wrapped on this one tuner object.
        """
        begin = tuner.on_trial_begin

        def on_trial_begin(trial: Any) -> None:
            self._trial_id = trial.trial_id
            begin(trial)

        tuner.on_trial_begin = on_trial_begin

    def __deepcopy__(self, memo: dict[int, Any]) -> SearchRecorder:
        return self

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        self._fit_epochs = 0
        self._fit_best = None

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.epochs += 1
        self._fit_epochs += 1
        value = (logs or {}).get(self.objective)
        if is_better(value, self._fit_best, self.direction):
            self._fit_best = float(value)
        if self._on_epoch is not None:
            self._on_epoch()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        record = TrialCost(
            score=self._fit_best,
            epochs=self._fit_epochs,
            cumulative_epochs=self.epochs,
            elapsed_s=time.monotonic() - self._started,
            trial_id=self._trial_id,
        )
        self.log.append(record)
        if self._on_fit is not None:
            self._on_fit(record)
