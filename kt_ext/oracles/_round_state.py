"""A round oracle's state as JSON, and the check that a rerun is the same search.

:class:`RoundState` holds what :class:`~kt_ext.oracles.RoundOracle` saves
(rounds, space, the random generator; its budget part adds its own keys) and
refuses, before anything is loaded, a rerun whose settings differ from the
saved search's. A small helper goes with it: the epoch at which a trial
diverged.
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.seam_oracle import (
    MetricsTracker,
    OracleSeam,
    project_dir,
    retry_queue,
    set_retry_queue,
    state_path,
    trial_file,
    trial_files,
    trial_hashes,
    tried_hashes,
)
from kt_ext.oracles import _journal
from kt_ext.oracles._persistence import (
    COMPLETED,
    FAILED,
    JOURNAL_PLAN,
    RUNNING,
    STOPPED,
    check_state_file,
)
from kt_ext.oracles._plan import Round
from kt_ext.oracles._resume import (
    bound_changes,
    objective_json,
    resume_error,
    setting_changes,
    space_changes,
)
from kt_ext.oracles._state_version import STATE_VERSION, STATE_VERSION_KEY


def diverged_epoch(trial: trial_module.Trial, names: list[str]) -> int | None:
    """The first epoch (1-based) at which a metric in ``names`` was NaN or inf.

    Epochs are reported as Keras counts them (``step`` 0 is epoch 1); None if
    every value reported is finite.

    Example:
        >>> import keras_tuner
        >>> trial = trial_module.Trial(keras_tuner.HyperParameters(), "0")
        >>> _ = trial.metrics.update("loss", 0.5, step=0)
        >>> _ = trial.metrics.update("loss", float("nan"), step=1)
        >>> diverged_epoch(trial, ["val_loss", "loss"])
        2
    """
    first = None
    for name in names:
        if not trial.metrics.exists(name):
            continue
        for observation in trial.metrics.get_history(name):
            if not all(math.isfinite(value) for value in observation.value):
                epoch = int(observation.step) + 1
                first = epoch if first is None else min(first, epoch)
                break
    return first


def delegate(part: str, name: str, doc: str, settable: bool = False) -> property:
    """An oracle attribute that is ``name`` of the part held in ``part``."""

    def get(oracle: Any) -> Any:
        return getattr(getattr(oracle, part), name)

    def put(oracle: Any, value: Any) -> None:
        setattr(getattr(oracle, part), name, value)

    return property(get, put if settable else None, doc=doc)


class RoundState(OracleSeam):
    """The base of :class:`~kt_ext.oracles.RoundOracle`: its state and workers.

    It saves and reloads the state through the oracle's journal part
    (``self._journal``, a :class:`~kt_ext.oracles._persistence.StateJournal`),
    and answers the requests of workers through its release part
    (``self._release``, a :class:`~kt_ext.oracles._workers.WorkerRelease`);
    the epochs charged are the budget part's (``self._budget``). Parts are
    called only under the oracle's lock.
    """

    #: How the parts of the state that grow with the trials are journaled
    #: (see :class:`kt_ext.oracles._journal.StateDiff`); strategies add theirs.
    _journal_plan: ClassVar[dict[tuple[str, ...], str]] = JOURNAL_PLAN

    # -- saving ----------------------------------------------------------------

    def save(self) -> None:
        """Saves the state: a line of changes, or now and then a whole snapshot.

        ``oracle.json`` holds a complete state (written atomically), and
        ``oracle_journal.jsonl`` one line per later save with what changed
        (see :mod:`kt_ext.oracles._journal`), so a save costs the same at any
        number of trials. A kill mid-save loses that save only, as a kill
        before the rename of a whole file would.
        """
        self._journal.save(
            state_path(self),
            self.get_state(),
            started=self.start_order,
            ended=self.end_order,
            busy=self._busy_trials(),
            hashes=trial_hashes(self),
            tried=tried_hashes(self),
        )

    def _touch(self, trial_id: str) -> None:
        """Journals ``trial_id``'s per-trial state at the next save."""
        self._journal.touch(trial_id)

    def _busy_trials(self) -> set[str]:
        busy = {trial.trial_id for trial in self.ongoing_trials.values()}
        busy.update(retry_queue(self))
        return busy

    def save_trial_state(self, trial: trial_module.Trial) -> None:
        """Writes ``trial.json`` atomically (Keras Tuner writes it in place)."""
        _journal.write_json_atomically(
            trial_file(self, trial.trial_id), trial.get_state()
        )

    def after_reload(self) -> None:
        """Keeps finished trials finished, and reruns the one cut short.

        Keras Tuner 1.4 saves the oracle in ``end_trial`` before it drops the
        trial from the running ones, then sends every "running" trial of a
        reloaded search for a retry: the last finished trial would run twice.
        """
        # The next save starts a new snapshot (and drops a cut journal line).
        self._journal.restart()
        ended = (COMPLETED, FAILED)
        set_retry_queue(
            self,
            [
                trial_id
                for trial_id in retry_queue(self)
                if self.trials[trial_id].status not in ended
            ],
        )
        self._budget.interrupted = {
            trial_id
            for trial_id in retry_queue(self)
            if self.trials[trial_id].status == RUNNING
        }
        for trial_id in self._budget.interrupted:
            self._forget_partial_run(trial_id)

    def _forget_partial_run(self, trial_id: str) -> None:
        """Drops what an unfinished run of ``trial_id`` reported, before a rerun.

        Keras Tuner would average the rerun's epochs with the lost run's. The
        next save writes a whole snapshot, since entries are removed.
        """
        trial = self.trials[trial_id]
        trial.metrics = MetricsTracker()
        self._save_trial(trial)
        self._journal.restart()

    # -- workers ---------------------------------------------------------------

    @keras_tuner.synchronized
    def update_trial(
        self, trial_id: str, metrics: dict[str, float], step: int = 0
    ) -> trial_module.Trial:
        """Records metrics as Keras Tuner does, unless the trial has ended.

        A worker presumed dead that reports for a trial another worker has
        since finished gets the trial back with status STOPPED.
        """
        self._release.hear_from(trial_id, self.ongoing_trials)
        trial = self.trials[trial_id]
        if trial.status in (COMPLETED, FAILED) and not self._is_running(trial_id):
            answer = copy.copy(trial)
            answer.status = STOPPED
            return answer
        return super().update_trial(trial_id, metrics, step=step)

    @keras_tuner.synchronized
    def get_trial(self, trial_id: str) -> trial_module.Trial:
        """Returns the trial; from a worker, this is also its heartbeat."""
        self._release.hear_from(trial_id, self.ongoing_trials)
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
        handed_back = []
        workers = self.tuner_ids | set(self.ongoing_trials)
        for tuner_id, silent in self._release.silent(workers):
            self.tuner_ids.discard(tuner_id)
            trial = self.ongoing_trials.pop(tuner_id, None)
            if trial is None:
                continue
            print(
                f"Worker {tuner_id} silent for {silent:.0f} s: trial "
                f"{trial.trial_id} goes to the next worker that asks."
            )
            retry_queue(self).append(trial.trial_id)
            self._budget.interrupted.add(trial.trial_id)
            self._forget_partial_run(trial.trial_id)
            handed_back.append(trial.trial_id)
        if handed_back:
            self.save()
        return handed_back

    def _accepts_end(self, trial_id: str) -> bool:
        """Whether a report that ``trial_id`` ended is taken (see end_trial).

        A worker presumed dead that finishes after all is taken at its word if
        no other worker has finished its trial yet (the first report wins).
        """
        return self._is_running(trial_id) or trial_id in retry_queue(self)

    def _is_running(self, trial_id: str) -> bool:
        return any(trial.trial_id == trial_id for trial in self.ongoing_trials.values())

    # -- state -----------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        plan = self._plan.get_state()
        rounds = plan.pop("rounds")
        budget = self._budget.get_state()
        budget = {
            "epoch_budget": budget.pop("epoch_budget"),
            "max_trials": self.max_trials,
            **budget,
        }
        state.update(
            {
                "objective": objective_json(self.objective),
                "seed": self.seed,
                **plan,
                **budget,
                "declared_entries": self._declared_entries,
                "space": self.space,
                "rounds": rounds,
                "epochs_trained": self._budget.trained,
                "rng": self._rng.bit_generator.state,
                **self._promotion.get_state(),
                # The format's version: a newer one is refused on reload
                # (see :mod:`kt_ext.oracles._state_version`).
                STATE_VERSION_KEY: STATE_VERSION,
            }
        )
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.seed = state["seed"]
        # A resumed search keeps the budget and max_trials it is given now, so
        # it can be extended (see `read_state`). The folds of a cross-validated
        # search: search(cv=...) checks that a rerun gives the same cv.
        self._budget.set_state(state)
        self._declared_entries = state.get("declared_entries")
        self.space = state["space"]
        # A rerun with a larger budget may pay for what the saved search's
        # last round could not.
        self._plan.set_state(state, reopen=self._budget.grew(state))
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]
        self._promotion.set_state(state)

    def read_state(self) -> dict[str, Any]:
        """The saved state, if this oracle's settings are the saved search's.

        The state is ``oracle.json`` with its journal replayed; every trial
        file is checked.

        Raises:
            ValueError: A state file is not valid JSON; it names the file, and
                nothing is deleted (rather than a silent fresh start).
            ValueError: A setting of ``_resume_settings``, or a declared entry
                of the search space, differs from the saved search's, or
                ``epoch_budget`` / ``max_trials`` is below what it already
                spent. The message names each, with its saved and its given
                value. Nothing is read into the oracle, nothing is written.
        """
        state = _journal.read_state(state_path(self))
        for path in trial_files(self):
            check_state_file(path)
        given = self.get_state()
        # Saved before `promotion` existed: the search was synchronous.
        state.setdefault("promotion", "sync")
        saved_declared = state.get("declared_entries")
        changes = setting_changes(
            state, given, self._resume_settings, self._unset_settings
        )
        changes += space_changes(
            state["hyperparameters"]["space"],
            given["hyperparameters"]["space"],
            saved_declared if self._space_declared else None,
        )
        changes += bound_changes(
            state,
            # A default budget grows with the saved search's folds.
            epoch_budget=self._budget.limit_for(state),
            max_trials=self.max_trials,
            epochs_spent=self._budget.spent(state),
            trials_run=len(state["start_order"]),
        )
        if changes:
            raise resume_error(project_dir(self), changes)
        if saved_declared is None and self._space_declared:
            # Saved by an older kt_ext: what is declared now was declared then.
            state["declared_entries"] = self._entry_names()
        return state

    # -- the epoch budget (a part: self._budget) -------------------------------

    # -- the round plan (a part: self._plan) ----------------------------------

    min_epochs = delegate(
        "_plan", "min_epochs", "Epochs of the first round's trials.", True
    )
    max_epochs = delegate("_plan", "max_epochs", "Epochs of the longest trial.", True)
    factor = delegate("_plan", "factor", "Epochs grow by this factor.", True)
    rounds = delegate("_plan", "rounds", "The rounds so far (Round records).", True)

    epoch_budget = delegate(
        "_budget", "limit", "Epochs to train in all, every model counted.", True
    )
    executions_per_trial = delegate(
        "_budget", "executions_per_trial", "Models per fold (the tuner sets it).", True
    )
    cv_folds = delegate("_budget", "cv_folds", "Folds of ``search(cv=...)``.")
    fold_assignment = delegate(
        "_budget", "fold_assignment", "The fold split as JSON (for resumed runs)."
    )
    epochs_trained = delegate(
        "_budget", "trained", "Trial id -> epochs trained (planned while running)."
    )
    models_per_trial = delegate(
        "_budget", "models_per_trial", "``executions_per_trial`` times the folds."
    )
    fold_budget = delegate(
        "_budget", "fold_budget", "The epoch budget in one fold's epochs."
    )
    worker_timeout = delegate(
        "_release",
        "timeout",
        "Seconds of silence before a worker counts as dead.",
        True,
    )
    epochs_used = delegate(
        "_budget", "used", "Epochs trained or reserved, times executions and folds."
    )

    def check_epoch_budget(self) -> None:
        """Raises unless ``epoch_budget`` pays for one trial of the first round.

        The tuner calls it once it has set ``executions_per_trial``.

        Raises:
            ValueError: Naming ``epoch_budget`` and the smallest that works.
        """
        self._budget.check(self.min_epochs)

    def set_folds(self, folds: int, assignment: dict[str, Any] | None) -> None:
        """Makes every trial train ``folds`` models (one per fold of ``cv``).

        The tuner calls it in ``search(cv=...)`` before any trial; a default
        epoch budget (neither ``epoch_budget`` nor ``max_trials`` given)
        grows by ``folds``. ``assignment``
        (:class:`kt_ext.model_selection._split.FoldAssignment` as JSON) is kept
        in the state, for resumed runs and workers.
        """
        self._budget.set_folds(folds, assignment)

    def charge_epochs(self, trial_id: str, epochs_trained: int) -> None:
        """Records that ``trial_id`` trained fewer epochs than planned."""
        self._budget.charge(trial_id, epochs_trained)
        self._touch(trial_id)

    def _cheapest(self, upcoming: Round) -> int:
        """What the first trial of ``upcoming`` costs (a carried one first)."""
        start = 0
        if upcoming.carry:
            start = self.trials[upcoming.carry[0]].hyperparameters.values[
                "tuner/epochs"
            ]
        return (upcoming.epochs - start) * self._budget.models_per_trial
