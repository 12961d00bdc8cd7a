"""What a rerun on a saved search may change, and the error when it changes more.

A rerun with ``overwrite=False`` resumes the search saved in the project. It
must be given the settings that search was run with: the objective, the
epochs, ``executions_per_trial``, the seed, the strategy's own knobs and the
declared entries of the search space. Each oracle lists where its state keeps
each such setting (``RoundOracle._resume_settings``, a path of keys per
name), so a new setting is one line there. The bounds may grow, or shrink
while they stay above what was already spent: ``epoch_budget``,
``max_trials``.

The functions here are pure: they compare two states (what was saved, and
what the rerun's oracle would save before reloading) and say what differs.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Iterable, Mapping
from typing import Any, NamedTuple

from kt_ext._internal.names import is_bookkeeping

ABSENT = "absent"

_MISSING = object()


class Change(NamedTuple):
    """A setting of the rerun that differs from the saved search's.

    Attributes:
        name: The argument (or, for the search space, the entry's name).
        saved: How the saved search has it, as written in the message.
        given: How the rerun gives it, as written in the message.
        note: Why it cannot be resumed, when the values alone do not say.
    """

    name: str
    saved: str
    given: str
    note: str = ""

    def line(self) -> str:
        """The change as one line of the error message."""
        text = f"  - `{self.name}`: saved {self.saved}, given {self.given}"
        return f"{text} ({self.note})" if self.note else text


def _at(state: Mapping[str, Any], path: Iterable[str]) -> Any:
    node: Any = state
    for key in path:
        if not isinstance(node, Mapping) or key not in node:
            return _MISSING
        node = node[key]
    return node


def _plain(value: Any) -> Any:
    """``value`` as JSON reads it back (tuples become lists, and so on)."""
    return json.loads(json.dumps(value))


def _shown(name: str, value: Any) -> str:
    if name == "objective" and isinstance(value, dict):
        parts = value.get("objectives") or [value]
        return ", ".join(f"{part['name']!r} ({part['direction']})" for part in parts)
    return repr(value)


def setting_changes(
    saved: Mapping[str, Any],
    given: Mapping[str, Any],
    paths: Mapping[str, tuple[str, ...]],
    unset: Collection[str] = (),
) -> list[Change]:
    """The settings whose value in ``given`` differs from that in ``saved``.

    Args:
        saved: The saved state.
        given: The state of the rerun's oracle, before it reloads.
        paths: For each setting, the keys that lead to it in a state.
        unset: Settings the rerun left to their default (``seed=None``): not
            compared.

    Returns:
        One :class:`Change` per differing setting, in the order of ``paths``.
        A setting missing from ``saved`` (a search saved by an older kt_ext)
        is not compared.

    Example:
        >>> setting_changes({"max_epochs": 9}, {"max_epochs": 27},
        ...                 {"max_epochs": ("max_epochs",)})
        [Change(name='max_epochs', saved='9', given='27', note='')]
    """
    changes = []
    for name, path in paths.items():
        old, new = _at(saved, path), _at(given, path)
        if name in unset or old is _MISSING or new is _MISSING:
            continue
        if _plain(old) != _plain(new):
            changes.append(Change(name, _shown(name, old), _shown(name, new)))
    return changes


def objective_json(objective: Any) -> dict[str, Any]:
    """A Keras Tuner objective as ``oracle.json`` keeps it.

    ``{"name", "direction"}``, as the analysis reads it; an objective of
    several metrics has no single name (None; Keras Tuner minimizes it) and
    lists them under ``"objectives"``.

    Example:
        >>> import keras_tuner as kt
        >>> objective_json(kt.Objective("val_loss", "min"))
        {'name': 'val_loss', 'direction': 'min'}
    """
    parts = getattr(objective, "objectives", None)
    if not parts:
        return {"name": objective.name, "direction": objective.direction}
    return {
        "name": None,
        "direction": "min",
        "objectives": [
            {"name": part.name, "direction": part.direction} for part in parts
        ],
    }


def objective_metrics(objective: Any) -> list[str]:
    """The metric names of a Keras Tuner objective.

    Example:
        >>> import keras_tuner as kt
        >>> objective_metrics(kt.Objective("val_loss", "min"))
        ['val_loss']
    """
    parts = getattr(objective, "objectives", None) or [objective]
    return [part.name for part in parts]


def _entries(space_config: Iterable[Mapping[str, Any]]) -> dict[str, list[Any]]:
    """Entry name -> its configs (one per set of conditions), as plain JSON."""
    entries: dict[str, list[Any]] = {}
    for item in space_config:
        name = item["config"]["name"]
        if not is_bookkeeping(name):
            entries.setdefault(name, []).append(_plain(item))
    return entries


def _describe(configs: list[Mapping[str, Any]]) -> str:
    parts = []
    for item in configs:
        config = {
            key: value
            for key, value in item["config"].items()
            if key != "name" and value not in (None, [], {})
        }
        arguments = ", ".join(f"{key}={value!r}" for key, value in config.items())
        parts.append(f"{item['class_name']}({arguments})")
    return " | ".join(parts)


def _difference(old: list[Any], new: list[Any]) -> tuple[str, str]:
    """The keys of two versions of an entry that differ, as two texts."""
    if len(old) != 1 or len(new) != 1 or old[0]["class_name"] != new[0]["class_name"]:
        return _describe(old), _describe(new)
    before, after = old[0]["config"], new[0]["config"]
    keys = [key for key in {**before, **after} if before.get(key) != after.get(key)]
    return (
        repr({key: before.get(key) for key in keys}),
        repr({key: after.get(key) for key in keys}),
    )


def space_changes(
    saved_space: Iterable[Mapping[str, Any]],
    declared_space: Iterable[Mapping[str, Any]],
    saved_declared: Collection[str] | None,
) -> list[Change]:
    """The declared entries of the rerun that differ from the saved search's.

    Args:
        saved_space: The saved ``HyperParameters``' config's ``"space"``: every
            entry, also those created mid-search.
        declared_space: The same for the entries the rerun declares (those of
            its ``hyperparameters`` and its hypermodel's ``build``).
        saved_declared: Names of the entries the saved search had declared
            when it started; None when unknown (nothing is then said about
            entries the rerun no longer declares).

    Returns:
        One :class:`Change` per entry that is new, changed, or no longer
        declared; entries created mid-search are not compared.

    Example:
        >>> units = {"class_name": "Int",
        ...          "config": {"name": "units", "min_value": 8, "max_value": 64}}
        >>> wider = {"class_name": "Int",
        ...          "config": {"name": "units", "min_value": 8, "max_value": 128}}
        >>> print(space_changes([units], [wider], ["units"])[0].line())
          - `units`: saved {'max_value': 64}, given {'max_value': 128}
    """
    saved, declared = _entries(saved_space), _entries(declared_space)
    changes = []
    for name, configs in declared.items():
        if name not in saved:
            changes.append(Change(name, ABSENT, _describe(configs)))
        elif saved[name] != configs:
            changes.append(Change(name, *_difference(saved[name], configs)))
    for name in saved_declared or ():
        if name in saved and name not in declared:
            changes.append(Change(name, _describe(saved[name]), ABSENT))
    return changes


def bound_changes(
    saved: Mapping[str, Any],
    *,
    epoch_budget: int | None,
    max_trials: int | None,
    epochs_spent: int,
    trials_run: int,
) -> list[Change]:
    """The bounds of the rerun that are below what the saved search spent.

    A larger bound, or a smaller one that still covers what was spent, is
    allowed (``None`` is no bound).

    Example:
        >>> bound_changes({"epoch_budget": 75}, epoch_budget=20, max_trials=None,
        ...               epochs_spent=30, trials_run=12)[0].note
        'below the 30 epochs already spent'
    """
    changes = []
    if epoch_budget is not None and epoch_budget < epochs_spent:
        old = _at(saved, ("epoch_budget",))
        changes.append(
            Change(
                "epoch_budget",
                "?" if old is _MISSING else repr(old),
                repr(epoch_budget),
                f"below the {epochs_spent} epochs already spent",
            )
        )
    if max_trials is not None and max_trials < trials_run:
        old = _at(saved, ("max_trials",))
        changes.append(
            Change(
                "max_trials",
                "?" if old is _MISSING else repr(old),
                repr(max_trials),
                f"below the {trials_run} trials already run",
            )
        )
    return changes


def resume_error(project: str, changes: list[Change]) -> ValueError:
    """The error for a rerun that differs from the search saved in ``project``.

    Example:
        >>> print(resume_error("runs/bc", [Change("max_epochs", "9", "27")]))
        The search saved in 'runs/bc' was run with other settings than those given now:
          - `max_epochs`: saved 9, given 27
        Pass the saved settings to resume it, or start a new search with overwrite=True (which deletes the saved one) or a new project_name. Nothing was changed on disk.
    """  # noqa: E501
    lines = "\n".join(change.line() for change in changes)
    return ValueError(
        f"The search saved in {project!r} was run with other settings than "
        f"those given now:\n{lines}\nPass the saved settings to resume it, or "
        "start a new search with overwrite=True (which deletes the saved one) "
        "or a new project_name. Nothing was changed on disk."
    )
