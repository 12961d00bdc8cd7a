"""Dead workers in Keras Tuner's distributed mode: noticed, released, replaced.

A worker that goes silent for ``worker_timeout`` seconds counts as dead: its
trial goes to the next worker that asks (without using up a retry, and
without its epochs being charged twice), and the chief stops waiting for it.
A worker that was only slow is taken at its word if nobody else has finished
its trial; otherwise its late report is dropped.
"""

from __future__ import annotations

import copy
import time
from typing import Any

import keras_tuner
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.seam_oracle import retry_queue
from kt_ext.oracles._persistence import COMPLETED, FAILED, STOPPED, JournaledOracle


class WorkerRelease(JournaledOracle):
    """An oracle that releases workers silent for ``worker_timeout`` seconds.

    Subclasses set :attr:`worker_timeout` (``None`` waits forever, as Keras
    Tuner does). Every request about a trial counts as a sign of life from the
    worker running it.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self.worker_timeout: float | None = None
        # When each tuner id was last heard from (this process's clock).
        self._heard: dict[str, float] = {}
        super().__init__(*args, **kwargs)

    @keras_tuner.synchronized
    def update_trial(
        self, trial_id: str, metrics: dict[str, float], step: int = 0
    ) -> trial_module.Trial:
        """Records metrics as Keras Tuner does, unless the trial has ended.

        A worker presumed dead that reports for a trial another worker has
        since finished gets the trial back with status STOPPED.
        """
        self._hear_from(trial_id)
        trial = self.trials[trial_id]
        if trial.status in (COMPLETED, FAILED) and not self._is_running(trial_id):
            answer = copy.copy(trial)
            answer.status = STOPPED
            return answer
        return super().update_trial(trial_id, metrics, step=step)

    @keras_tuner.synchronized
    def end_trial(self, trial: trial_module.Trial) -> None:
        """Ends ``trial`` as Keras Tuner does; a late duplicate report is ignored.

        A worker presumed dead that finishes after all is taken at its word if
        no other worker has finished its trial yet (the first report wins);
        if the trial has already ended, its report is dropped, so no trial is
        counted twice.
        """
        self._hear_from(trial.trial_id)
        if not self._accepts_end(trial.trial_id):
            return
        if not self._is_running(trial.trial_id):
            retry_queue(self).remove(trial.trial_id)
            self._interrupted.discard(trial.trial_id)
        super().end_trial(trial)

    @keras_tuner.synchronized
    def get_trial(self, trial_id: str) -> trial_module.Trial:
        """Returns the trial; from a worker, this is also its heartbeat."""
        self._hear_from(trial_id)
        return super().get_trial(trial_id)

    @keras_tuner.synchronized
    def release_silent_workers(self) -> list[str]:
        """Forgets workers silent for longer than ``worker_timeout`` seconds.

        The trial of such a worker goes back to the queue, first in line for
        the next worker that asks, without using up one of its retries and
        without charging its epochs twice; the chief stops waiting for the
        worker. Called on every ``create_trial`` and, in distributed mode, by
        the chief every second.

        Returns:
            The ids of the trials handed back.

        Example:
            >>> from kt_ext.oracles import RoundOracle
            >>> oracle = RoundOracle("loss", max_epochs=1, worker_timeout=5)
            >>> oracle.release_silent_workers()
            []
        """
        if self.worker_timeout is None:
            return []
        now = time.monotonic()
        handed_back = []
        for tuner_id in sorted(self.tuner_ids | set(self.ongoing_trials)):
            silent = now - self._heard.setdefault(tuner_id, now)
            if silent <= self.worker_timeout:
                continue
            self.tuner_ids.discard(tuner_id)
            del self._heard[tuner_id]
            trial = self.ongoing_trials.pop(tuner_id, None)
            if trial is None:
                continue
            print(
                f"Worker {tuner_id} silent for {silent:.0f} s: trial "
                f"{trial.trial_id} goes to the next worker that asks."
            )
            retry_queue(self).append(trial.trial_id)
            self._interrupted.add(trial.trial_id)
            self._forget_partial_run(trial.trial_id)
            handed_back.append(trial.trial_id)
        if handed_back:
            self.save()
        return handed_back

    def _hear_from(self, trial_id: str) -> None:
        for tuner_id, trial in self.ongoing_trials.items():
            if trial.trial_id == trial_id:
                self._heard[tuner_id] = time.monotonic()

    def _accepts_end(self, trial_id: str) -> bool:
        """Whether a report that ``trial_id`` ended is taken (see end_trial)."""
        return self._is_running(trial_id) or trial_id in retry_queue(self)

    def _is_running(self, trial_id: str) -> bool:
        return any(trial.trial_id == trial_id for trial in self.ongoing_trials.values())
