"""Saving and reloading a round-based oracle: a snapshot plus a journal.

:class:`JournaledOracle` writes the oracle's state as ``oracle.json`` and an
append-only ``oracle_journal.jsonl`` of changes (see
:mod:`kt_ext.oracles._journal`), so a save costs the same at any number of
trials, and reloads it so that a search goes on where it stopped, also after a
kill -9: finished trials are not run again (Keras Tuner 1.4 would re-run the
last one), and a trial that was cut short runs again, scored on its new run
only and without its epochs being charged twice.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, ClassVar

from keras_tuner.engine import trial as trial_module

from kt_ext._internal.seam_oracle import (
    MetricsTracker,
    OracleSeam,
    retry_queue,
    set_retry_queue,
    state_path,
    trial_file,
    trial_files,
    trial_hashes,
    tried_hashes,
)
from kt_ext.oracles import _journal
from kt_ext.oracles._state_version import STATE_VERSION, STATE_VERSION_KEY

# Trial statuses, by their short names, for every room of the oracles.
RUNNING = trial_module.TrialStatus.RUNNING
IDLE = trial_module.TrialStatus.IDLE
STOPPED = trial_module.TrialStatus.STOPPED
COMPLETED = trial_module.TrialStatus.COMPLETED
FAILED = trial_module.TrialStatus.FAILED


def check_state_file(path: str) -> None:
    """Raises a ``ValueError`` naming ``path`` if it is not valid JSON.

    Nothing is deleted; a missing file, or a remote one, is not checked.
    """
    if "://" in path or not os.path.exists(path):
        return
    try:
        with open(path, encoding="utf-8") as handle:
            json.load(handle)
    except json.JSONDecodeError as error:
        raise _journal.corrupt_error(path, error) from error


class JournaledOracle(OracleSeam):
    """An oracle saved as a snapshot and a journal, reloaded without reruns.

    Subclasses extend :attr:`_journal_plan` with the parts of their state that
    grow with the trials, and call :meth:`_touch` when they change another
    trial's per-trial state than the one starting or ending.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        self._journal: _journal.Journal | None = None
        self._state_diff: _journal.StateDiff | None = None
        # Trials whose per-trial state changed outside their own start or end.
        self._touched: set[str] = set()
        # What the last save covered: started and ended trials, the busy ones,
        # and each trial's configuration hash.
        self._journal_marks: tuple[int, int, set[str], dict[str, Any]] = (
            0,
            0,
            set(),
            {},
        )
        # Trials cut short (a crash, a dead worker): run again, charged once.
        self._interrupted: set[str] = set()
        super().__init__(*args, **kwargs)

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

    def get_state(self) -> dict[str, Any]:
        """Keras Tuner's state, with the format's ``state_version``.

        Reading a state of a version this kt_ext does not know is refused
        (see :mod:`kt_ext.oracles._state_version`).
        """
        return {**super().get_state(), STATE_VERSION_KEY: STATE_VERSION}

    def save(self) -> None:
        """Saves the state: a line of changes, or now and then a whole snapshot.

        ``oracle.json`` holds a complete state (written atomically), and
        ``oracle_journal.jsonl`` one line per later save with what changed
        (see :mod:`kt_ext.oracles._journal`), so a save costs the same at any
        number of trials. A kill mid-save loses that save only, as a kill
        before the rename of a whole file would.
        """
        path = state_path(self)
        journal = self._journal
        if journal is None or journal.snapshot_path != path:
            journal = self._journal = _journal.Journal(path)
            self._state_diff = _journal.StateDiff(self._journal_plan)
        state = self.get_state()
        members = {("tried_so_far",): (tried_hashes(self), self._hashes_of)}
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
        self._touched.add(trial_id)

    def _dirty_trials(self) -> set[str]:
        """Trials whose per-trial state may have changed since the last save."""
        started, ended, busy, _ = self._journal_marks
        dirty = set(self.start_order[started:])
        dirty.update(self.end_order[ended:])
        dirty.update(busy)
        dirty.update(self._busy_trials())
        dirty.update(self._touched)
        return dirty

    def _busy_trials(self) -> set[str]:
        busy = {trial.trial_id for trial in self.ongoing_trials.values()}
        busy.update(retry_queue(self))
        return busy

    def _hashes_of(self, trial_ids: Iterable[str]) -> set[str]:
        """The tried-configuration hashes that ``trial_ids`` may have changed."""
        saved = self._journal_marks[3]
        hashes = set()
        for trial_id in trial_ids:
            hashes.add(trial_hashes(self).get(trial_id))
            hashes.add(saved.get(trial_id))
        hashes.discard(None)
        return hashes

    def _mark_saved(self, *, full: bool) -> None:
        if full:
            hashes = dict(trial_hashes(self))
        else:
            hashes = self._journal_marks[3]
            for trial_id in self._dirty_trials():
                hashes[trial_id] = trial_hashes(self).get(trial_id)
        self._journal_marks = (
            len(self.start_order),
            len(self.end_order),
            self._busy_trials(),
            hashes,
        )
        self._touched.clear()

    def save_trial_state(self, trial: trial_module.Trial) -> None:
        """Writes ``trial.json`` atomically (Keras Tuner writes it in place)."""
        _journal.write_json_atomically(
            trial_file(self, trial.trial_id), trial.get_state()
        )

    def read_state(self) -> dict[str, Any]:
        """``oracle.json`` with its journal replayed, every trial file checked.

        Raises:
            ValueError: A state file is not valid JSON; it names the file, and
                nothing is deleted (rather than a silent fresh start).
        """
        state = _journal.read_state(state_path(self))
        for path in trial_files(self):
            check_state_file(path)
        return state

    def after_reload(self) -> None:
        """Keeps finished trials finished, and reruns the one cut short.

        Keras Tuner 1.4 saves the oracle in ``end_trial`` before it drops the
        trial from the running ones, then sends every "running" trial of a
        reloaded search for a retry: the last finished trial would run twice.
        """
        # The next save starts a new snapshot (and drops a cut journal line).
        self._journal = None
        ended = (COMPLETED, FAILED)
        set_retry_queue(
            self,
            [
                trial_id
                for trial_id in retry_queue(self)
                if self.trials[trial_id].status not in ended
            ],
        )
        self._interrupted = {
            trial_id
            for trial_id in retry_queue(self)
            if self.trials[trial_id].status == RUNNING
        }
        for trial_id in self._interrupted:
            self._forget_partial_run(trial_id)

    def _forget_partial_run(self, trial_id: str) -> None:
        """Drops what an unfinished run of ``trial_id`` reported, before a rerun.

        Keras Tuner would average the rerun's epochs with the lost run's. The
        next save writes a whole snapshot, since entries are removed.
        """
        trial = self.trials[trial_id]
        trial.metrics = MetricsTracker()
        self._save_trial(trial)
        self._journal = None
