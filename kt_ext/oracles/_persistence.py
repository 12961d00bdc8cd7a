"""Saving a round-based oracle: a snapshot plus a journal, as a part.

:class:`StateJournal` writes the oracle's state as ``oracle.json`` and an
append-only ``oracle_journal.jsonl`` of changes (see
:mod:`kt_ext.oracles._journal`), so a save costs the same at any number of
trials. The oracle holds one and calls it under its lock; reloading (finished
trials not run again, a trial cut short run again and charged once) is the
oracle's, in :mod:`kt_ext.oracles._round_state`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any

from keras_tuner.engine import trial as trial_module

from kt_ext.oracles import _journal

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


class StateJournal:
    """Saves an oracle's state as a snapshot and a journal of changes.

    It owns the open journal file, what the last save covered (started and
    ended trials, the busy ones, each trial's configuration hash) and the
    trials touched since; the oracle hands it the state and its trial lists
    at each save, under the oracle's lock.

    Args:
        plan: How the parts of the state that grow with the trials are
            journaled (see :class:`kt_ext.oracles._journal.StateDiff`).

    Example:
        >>> import os, tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "oracle.json")
        >>> journal = StateJournal({("order",): _journal.APPEND})
        >>> for order in (["0"], ["0", "1"]):
        ...     journal.save(path, {"order": order}, started=order, ended=[],
        ...                  busy=set(), hashes={}, tried=set())
        >>> _journal.read_state(path)["order"]
        ['0', '1']
    """

    def __init__(self, plan: dict[tuple[str, ...], str]) -> None:
        self.plan = dict(plan)
        self._file: _journal.Journal | None = None
        self._diff = _journal.StateDiff(self.plan)
        # Trials whose per-trial state changed outside their own start or end.
        self._touched: set[str] = set()
        # What the last save covered: started and ended trials, the busy ones,
        # and each trial's configuration hash.
        self._marks: tuple[int, int, set[str], dict[str, Any]] = (0, 0, set(), {})

    @property
    def generation(self) -> str | None:
        """The generation of the snapshot the journal now appends to."""
        return None if self._file is None else self._file.generation

    def touch(self, trial_id: str) -> None:
        """Journals ``trial_id``'s per-trial state at the next save.

        Trials that start, run, wait for a retry or end are journaled anyway;
        code that changes the per-trial state of another trial calls this.
        """
        self._touched.add(trial_id)

    def restart(self) -> None:
        """Makes the next save a whole snapshot (entries were removed)."""
        self._file = None

    def save(
        self,
        path: str,
        state: dict[str, Any],
        *,
        started: list[str],
        ended: list[str],
        busy: set[str],
        hashes: dict[str, Any],
        tried: set[str],
    ) -> None:
        """Saves ``state``: a line of changes, or now and then a whole snapshot.

        Args:
            path: The ``oracle.json`` file.
            state: What ``get_state`` returns.
            started: Trial ids in the order they started.
            ended: Trial ids in the order they ended.
            busy: Trials running or waiting for a retry.
            hashes: Trial id -> its configuration's hash.
            tried: The hashes of the configurations tried.
        """
        if self._file is None or self._file.snapshot_path != path:
            self._file = _journal.Journal(path)
            self._diff = _journal.StateDiff(self.plan)
        members: dict[tuple[str, ...], tuple[set[Any], Any]] = {
            ("tried_so_far",): (tried, lambda ids: self._hashes_of(ids, hashes))
        }
        try:
            if not self._file.needs_snapshot():
                dirty = self._dirty(started, ended, busy)
                change = self._diff.changes(state, dirty, members)
                if change is not None:
                    if change:
                        self._file.append(change)
                    self._mark(started, ended, busy, hashes, full=False)
                    return
            self._file.write_snapshot(state)
            self._diff.reset(state, members)
            self._mark(started, ended, busy, hashes, full=True)
        except BaseException:
            # What was written is unknown: the next save writes a snapshot.
            self._file = None
            raise

    def _dirty(self, started: list[str], ended: list[str], busy: set[str]) -> set[str]:
        """Trials whose per-trial state may have changed since the last save."""
        started_at, ended_at, was_busy, _ = self._marks
        dirty = set(started[started_at:])
        dirty.update(ended[ended_at:])
        dirty.update(was_busy)
        dirty.update(busy)
        dirty.update(self._touched)
        return dirty

    def _hashes_of(self, trial_ids: Iterable[str], hashes: dict[str, Any]) -> set[str]:
        """The tried-configuration hashes that ``trial_ids`` may have changed."""
        saved = self._marks[3]
        found: set[str] = set()
        for trial_id in trial_ids:
            for known in (hashes.get(trial_id), saved.get(trial_id)):
                if known is not None:
                    found.add(known)
        return found

    def _mark(self, started, ended, busy, hashes, *, full: bool) -> None:
        if full:
            marked = dict(hashes)
        else:
            marked = self._marks[3]
            for trial_id in self._dirty(started, ended, busy):
                marked[trial_id] = hashes.get(trial_id)
        self._marks = (len(started), len(ended), set(busy), marked)
        self._touched.clear()


#: How the parts of a round oracle's state that grow with the trials are
#: journaled; strategies add theirs.
JOURNAL_PLAN: dict[tuple[str, ...], str] = {
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
