"""Drive an oracle with N simulated workers on a simulated clock.

`simulate_workers` is `run_oracle` with several workers and a clock that is
only a number: no threads, no sleeping, no Keras. Each epoch a worker trains
takes `epoch_seconds(values, epoch)` simulated seconds; events (an epoch's
end) are handled in time order, so workers finish at different times and the
oracle sees their reports interleaved as a chief in Keras Tuner's distributed
mode would. Each worker asks with its own tuner id (``worker<i>``), so the
oracle's `ongoing_trials` holds one trial per busy worker.

- RUNNING: the worker trains `tuner/initial_epoch`..`tuner/epochs`, reports
  every epoch with `update_trial` (a STOPPED answer prunes the trial there),
  then `end_trial`, and asks again at once.
- IDLE: the worker waits until another worker's trial ends, then asks again
  (the time waiting is counted as idle).
- STOPPED: the worker is done; it stays reserved, unused, until the search
  ends (the time counted as done).

Utilization is the share of worker-time spent training:
`busy / (workers * makespan)`, where `makespan` is when the last trial ends.
"""

from __future__ import annotations

import heapq
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import keras_tuner
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext._internal.checks import check_int
from kt_ext.testing._driver import (
    DriverResult,
    TrialRecord,
    _check_objective,
    _project_dir,
    _unexpected_status_message,
    end_run,
    report_epoch,
    trial_epochs,
)
from kt_ext.testing._objectives import SyntheticObjective

EpochSeconds = Callable[[Mapping[str, Any], int], float]


@dataclass(frozen=True)
class SimulatedTrial:
    """When and where one trial ran on the simulated clock.

    Attributes:
        record: What the driver saw of the trial (as `run_oracle` records it).
        worker: Index of the worker that ran it, from 0.
        start: Simulated time it was handed out.
        end: Simulated time it ended.

    Example:
        >>> record = TrialRecord("0", {}, "COMPLETED", 0.9, 2, 2, 0, None,
        ...                      False, (0.5, 0.9))
        >>> SimulatedTrial(record, 0, 0.0, 2.5).end
        2.5
    """

    record: TrialRecord
    worker: int
    start: float
    end: float


@dataclass
class SimulatedResult(DriverResult):
    """The trials of one `simulate_workers` call, in the order they ended.

    Attributes:
        workers: How many workers ran.
        timeline: One entry per trial, aligned with `trials`.
        makespan: Simulated time when the last trial ended.
        busy: Worker-seconds spent training.
        idle: Worker-seconds spent waiting after an IDLE answer.
        done: Worker-seconds between a worker's STOPPED answer and `makespan`.

    Example:
        >>> SimulatedResult("val_loss", "min", workers=2).utilization
        0.0
    """

    workers: int = 1
    timeline: list[SimulatedTrial] = field(default_factory=list)
    makespan: float = 0.0
    busy: float = 0.0
    idle: float = 0.0
    done: float = 0.0

    @property
    def utilization(self) -> float:
        """Share of worker-time spent training: ``busy / (workers * makespan)``.

        Example:
            >>> SimulatedResult("val_loss", "min", workers=2, makespan=4.0,
            ...                 busy=6.0).utilization
            0.75
        """
        if self.makespan <= 0:
            return 0.0
        return self.busy / (self.workers * self.makespan)


@dataclass
class _Worker:
    """One worker's running trial, between epoch events."""

    trial: Trial
    start: float
    epochs: tuple[int, int]
    epoch: int  # next 0-based epoch to finish
    curve: list[float] = field(default_factory=list)


def simulate_workers(
    oracle: keras_tuner.Oracle,
    objective: SyntheticObjective,
    epoch_seconds: EpochSeconds,
    *,
    workers: int,
    epochs: int | None = None,
    directory: str | os.PathLike[str] | None = None,
    on_trial_end: Callable[[keras_tuner.Oracle, SimulatedTrial], None] | None = None,
) -> SimulatedResult:
    """Run a search with ``workers`` simulated workers on a simulated clock.

    Args:
        oracle: Any KT oracle created with `objective=objective.objective`.
        objective: The objective to "train" (synthetic or lcbench).
        epoch_seconds: Simulated seconds of 1-based `epoch` of a configuration
            (its values, `tuner/...` entries included); must be > 0.
        workers: How many workers ask for trials.
        epochs: Epochs of a trial without `tuner/epochs`; None means 1.
        directory: Folder for the oracle's files, as in `run_oracle`.
        on_trial_end: Called with the oracle and the trial's timing after each
            `end_trial`, e.g. to read the recommendation at that time.

    Returns:
        The trials in the order they ended, with the clock's accounting.

    Raises:
        TypeError: If `workers` or `epochs` is not an int.
        ValueError: If an argument is invalid, or an epoch's duration is not
            a number > 0.
        RuntimeError: If the oracle answers IDLE while no trial is running
            (every worker would wait forever), or another unexpected status.

    Example:
        >>> from keras_tuner.oracles import HyperbandOracle
        >>> from kt_ext.testing import get_objective, make_oracle
        >>> objective = get_objective("mlp", seed=0)
        >>> oracle = make_oracle(HyperbandOracle, objective, max_epochs=9, seed=1)
        >>> result = simulate_workers(oracle, objective, lambda values, epoch: 1.0,
        ...                           workers=1)
        >>> result.utilization, result.makespan == result.total_epochs
        (1.0, True)
    """
    check_int("workers", workers, 1)
    if epochs is not None:
        check_int("epochs", epochs, 1)
    _check_objective(oracle, objective)
    result = SimulatedResult(objective.metric, objective.direction, workers=workers)
    with _project_dir(oracle, directory, objective.name):
        oracle.update_space(objective.hyperparameters())
        clock = _Clock(oracle, objective, epoch_seconds, result, epochs or 1)
        clock.on_trial_end = on_trial_end
        clock.run()
    return result


class _Clock:
    """The event loop of `simulate_workers`."""

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        objective: SyntheticObjective,
        epoch_seconds: EpochSeconds,
        result: SimulatedResult,
        default_epochs: int,
    ) -> None:
        self.oracle = oracle
        self.objective = objective
        self.epoch_seconds = epoch_seconds
        self.result = result
        self.default_epochs = default_epochs
        self.on_trial_end: (
            Callable[[keras_tuner.Oracle, SimulatedTrial], None] | None
        ) = None
        self.events: list[tuple[float, int]] = []  # (time an epoch ends, worker)
        self.running: dict[int, _Worker] = {}
        self.idle_since: dict[int, float] = {}
        self.stopped_at: dict[int, float] = {}

    def run(self) -> None:
        for worker in range(self.result.workers):
            self._ask(worker, 0.0)
        self._check_not_stuck()
        while self.events:
            now, worker = heapq.heappop(self.events)
            if self._finish_epoch(worker, now):
                self._ask(worker, now)
                for waiting in sorted(self.idle_since):
                    self.result.idle += now - self.idle_since.pop(waiting)
                    self._ask(waiting, now)
            self._check_not_stuck()
        self.result.makespan = max(
            (span.end for span in self.result.timeline), default=0.0
        )
        self.result.done = sum(
            self.result.makespan - stopped for stopped in self.stopped_at.values()
        )

    def _ask(self, worker: int, now: float) -> None:
        trial = self.oracle.create_trial(f"worker{worker}")
        if trial.status == TrialStatus.RUNNING:
            start, stop = trial_epochs(trial, self.default_epochs)
            self.running[worker] = _Worker(trial, now, (start, stop), start)
            self._schedule(worker, now)
        elif trial.status == TrialStatus.IDLE:
            self.idle_since[worker] = now
        elif trial.status == TrialStatus.STOPPED:
            self.result.oracle_stopped = True
            self.stopped_at[worker] = now
        else:
            raise RuntimeError(_unexpected_status_message(self.oracle, trial))

    def _schedule(self, worker: int, now: float) -> None:
        state = self.running[worker]
        values = state.trial.hyperparameters.values
        seconds = self.epoch_seconds(values, state.epoch + 1)
        if not seconds > 0:
            raise ValueError(
                f"`epoch_seconds` must return a number > 0, got {seconds!r} for "
                f"epoch {state.epoch + 1} of trial {state.trial.trial_id!r}."
            )
        self.result.busy += seconds
        heapq.heappush(self.events, (now + seconds, worker))

    def _finish_epoch(self, worker: int, now: float) -> bool:
        """Reports the epoch that ends now; whether the trial ended with it."""
        state = self.running[worker]
        values = state.trial.hyperparameters.values
        score = self.objective.evaluate(values, state.epoch + 1)
        state.curve.append(score)
        goes_on = report_epoch(
            self.oracle, self.objective, state.trial, state.epoch, score
        )
        state.epoch += 1
        if goes_on and state.epoch < state.epochs[1]:
            self._schedule(worker, now)
            return False
        del self.running[worker]
        record = end_run(
            self.oracle,
            self.objective,
            state.trial,
            state.curve,
            span=state.epochs,
            report_best=False,
            epochs_before=self.result.total_epochs,
        )
        span = SimulatedTrial(record, worker, state.start, now)
        self.result.trials.append(record)
        self.result.timeline.append(span)
        if self.on_trial_end is not None:
            self.on_trial_end(self.oracle, span)
        return True

    def _check_not_stuck(self) -> None:
        if not self.events and self.idle_since:
            raise RuntimeError(
                f"{type(self.oracle).__name__}.create_trial answered IDLE to "
                f"workers {sorted(self.idle_since)} while no trial is running: "
                "they would wait forever. An oracle may answer IDLE only while "
                "other trials are still running."
            )
