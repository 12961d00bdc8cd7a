"""An oracle's state on disk: a snapshot plus an append-only journal of changes.

Keras Tuner rewrites the whole ``oracle.json`` whenever a trial starts or
ends. Its lists (trial ids in start and end order, tried configurations, a
kt_ext oracle's rounds and histories) grow with the trials, so every decision
would cost more as the search grows. kt_ext oracles write instead:

- ``oracle.json``: a complete state, exactly what ``get_state`` returns (so
  Keras Tuner and older readers still find every key), plus
  ``"journal_generation"``, written atomically (temporary file and rename);
- ``oracle_journal.jsonl``: one JSON line per later save, holding only what
  changed since the previous save, tagged with the snapshot's generation.

A save appends one line. When the journal outgrows the snapshot, a new
snapshot replaces both, so the cost per save stays flat (amortized).
Reading replays the journal's complete lines of the snapshot's generation on
the snapshot. A kill mid-append leaves a last line without its newline: it is
ignored (the save did not happen, as with a kill before the rename of a
snapshot); a kill between a new snapshot and the journal's truncation leaves
lines of the old generation: they are ignored too. A line that is complete
but not valid JSON is corruption, reported with the file's name.

A change is a list of operations ``[op, path, value]``, where ``path`` is a
list of keys (dict keys, or list indices) into the state:

- ``["set", path, value]``: ``state[path] = value``; an index one past a
  list's end appends;
- ``["extend", path, items]``: extends the list at ``path``;
- ``["update", path, mapping]``: updates the dict at ``path``;
- ``["members", path, {item: bool}]``: adds (True) or removes (False) items of
  the list at ``path`` taken as a set.

Missing containers along ``path`` are created. :func:`apply_change` and
:func:`read_state` are pure of any oracle; :class:`Journal` writes the files.
"""

from __future__ import annotations

import json
import os
import secrets
from collections.abc import Sequence
from typing import Any

from kt_ext._internal.seam_oracle import save_json
from kt_ext.errors import ResumeError
from kt_ext.oracles._state_version import check_state_version

#: Key of the snapshot's generation in ``oracle.json``.
GENERATION_KEY = "journal_generation"

#: The journal's file name, next to ``oracle.json``.
JOURNAL_NAME = "oracle_journal.jsonl"

#: Journals smaller than this are never compacted (bytes).
MIN_COMPACT_BYTES = 256 * 1024

Operation = list  # [op, path, value]


def journal_path(snapshot_path: str) -> str:
    """The journal file that goes with a snapshot file.

    Example:
        >>> journal_path(os.path.join("project", "oracle.json")) == os.path.join(
        ...     "project", "oracle_journal.jsonl")
        True
    """
    return os.path.join(os.path.dirname(snapshot_path), JOURNAL_NAME)


def _container(state: Any, path: Sequence[Any], leaf: type) -> Any:
    node = state
    for depth, key in enumerate(path):
        kind = leaf if depth == len(path) - 1 else dict
        if isinstance(node, list):
            key = int(key)
            if key == len(node):
                node.append(kind())
        elif key not in node or node[key] is None:
            node[key] = kind()
        node = node[key]
    return node


def apply_change(state: dict[str, Any], change: Sequence[Operation]) -> None:
    """Applies a journal line's operations to ``state``, in place.

    Args:
        state: A state as ``get_state`` returns it (plain JSON).
        change: Operations ``[op, path, value]`` (see the module's docstring).

    Raises:
        ValueError: An operation is unknown.

    Example:
        >>> state = {"order": ["0"], "rounds": [{"ids": ["0"]}], "seen": ["a"]}
        >>> apply_change(state, [
        ...     ["extend", ["order"], ["1"]],
        ...     ["extend", ["rounds", 0, "ids"], ["1"]],
        ...     ["set", ["rounds", 1], {"ids": []}],
        ...     ["update", ["epochs"], {"1": 3}],
        ...     ["members", ["seen"], {"a": False, "b": True}],
        ... ])
        >>> state["order"], state["rounds"], state["epochs"], state["seen"]
        (['0', '1'], [{'ids': ['0', '1']}, {'ids': []}], {'1': 3}, ['b'])
    """
    for op, path, value in change:
        if op == "set":
            parent = _container(state, path[:-1], dict)
            key = path[-1]
            if isinstance(parent, list):
                key = int(key)
                if key == len(parent):
                    parent.append(value)
                    continue
            parent[key] = value
        elif op == "extend":
            _container(state, path, list).extend(value)
        elif op == "update":
            _container(state, path, dict).update(value)
        elif op == "members":
            items = _container(state, path, list)
            kept = {item: True for item in items}
            for item, present in value.items():
                if present:
                    kept[item] = True
                else:
                    kept.pop(item, None)
            items[:] = list(kept)
        else:
            raise ValueError(f"Unknown journal operation {op!r}.")


def corrupt_error(path: str, error: Exception) -> ResumeError:
    """The error for a state file that is not valid JSON; it names the file."""
    return ResumeError(
        f"The search state file {path!r} is corrupt ({error}).", "Restore it"
    )


def read_state(snapshot_path: str) -> dict[str, Any]:
    """The latest saved state: the snapshot with its journal replayed.

    Args:
        snapshot_path: The ``oracle.json`` file.

    Returns:
        The state, as ``get_state`` returned it at the last complete save
        (with the snapshot's ``"journal_generation"`` key).

    Raises:
        ValueError: The snapshot, or a complete line of the journal, is not
            valid JSON, or the snapshot's ``state_version`` is newer than this
            kt_ext's (see :func:`check_state_version`); the message names the
            file.

    Example:
        >>> import tempfile
        >>> snapshot = os.path.join(tempfile.mkdtemp(), "oracle.json")
        >>> journal = Journal(snapshot)
        >>> journal.write_snapshot({"order": ["0"]})
        >>> journal.append([["extend", ["order"], ["1"]]])
        >>> read_state(snapshot)["order"]
        ['0', '1']
    """
    with _open(snapshot_path) as handle:
        text = handle.read()
    try:
        state = json.loads(text)
    except json.JSONDecodeError as error:
        raise corrupt_error(snapshot_path, error) from error
    check_state_version(snapshot_path, state)
    generation = state.get(GENERATION_KEY) if isinstance(state, dict) else None
    journal = journal_path(snapshot_path)
    if generation is None or not _exists(journal):
        return state
    with _open(journal) as handle:
        lines = handle.read().split("\n")
    # The last piece has no newline: empty, or a save cut short by a kill.
    for line in lines[:-1]:
        try:
            entry = json.loads(line)
            tagged, change = entry["g"], entry["ops"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise corrupt_error(journal, error) from error
        if tagged == generation:
            apply_change(state, change)
    return state


def _open(path: str) -> Any:
    if "://" in path:
        import tensorflow as tf

        return tf.io.gfile.GFile(path, "r")
    return open(path, encoding="utf-8")


def _exists(path: str) -> bool:
    if "://" in path:
        import tensorflow as tf

        return tf.io.gfile.exists(path)
    return os.path.exists(path)


def write_json_atomically(path: str, obj: Any) -> None:
    """Writes ``obj`` as JSON to ``path`` through a temporary file and a rename.

    Paths with a scheme (``gs://...``) go through Keras Tuner's own writer.

    Example:
        >>> import tempfile
        >>> path = os.path.join(tempfile.mkdtemp(), "state.json")
        >>> write_json_atomically(path, {"round": 1})
        >>> open(path).read()
        '{"round": 1}'
    """
    if "://" in path:
        save_json(path, obj)
        return
    text = json.dumps(obj)
    temporary = f"{path}.{os.getpid()}.tmp"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


class Journal:
    """Writes a state as a snapshot, then its changes as appended lines.

    Args:
        snapshot_path: The ``oracle.json`` file; the journal lies next to it.

    Example:
        >>> import tempfile
        >>> snapshot = os.path.join(tempfile.mkdtemp(), "oracle.json")
        >>> journal = Journal(snapshot)
        >>> journal.needs_snapshot()
        True
        >>> journal.write_snapshot({"seen": []})
        >>> journal.append([["members", ["seen"], {"a": True}]])
        >>> read_state(snapshot)["seen"]
        ['a']
    """

    def __init__(self, snapshot_path: str) -> None:
        self.snapshot_path = snapshot_path
        self.journal_path = journal_path(snapshot_path)
        self.generation: str | None = None
        self._snapshot_bytes = 0
        self._journal_bytes = 0
        # Remote paths cannot be appended to: every save is a snapshot there.
        self._appendable = "://" not in snapshot_path

    def needs_snapshot(self) -> bool:
        """Whether the next save must be a snapshot (none yet, or compaction)."""
        if self.generation is None or not self._appendable:
            return True
        return self._journal_bytes > max(MIN_COMPACT_BYTES, self._snapshot_bytes)

    def write_snapshot(self, state: dict[str, Any]) -> None:
        """Writes ``state`` as the new snapshot, then empties the journal."""
        generation = secrets.token_hex(8)
        snapshot = {**state, GENERATION_KEY: generation}
        write_json_atomically(self.snapshot_path, snapshot)
        if self._appendable:
            # Lines of the old generation no longer apply; a kill before this
            # truncation leaves only such lines.
            with open(self.journal_path, "w", encoding="utf-8"):
                pass
            self._snapshot_bytes = os.path.getsize(self.snapshot_path)
        self.generation = generation
        self._journal_bytes = 0

    def append(self, change: Sequence[Operation]) -> None:
        """Appends one line with ``change`` (one ``write``: all or a cut line)."""
        line = json.dumps({"g": self.generation, "ops": change}) + "\n"
        data = line.encode("utf-8")
        descriptor = os.open(self.journal_path, os.O_WRONLY | os.O_APPEND)
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(descriptor, view) :]
        finally:
            os.close(descriptor)
        self._journal_bytes += len(data)


#: How :class:`StateDiff` follows a part of the state (see its docstring).
APPEND, PER_TRIAL, PER_TRIAL_NESTED, MEMBERS, GROWING_TAIL = (
    "append",
    "per_trial",
    "per_trial_nested",
    "members",
    "growing_tail",
)

_MISSING = object()


def _text(value: Any) -> str:
    return json.dumps(value, sort_keys=True)


class StateDiff:
    """The operations that turn the last saved state into the current one.

    Parts of the state that grow with the trials are named in ``plan`` (a path
    of keys to a kind); everything else is compared with what was last saved,
    as JSON text, and written whole when it differs. The kinds:

    - ``"append"``: a list that only grows; new items are appended;
    - ``"per_trial"``: a dict keyed by trial id whose entries change only for
      *dirty* trials (given at each call: those created, running, queued for a
      retry or ended since the last save); their entries are rewritten;
    - ``"per_trial_nested"``: a dict of such dicts (e.g. by epoch);
    - ``"members"``: a list that is a set of items; the items that may come or
      go are ``members_of(dirty)``, given at each call, with the live set;
    - ``"growing_tail"``: a list of dicts that only grows, where only the item
      that was last when last saved may still change, and its lists only grow.

    When a part breaks its kind's promise in a way that is cheap to see (a list
    shrank, a dict lost an entry or gained one for a trial that is not dirty),
    :meth:`changes` returns None: write a snapshot instead.

    Args:
        plan: Path (tuple of keys) to kind.

    Example:
        >>> diff = StateDiff({("order",): "append", ("epochs",): "per_trial"})
        >>> state = {"order": ["0"], "epochs": {"0": 1}, "seed": 1}
        >>> diff.reset(state)
        >>> state["order"].append("1")
        >>> state["epochs"]["1"] = 3
        >>> diff.changes(state, dirty={"1"})
        [['extend', ['order'], ['1']], ['update', ['epochs'], {'1': 3}]]
    """

    def __init__(self, plan: dict[tuple[str, ...], str]) -> None:
        self.plan = dict(plan)
        self._prefixes = {path[:depth] for path in plan for depth in range(len(path))}
        self._saved: dict[tuple[Any, ...], Any] = {}

    def reset(self, state: dict[str, Any], members: dict | None = None) -> None:
        """Takes ``state`` as saved (after a snapshot)."""
        self._saved = {}
        self._walk(state, (), None, members or {}, self._saved, [])

    def changes(
        self,
        state: dict[str, Any],
        dirty: set[str],
        members: dict[tuple[str, ...], tuple[set, Any]] | None = None,
    ) -> list[Operation] | None:
        """Operations from the last saved state to ``state``; None: snapshot.

        Args:
            state: The current state.
            dirty: Trial ids whose per-trial entries may have changed.
            members: For each ``"members"`` path: the live set and a function
                of the dirty trial ids giving the items that may have changed.

        Returns:
            The operations (possibly none), and takes ``state`` as saved; or
            None when a snapshot is needed: write it, then call :meth:`reset`.
        """
        saved: dict[tuple[Any, ...], Any] = {}
        ops: list[Operation] = []
        try:
            self._walk(state, (), dirty, members or {}, saved, ops)
        except _Broken:
            return None
        self._saved.update(saved)
        return ops

    # -- walking the state -----------------------------------------------------

    def _walk(self, node, path, dirty, members, saved, ops) -> None:
        for key, value in node.items():
            here = (*path, key)
            kind = self.plan.get(here)
            if kind is not None:
                getattr(self, f"_{kind}")(here, value, dirty, members, saved, ops)
            elif here in self._prefixes and isinstance(value, dict):
                self._walk(value, here, dirty, members, saved, ops)
            else:
                text = _text(value)
                if dirty is not None and self._saved.get(here) != text:
                    ops.append(["set", list(here), value])
                saved[here] = text

    def _append(self, path, value, dirty, members, saved, ops) -> None:
        before = self._saved.get(path, (0, None)) if dirty is not None else None
        tail = _text(value[-1]) if value else None
        saved[path] = (len(value), tail)
        if before is None:
            return
        length, last = before
        if len(value) < length:
            raise _Broken
        # The item last saved must be unchanged (encoded once when still last:
        # an item may be large, e.g. a round's trial ids).
        if (
            length
            and (tail if length == len(value) else _text(value[length - 1])) != last
        ):
            raise _Broken
        if len(value) > length:
            ops.append(["extend", list(path), value[length:]])

    def _per_trial(self, path, value, dirty, members, saved, ops) -> None:
        if dirty is None:
            saved[path] = set(value)
            return
        keys = self._saved.get(path, set())
        update = {tid: value[tid] for tid in dirty if tid in value}
        added = [tid for tid in update if tid not in keys]
        gone = [tid for tid in dirty if tid in keys and tid not in value]
        if gone or len(value) != len(keys) + len(added):
            raise _Broken
        keys.update(added)
        saved[path] = keys
        if update:
            ops.append(["update", list(path), update])

    def _per_trial_nested(self, path, value, dirty, members, saved, ops) -> None:
        if dirty is None:
            saved[path] = set(value)
        elif not self._saved.get(path, set()) <= value.keys():
            raise _Broken
        else:
            saved[path] = set(value)
        for key, inner in value.items():
            self._per_trial((*path, key), inner, dirty, members, saved, ops)

    def _members(self, path, value, dirty, members, saved, ops) -> None:
        live, members_of = members[path]
        if dirty is None:
            saved[path] = set(live)
            return
        known = self._saved.get(path, set())
        change = {item: item in live for item in members_of(dirty)}
        change = {item: now for item, now in change.items() if now != (item in known)}
        size = len(known) + sum(1 if now else -1 for now in change.values())
        if size != len(live):
            raise _Broken
        for item, now in change.items():
            if now:
                known.add(item)
            else:
                known.discard(item)
        saved[path] = known
        if change:
            ops.append(["members", list(path), change])

    def _growing_tail(self, path, value, dirty, members, saved, ops) -> None:
        items = self._saved.get(path, (0, None)) if dirty is not None else None
        last = value[-1] if value else None
        shape = (
            {
                key: (len(v), _text(v[-1]) if v else None)
                if isinstance(v, list)
                else _text(v)
                for key, v in last.items()
            }
            if isinstance(last, dict)
            else _text(last)
        )
        saved[path] = (len(value), shape)
        if items is None:
            return
        length, before = items
        if len(value) < length:
            raise _Broken
        if length:
            ops.extend(
                self._item_changes([*path, length - 1], value[length - 1], before)
            )
        for index in range(length, len(value)):
            ops.append(["set", [*path, index], value[index]])

    @staticmethod
    def _item_changes(path, item, before) -> list[Operation]:
        if not isinstance(item, dict) or not isinstance(before, dict):
            if _text(item) == before:
                return []
            raise _Broken
        ops: list[Operation] = []
        for key, value in item.items():
            old = before.get(key, _MISSING)
            if isinstance(value, list) and isinstance(old, tuple):
                length, last = old
                if len(value) < length or (length and _text(value[length - 1]) != last):
                    raise _Broken
                if len(value) > length:
                    ops.append(["extend", [*path, key], value[length:]])
            elif old is _MISSING or _text(value) != old:
                ops.append(["set", [*path, key], value])
        return ops


class _Broken(Exception):
    """A planned part changed in a way its kind does not allow."""
