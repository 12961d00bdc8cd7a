"""Rounds of trials with growing epochs: the shared base of kt_ext's oracles.

A round trains every one of its trials for the same number of epochs
(``tuner/epochs``). Epochs grow by ``factor`` from ``min_epochs`` to
``max_epochs`` over the rounds (the *rungs*); a round may continue the best
trials of the previous round from their weights (``tuner/trial_id``,
``tuner/initial_epoch``, as Keras Tuner's Hyperband does) and adds fresh
configurations sampled inside the current :mod:`space <kt_ext.oracles._space>`.
When a round has ended, :meth:`RoundOracle._end_round` lets a subclass learn
from it (narrow ranges, prune values) before the next round is planned.

The epoch budget counts epochs actually trained, times
``executions_per_trial``, and is never exceeded (epochs that a worker presumed
dead goes on training are not counted). Everything lives in
``get_state`` as plain JSON, so a reloaded search continues where it was. In
Keras Tuner's distributed mode a worker silent for ``worker_timeout`` seconds
is released and its trial goes to the next worker that asks.
"""

from __future__ import annotations

import copy
import dataclasses
import json
import math
import os
import time
from collections.abc import Iterable, Mapping
from typing import Any, ClassVar

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module
from keras_tuner.src import backend
from keras_tuner.src.engine import metrics_tracking

from kt_ext._checks import check_int, check_number
from kt_ext._names import is_bookkeeping
from kt_ext.oracles import _journal
from kt_ext.oracles._journal import write_json_atomically
from kt_ext.oracles._space import (
    Space,
    entry_space,
    sample_values,
    values_key,
)

RUNNING = trial_module.TrialStatus.RUNNING
IDLE = trial_module.TrialStatus.IDLE
STOPPED = trial_module.TrialStatus.STOPPED
COMPLETED = trial_module.TrialStatus.COMPLETED
FAILED = trial_module.TrialStatus.FAILED

# Draws of an already-tried configuration before a duplicate is accepted.
_MAX_COLLISIONS = 20


def rung_epochs(min_epochs: int, max_epochs: int, factor: float) -> list[int]:
    """The epochs of each round: ``min_epochs`` growing by ``factor`` to the max.

    Example:
        >>> rung_epochs(1, 27, 3)
        [1, 3, 9, 27]
        >>> rung_epochs(2, 10, 3)
        [2, 6, 10]
    """
    epochs = [min_epochs]
    while epochs[-1] < max_epochs:
        epochs.append(min(max_epochs, math.ceil(epochs[-1] * factor)))
    return epochs


def hyperband_epoch_budget(max_epochs: int, factor: float) -> int:
    """Epochs that one iteration of Keras Tuner 1.4's Hyperband trains.

    Uses the bracket sizes and epochs of ``keras_tuner.oracles.HyperbandOracle``
    (``min_epochs=1``), counting a continued trial's epochs from its
    ``tuner/initial_epoch``.

    Example:
        >>> hyperband_epoch_budget(27, 3)
        375
    """
    brackets = 0
    epochs: float = max_epochs
    while epochs >= 1:
        epochs /= factor
        brackets += 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    total = 0
    for bracket in range(brackets):
        for round_num in range(bracket + 1):
            size = math.ceil(end_size / (bracket + 1) * factor ** (bracket - round_num))
            top = math.ceil(max_epochs / factor ** (bracket - round_num))
            start = (
                math.ceil(max_epochs / factor ** (bracket - round_num + 1))
                if round_num
                else 0
            )
            total += size * (top - start)
    return total


@dataclasses.dataclass
class Round:
    """One round: its epochs, the trials it continues, and what it created.

    Attributes:
        epochs: ``tuner/epochs`` of every trial in the round.
        carry: Trial ids of the previous round to continue from their weights.
        new: How many fresh configurations to sample.
        trial_ids: The trials created so far, carried ones first.
        full: Set when the budget cannot pay for the rest of the round.
        ended: Set once :meth:`RoundOracle._end_round` has run for it.
    """

    epochs: int
    carry: list[str]
    new: int
    trial_ids: list[str] = dataclasses.field(default_factory=list)
    full: bool = False
    ended: bool = False

    @property
    def size(self) -> int:
        """How many trials the round plans."""
        return len(self.carry) + self.new

    def to_json(self) -> dict[str, Any]:
        """The round as plain JSON (``dataclasses.asdict`` deep-copies: slow)."""
        return {
            "epochs": self.epochs,
            "carry": list(self.carry),
            "new": self.new,
            "trial_ids": list(self.trial_ids),
            "full": self.full,
            "ended": self.ended,
        }


__all__ = [
    "Round",
    "RoundOracle",
    "hyperband_epoch_budget",
    "rung_epochs",
    "write_json_atomically",
]


def _check_json(path: str) -> None:
    if "://" in path or not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as handle:
            json.load(handle)
    except json.JSONDecodeError as error:
        raise _journal.corrupt_error(path, error) from error


def _planned_epochs(values: Mapping[str, Any]) -> int:
    return values["tuner/epochs"] - values.get("tuner/initial_epoch", 0)


class RoundOracle(keras_tuner.Oracle):
    """Base oracle: rounds with growing epochs inside a current search space.

    Subclasses override :meth:`_end_round` (learn from a finished round, e.g.
    narrow ``self.space``) and may override :meth:`_plan_round` (how many
    trials to continue and to sample in a round). Both are called under the
    oracle's lock.

    Args:
        objective: As in Keras Tuner.
        max_epochs: Epochs of the longest trial.
        min_epochs: Epochs of the first round's trials.
        factor: Epochs grow by this factor from one round to the next.
        epoch_budget: Epochs to train in all (times ``executions_per_trial``).
            Default when neither this nor ``max_trials`` is given: what one
            Hyperband iteration with the same ``max_epochs`` and ``factor``
            trains.
        max_trials: Trials to run at most.
        hyperparameters: As in Keras Tuner.
        allow_new_entries: As in Keras Tuner.
        tune_new_entries: As in Keras Tuner.
        seed: Random seed; ``0`` is a seed like any other.
        max_retries_per_trial: As in Keras Tuner.
        max_consecutive_failed_trials: As in Keras Tuner.
        worker_timeout: In Keras Tuner's distributed mode, seconds after which
            a worker that has not been heard from counts as dead: its trial goes
            to the next worker that asks (without using up a retry), and the
            chief no longer waits for it. Only for workers that send heartbeats
            while they train, as kt_ext's tuners do (every ``worker_timeout /
            4`` seconds, at most every 10 s; their default is 120 s): a stock
            ``keras_tuner.Tuner`` is silent for whole trials. ``None`` (the
            oracle's default) waits forever, as Keras Tuner does.
    """

    def __init__(
        self,
        objective: Any = None,
        *,
        max_epochs: int = 100,
        min_epochs: int = 1,
        factor: float = 3,
        epoch_budget: int | None = None,
        max_trials: int | None = None,
        hyperparameters: keras_tuner.HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        worker_timeout: float | None = None,
    ) -> None:
        check_int("max_epochs", max_epochs, 1)
        check_int("min_epochs", min_epochs, 1)
        if min_epochs > max_epochs:
            raise ValueError(
                f"`min_epochs` must be <= `max_epochs` ({max_epochs}), "
                f"got {min_epochs!r}."
            )
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            raise TypeError(f"`factor` must be a number, got {factor!r}.")
        if not factor > 1:
            raise ValueError(f"`factor` must be > 1, got {factor!r}.")
        if epoch_budget is not None:
            check_int("epoch_budget", epoch_budget, 1)
        if max_trials is not None:
            check_int("max_trials", max_trials, 1)
        if seed is not None:
            check_int("seed", seed, 0)
            seed = int(seed)  # numpy ints do not serialize to JSON
        if worker_timeout is not None:
            check_number(
                "worker_timeout", worker_timeout, low=0, high=math.inf, open_low=True
            )
        super().__init__(
            objective=objective,
            max_trials=None if max_trials is None else int(max_trials),
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        if seed is not None:
            # Keras Tuner treats 0 as "no seed"; here it is a seed.
            self.seed = seed
        self.max_epochs = int(max_epochs)
        self.min_epochs = int(min_epochs)
        self.factor = factor
        if epoch_budget is None and max_trials is None:
            epoch_budget = hyperband_epoch_budget(self.max_epochs, factor)
        self.epoch_budget = None if epoch_budget is None else int(epoch_budget)
        # Set by the tuner: each trial trains this many models.
        self.executions_per_trial = 1
        self.space: Space = {}
        self.rounds: list[Round] = []
        # Epochs each trial trained (planned ones while it runs), per model.
        self.epochs_trained: dict[str, int] = {}
        # Trials that were running when the search was last stopped.
        self._interrupted: set[str] = set()
        self._rng = np.random.default_rng(self.seed)
        self.worker_timeout = worker_timeout
        # When each tuner id was last heard from (this process's clock).
        self._heard: dict[str, float] = {}

    # -- what subclasses override ------------------------------------------

    def _plan_round(self, index: int) -> Round | None:
        """Plans round ``index``; ``None`` ends the search.

        The default continues the best ``1/factor`` of the previous round when
        this round trains longer, and spends about an equal share of the epoch
        budget on each rung; the first round has at least two fresh trials and
        at most as many as Hyperband's widest bracket.
        After the last rung, rounds of fresh trials at ``max_epochs`` follow
        while the budget lasts.
        """
        rungs = rung_epochs(self.min_epochs, self.max_epochs, self.factor)
        epochs = rungs[min(index, len(rungs) - 1)]
        carry: list[str] = []
        previous = self.rounds[index - 1] if index else None
        if previous is not None and previous.epochs < epochs:
            ranked = self._ranked(previous.trial_ids)
            keep = int(len(ranked) // self.factor)
            carry = [trial.trial_id for trial in ranked[:keep]]
        carry_cost = len(carry) * (epochs - (previous.epochs if previous else 0))
        if self.epoch_budget is None:
            share = self.max_trials / len(rungs) * epochs
        else:
            share = self.epoch_budget / len(rungs)
        new = max(0, math.floor((share - carry_cost) / epochs))
        if index == 0:
            # No wider than Hyperband's widest bracket: many one-epoch trials
            # cost more in per-trial overhead than they teach.
            widest = math.ceil(self.factor ** (len(rungs) - 1))
            new = max(min(new, widest), 2)
        elif new == 0 and not carry:
            new = 1
        return Round(epochs=epochs, carry=carry, new=new)

    def _end_round(self, index: int, completed: list[trial_module.Trial]) -> None:
        """Learns from round ``index``'s completed trials with a finite score."""

    # -- Keras Tuner's oracle interface ------------------------------------

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """The next trial of the current round, or IDLE / STOPPED."""
        self._sync_space()
        while True:
            if not self.rounds:
                first = self._plan_round(0)
                if first is None:
                    return {"status": STOPPED}
                self.rounds.append(first)
            current = self.rounds[-1]
            values = self._next_values(current)
            if values is not None:
                current.trial_ids.append(trial_id)
                self.epochs_trained[trial_id] = _planned_epochs(values)
                return {"status": RUNNING, "values": values}
            if self._round_is_running(current):
                # Only in distributed mode: other workers still train this round.
                return {"status": IDLE}
            if not current.ended:
                self._end_round(len(self.rounds) - 1, self._completed(current))
                current.ended = True
            upcoming = None if current.full else self._plan_round(len(self.rounds))
            if upcoming is None or not self._affordable(self._cheapest(upcoming)):
                # Keras Tuner saves only when a trial starts: keep what the last
                # round taught.
                self.save()
                return {"status": IDLE if self.ongoing_trials else STOPPED}
            self.rounds.append(upcoming)

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> trial_module.Trial:
        """Creates a trial as Keras Tuner does, charging retries to the budget.

        Keras Tuner hands out a trial waiting for a retry before asking
        :meth:`populate_space`; its epochs count again, and a retry that the
        budget cannot pay for ends the trial as failed instead.
        """
        self._heard[tuner_id] = time.monotonic()
        self.release_silent_workers()
        if tuner_id not in self.ongoing_trials and self._retry_queue:
            trial = self.trials[self._retry_queue[-1]]
            planned = _planned_epochs(trial.hyperparameters.values)
            if trial.trial_id in self._interrupted:
                # Cut short by a crash, not failed: already charged once.
                self._interrupted.discard(trial.trial_id)
            elif self._affordable(planned * self.executions_per_trial):
                self.epochs_trained[trial.trial_id] += planned
            else:
                self._retry_queue.pop()
                trial.status = trial_module.TrialStatus.FAILED
                trial.message = "Not retried: the epoch budget is spent."
                self.end_order.append(trial.trial_id)
                self._save_trial(trial)
        return super().create_trial(tuner_id)

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
        if not self._is_running(trial.trial_id):
            if trial.trial_id not in self._retry_queue:
                return
            self._retry_queue.remove(trial.trial_id)
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
            self._retry_queue.append(trial.trial_id)
            self._interrupted.add(trial.trial_id)
            self._forget_partial_run(trial.trial_id)
            handed_back.append(trial.trial_id)
        if handed_back:
            self.save()
        return handed_back

    def _forget_partial_run(self, trial_id: str) -> None:
        """Drops what an unfinished run of ``trial_id`` reported, before a rerun.

        Keras Tuner would average the rerun's epochs with the lost run's. The
        next save writes a whole snapshot, since entries are removed.
        """
        trial = self.trials[trial_id]
        trial.metrics = metrics_tracking.MetricsTracker()
        self._save_trial(trial)
        self._journal = None

    def _hear_from(self, trial_id: str) -> None:
        for tuner_id, trial in self.ongoing_trials.items():
            if trial.trial_id == trial_id:
                self._heard[tuner_id] = time.monotonic()

    def _is_running(self, trial_id: str) -> bool:
        return any(trial.trial_id == trial_id for trial in self.ongoing_trials.values())

    #: How the parts of the state that grow with the trials are journaled
    #: (see :class:`kt_ext.oracles._journal.StateDiff`); subclasses add theirs.
    _journal_plan: ClassVar[dict[tuple[str, ...], str]] = {
        ("start_order",): _journal.APPEND,
        ("end_order",): _journal.APPEND,
        ("run_times",): _journal.PER_TRIAL,
        ("id_to_hash",): _journal.PER_TRIAL,
        ("tried_so_far",): _journal.MEMBERS,
        ("display", "trial_start"): _journal.PER_TRIAL,
        ("display", "trial_number"): _journal.PER_TRIAL,
        ("rounds",): _journal.GROWING_TAIL,
        ("epochs_trained",): _journal.PER_TRIAL,
    }

    def save(self) -> None:
        """Saves the state: a line of changes, or now and then a whole snapshot.

        ``oracle.json`` holds a complete state (written atomically), and
        ``oracle_journal.jsonl`` one line per later save with what changed
        (see :mod:`kt_ext.oracles._journal`), so a save costs the same at any
        number of trials. A kill mid-save loses that save only, as a kill
        before the rename of a whole file would.
        """
        path = self._get_oracle_fname()
        journal = self.__dict__.get("_journal")
        if journal is None or journal.snapshot_path != path:
            journal = self._journal = _journal.Journal(path)
            self._state_diff = _journal.StateDiff(self._journal_plan)
        state = self.get_state()
        members = {("tried_so_far",): (self._tried_so_far, self._hashes_of)}
        try:
            if not journal.needs_snapshot():
                dirty = self._dirty_trials()
                change = self._state_diff.changes(state, dirty, members)
                if change is not None:
                    if change:
                        journal.append(change)
                    self._mark_saved(full=False)
                    return
            journal.write_snapshot(state)
            self._state_diff.reset(state, members)
            self._mark_saved(full=True)
        except BaseException:
            # What was written is unknown: the next save writes a snapshot.
            self._journal = None
            raise

    def _touch(self, trial_id: str) -> None:
        """Journals ``trial_id``'s per-trial state at the next save.

        Trials that start, run, wait for a retry or end are journaled anyway;
        code that changes the per-trial state of another trial calls this.
        """
        self.__dict__.setdefault("_touched", set()).add(trial_id)

    def _dirty_trials(self) -> set[str]:
        """Trials whose per-trial state may have changed since the last save."""
        started, ended, busy, _ = self._journal_marks
        dirty = set(self.start_order[started:])
        dirty.update(self.end_order[ended:])
        dirty.update(busy)
        dirty.update(self._busy_trials())
        dirty.update(self.__dict__.get("_touched", ()))
        return dirty

    def _busy_trials(self) -> set[str]:
        busy = {trial.trial_id for trial in self.ongoing_trials.values()}
        busy.update(self._retry_queue)
        return busy

    def _hashes_of(self, trial_ids: Iterable[str]) -> set[str]:
        """The tried-configuration hashes that ``trial_ids`` may have changed."""
        saved = self._journal_marks[3]
        hashes = set()
        for trial_id in trial_ids:
            hashes.add(self._id_to_hash.get(trial_id))
            hashes.add(saved.get(trial_id))
        hashes.discard(None)
        return hashes

    def _mark_saved(self, *, full: bool) -> None:
        if full:
            hashes = dict(self._id_to_hash)
        else:
            hashes = self._journal_marks[3]
            for trial_id in self._dirty_trials():
                hashes[trial_id] = self._id_to_hash.get(trial_id)
        self._journal_marks = (
            len(self.start_order),
            len(self.end_order),
            self._busy_trials(),
            hashes,
        )
        self.__dict__.get("_touched", set()).clear()

    def _save_trial(self, trial: trial_module.Trial) -> None:
        path = os.path.join(self._get_trial_dir(trial.trial_id), "trial.json")
        write_json_atomically(path, trial.get_state())

    def reload(self) -> None:
        """Reloads as Keras Tuner does, without re-running finished trials.

        Keras Tuner 1.4 saves the oracle in ``end_trial`` before it drops the
        trial from the running ones, then sends every "running" trial of a
        reloaded search for a retry: the last finished trial would run twice.

        The state is ``oracle.json`` with the changes of its journal replayed
        (see :meth:`save`).

        Raises:
            ValueError: A state file is not valid JSON; it names the file, and
                nothing is deleted (rather than a silent fresh start).
        """
        state = _journal.read_state(self._get_oracle_fname())
        pattern = os.path.join(self._project_dir, "trial_*", "trial.json")
        paths = sorted(backend.io.glob(pattern))
        for path in paths:
            _check_json(path)
        # Keras Tuner's Oracle.reload, with the state read from the journal.
        for path in paths:
            trial = trial_module.Trial.load(path)
            self.trials[trial.trial_id] = trial
        try:
            self.set_state(state)
        except KeyError as error:
            raise RuntimeError(
                "Error reloading `Oracle` from existing project. If you did not "
                "mean to reload from an existing project, change the "
                "`project_name` or pass `overwrite=True` when creating the "
                f"`Tuner`. Found existing project at: {self._project_dir}"
            ) from error
        for trial in self.ongoing_trials.values():
            self._retry_queue.append(trial.trial_id)
        self.ongoing_trials = {}
        # The next save starts a new snapshot (and drops a cut journal line).
        self._journal = None
        ended = (COMPLETED, FAILED)
        self._retry_queue = [
            trial_id
            for trial_id in self._retry_queue
            if self.trials[trial_id].status not in ended
        ]
        self._interrupted = {
            trial_id
            for trial_id in self._retry_queue
            if self.trials[trial_id].status == RUNNING
        }
        for trial_id in self._interrupted:
            self._forget_partial_run(trial_id)

    def _check_consecutive_failures(self) -> None:
        """Keras Tuner's check, reading only the trials ended since last time.

        Keras Tuner scans every ended trial at each ``end_trial`` (O(trials))
        and raises where ``max_consecutive_failed_trials`` failures in a row
        first occur. Ended trials keep their status, so the scan goes on from
        where it stopped, with the run of failures it ended on; it starts over
        when ``end_order`` is another list, shrank, or the limit changed.
        """
        limit, order = self.max_consecutive_failed_trials, self.end_order
        scan = self.__dict__.get("_failure_scan")
        start, run = 0, 0
        if scan and scan[0] is order and scan[1] <= len(order) and scan[3] == limit:
            start, run = scan[1], scan[2]
        for trial_id in order[start:]:
            trial = self.trials[trial_id]
            run = run + 1 if trial.status == trial_module.TrialStatus.FAILED else 0
            if run == limit:
                raise RuntimeError(
                    "Number of consecutive failures exceeded the limit "
                    f"of {limit}.\n" + (trial.message or "")
                )
        self._failure_scan = (order, len(order), run, limit)

    def score_trial(self, trial: trial_module.Trial) -> None:
        """Scores as Keras Tuner does; an infinite score counts as NaN (failed)."""
        super().score_trial(trial)
        if trial.score is not None and not math.isfinite(trial.score):
            trial.score = float("nan")

    def _compute_values_hash(self, values: Mapping[str, Any]) -> str:
        return values_key(values)

    # -- rounds --------------------------------------------------------------

    def _next_values(self, current: Round) -> dict[str, Any] | None:
        created = len(current.trial_ids)
        if current.full or created >= current.size:
            return None
        if created < len(current.carry):
            past = self.trials[current.carry[created]]
            values = {
                name: value
                for name, value in past.hyperparameters.values.items()
                if not is_bookkeeping(name)
            }
            values["tuner/trial_id"] = past.trial_id
            values["tuner/initial_epoch"] = past.hyperparameters.values["tuner/epochs"]
        else:
            values = self._sample()
            values["tuner/initial_epoch"] = 0
        values["tuner/epochs"] = current.epochs
        values["tuner/round"] = len(self.rounds) - 1
        if not self._affordable(self._cost(values)):
            current.full = True
            return None
        return values

    def _sample(self) -> dict[str, Any]:
        # Keras Tuner keeps the hashes of tried configurations (our
        # `_compute_values_hash`), so a draw costs the same at any trial count.
        for _ in range(_MAX_COLLISIONS):
            values = sample_values(self.hyperparameters, self.space, self._rng)
            if not self._duplicate(values):
                break
        return values

    def _round_is_running(self, current: Round) -> bool:
        busy = self._busy_trials()
        return any(trial_id in busy for trial_id in current.trial_ids)

    def _completed(self, current: Round) -> list[trial_module.Trial]:
        trials = (self.trials[trial_id] for trial_id in current.trial_ids)
        return [
            trial
            for trial in trials
            if trial.status == COMPLETED
            and trial.score is not None
            and math.isfinite(trial.score)
        ]

    def _ranked(self, trial_ids: list[str]) -> list[trial_module.Trial]:
        """Completed trials with a finite score, best first."""
        completed = self._completed(Round(0, [], 0, trial_ids=trial_ids))
        return sorted(
            completed,
            key=lambda trial: trial.score,
            reverse=self.objective.direction == "max",
        )

    def _sync_space(self) -> None:
        """Adds entries the hypermodel declared since the last trial."""
        for hp in self.hyperparameters.space:
            if hp.name not in self.space and not is_bookkeeping(hp.name):
                self.space[hp.name] = entry_space(hp)

    # -- budget --------------------------------------------------------------

    def _cost(self, values: Mapping[str, Any]) -> int:
        return _planned_epochs(values) * self.executions_per_trial

    def _cheapest(self, upcoming: Round) -> int:
        if upcoming.carry:
            past = self.trials[upcoming.carry[0]].hyperparameters.values
            return (upcoming.epochs - past["tuner/epochs"]) * self.executions_per_trial
        return upcoming.epochs * self.executions_per_trial

    @property
    def epochs_used(self) -> int:
        """Epochs trained or reserved by running trials, times executions."""
        return sum(self.epochs_trained.values()) * self.executions_per_trial

    def _affordable(self, cost: int) -> bool:
        if self.epoch_budget is None:
            return True
        return self.epochs_used + cost <= self.epoch_budget

    def charge_epochs(self, trial_id: str, epochs_trained: int) -> None:
        """Records that ``trial_id`` trained fewer epochs than planned."""
        self.epochs_trained[trial_id] = epochs_trained
        self._touch(trial_id)

    # -- state -----------------------------------------------------------------

    def _rounds_json(self) -> list[dict[str, Any]]:
        """The rounds as JSON; that of rounds before the last is kept.

        Only the last round changes (its trials, ``full``, ``ended``): the
        others are converted once, so this costs the same at any trial count.
        The dicts of earlier rounds are shared between calls: do not modify.
        """
        rounds, dicts = self.__dict__.setdefault("_settled_rounds", ([], []))
        settled = len(self.rounds) - 1
        if len(rounds) > max(0, settled) or (
            rounds and rounds[-1] is not self.rounds[len(rounds) - 1]
        ):
            rounds.clear()
            dicts.clear()
        while len(rounds) < settled:
            done = self.rounds[len(rounds)]
            rounds.append(done)
            dicts.append(done.to_json())
        return dicts + [r.to_json() for r in self.rounds[len(rounds) :]]

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state.update(
            {
                "seed": self.seed,
                "max_epochs": self.max_epochs,
                "min_epochs": self.min_epochs,
                "factor": self.factor,
                "epoch_budget": self.epoch_budget,
                "executions_per_trial": self.executions_per_trial,
                "space": self.space,
                "rounds": self._rounds_json(),
                "epochs_trained": self.epochs_trained,
                "rng": self._rng.bit_generator.state,
            }
        )
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.seed = state["seed"]
        self.max_epochs = state["max_epochs"]
        self.min_epochs = state["min_epochs"]
        self.factor = state["factor"]
        # A resumed search keeps the budget it is given now, so it can be
        # extended (as Keras Tuner's max_trials can).
        self.executions_per_trial = state["executions_per_trial"]
        self.space = state["space"]
        self.rounds = [Round(**r) for r in state["rounds"]]
        self.epochs_trained = dict(state["epochs_trained"])
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]
