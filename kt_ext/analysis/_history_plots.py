"""Plots of what a kt_ext oracle decided: narrowing history and pruning log.

Compute first, draw second: `narrowing_data` and `pruning_series` turn the
oracle's records into NamedTuples, and the `plot_*` functions draw a
`matplotlib.figure.Figure` directly (no pyplot, rendered by Agg).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from kt_ext.analysis._values import ordered_values, value_label

_NARROWING_KEYS = ("round", "epochs", "trial_ids", "best_score", "space")
_PRUNING_KEYS = ("round", "name", "rho", "p_value", "action", "before", "after")
_ACTION_MARKERS = {"narrow": "v", "remove": "X", "freeze": "s"}


class EntryRanges(NamedTuple):
    """How one entry's search space changed over the rounds.

    Attributes:
        name: The entry.
        sampling: Sampling of a range entry ("linear", "log", ...); None when
            the entry only ever had a list of values.
        low: Range minimum in each round; NaN where the entry was no range.
        high: Range maximum in each round; NaN where the entry was no range.
        values: Values left in each round; () where the entry had no list.

    Example:
        >>> import numpy as np
        >>> ranges = EntryRanges("units", "log", np.array([16.0, 32.0]),
        ...                      np.array([256.0, 128.0]), ((), ()))
        >>> ranges.high.tolist()
        [256.0, 128.0]
    """

    name: str
    sampling: str | None
    low: np.ndarray
    high: np.ndarray
    values: tuple[tuple[Any, ...], ...]


class NarrowingData(NamedTuple):
    """A coarse-to-fine oracle's `narrowing_history`, per round.

    Attributes:
        rounds: The round numbers.
        epochs: Epochs per trial in each round.
        trials: Number of trials in each round.
        best_scores: Best score after each round (NaN where None).
        entries: The search space of each entry over the rounds.

    Example:
        >>> from kt_ext.analysis import narrowing_data
        >>> data = narrowing_data([{"round": 0, "epochs": 1, "trial_ids": ["0"],
        ...     "best_score": 0.8, "space": {"opt": {"values": ["adam"]}}}])
        >>> data.trials.tolist(), data.entries[0].values
        ([1], (('adam',),))
    """

    rounds: np.ndarray
    epochs: np.ndarray
    trials: np.ndarray
    best_scores: np.ndarray
    entries: tuple[EntryRanges, ...]


def narrowing_data(history: Sequence[Mapping[str, Any]]) -> NarrowingData:
    """Per-round arrays from a `narrowing_history`.

    Args:
        history: Dicts `{"round", "epochs", "trial_ids", "best_score",
            "space"}`, where `space` maps each entry to `{"min", "max",
            "sampling"}` or `{"values"}` (`df.attrs["narrowing_history"]`).

    Returns:
        The rounds, with each entry's range or values in every round.

    Raises:
        ValueError: If a record misses a key.

    Example:
        >>> from kt_ext.analysis import narrowing_data
        >>> data = narrowing_data([
        ...     {"round": 0, "epochs": 1, "trial_ids": ["0", "1"], "best_score": 0.8,
        ...      "space": {"lr": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}},
        ...     {"round": 1, "epochs": 3, "trial_ids": ["2"], "best_score": 0.9,
        ...      "space": {"lr": {"min": 1e-3, "max": 1e-2, "sampling": "log"}}},
        ... ])
        >>> data.entries[0].high.tolist()
        [0.1, 0.01]
    """
    _check_records("history", history, _NARROWING_KEYS)
    names = dict.fromkeys(name for record in history for name in record["space"])
    entries = []
    for name in names:
        specs = [record["space"].get(name, {}) for record in history]
        samplings = [spec["sampling"] for spec in specs if "min" in spec]
        entries.append(
            EntryRanges(
                name=name,
                sampling=samplings[0] if samplings else None,
                low=np.array([spec.get("min", math.nan) for spec in specs], float),
                high=np.array([spec.get("max", math.nan) for spec in specs], float),
                values=tuple(tuple(spec.get("values", ())) for spec in specs),
            )
        )
    return NarrowingData(
        rounds=np.array([record["round"] for record in history], dtype=int),
        epochs=np.array([record["epochs"] for record in history], dtype=float),
        trials=np.array([len(record["trial_ids"]) for record in history], dtype=int),
        best_scores=np.array(
            [_nan_if_none(record["best_score"]) for record in history], dtype=float
        ),
        entries=tuple(entries),
    )


def plot_narrowing_history(history: Sequence[Mapping[str, Any]]) -> Figure:
    """The best score per round, and each entry's range or values per round.

    Args:
        history: A coarse-to-fine oracle's `narrowing_history` (see
            `narrowing_data`).

    Returns:
        The figure: best score per round, then one panel per entry (a bar
        from min to max per round, log axis for log entries; or a dot per
        value left).

    Example:
        >>> from kt_ext.analysis import plot_narrowing_history, trials_dataframe
        >>> df = trials_dataframe("runs/c2f")  # doctest: +SKIP
        >>> plot_narrowing_history(df.attrs["narrowing_history"])  # doctest: +SKIP
    """
    data = narrowing_data(history)
    panels = 1 + len(data.entries)
    columns = min(3, panels)
    rows = math.ceil(panels / columns)
    figure = Figure(figsize=(4 * columns, 3 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    axes[0].plot(data.rounds, data.best_scores, marker="o")
    for round_, epochs, score in zip(
        data.rounds, data.epochs, data.best_scores, strict=True
    ):
        axes[0].annotate(f"{epochs:g} ep", (round_, score), fontsize=8)
    axes[0].set_title("best score after each round")
    for ax, entry in zip(axes[1:], data.entries, strict=False):
        _draw_entry_ranges(ax, data.rounds, entry)
    for ax in axes[panels:]:
        ax.remove()
    for ax in axes[:panels]:
        ax.set_xlabel("round")
        _integer_rounds(ax, data.rounds.tolist())
        ax.grid(alpha=0.3)
    figure.suptitle("Narrowing history")
    return figure


def _draw_entry_ranges(ax: Axes, rounds: np.ndarray, entry: EntryRanges) -> None:
    ax.set_title(entry.name)
    if np.isfinite(entry.low).any():
        ax.vlines(rounds, entry.low, entry.high, linewidth=6)
        if entry.sampling == "log":
            ax.set_yscale("log")
        return
    order = ordered_values([v for values in entry.values for v in values], None)
    labels = [value_label(value) for value in order]
    for round_, values in zip(rounds, entry.values, strict=True):
        positions = [labels.index(value_label(value)) for value in values]
        ax.scatter([round_] * len(positions), positions, marker="s", color="C0")
    ax.set_yticks(range(len(labels)), labels)


class PruningSeries(NamedTuple):
    """The `pruning_log` records of one entry, in log order.

    Attributes:
        name: The entry.
        rounds: Round of each action.
        rho: Spearman's rho that decided it.
        p_values: Its p-value.
        actions: "narrow", "remove" or "freeze".

    Example:
        >>> from kt_ext.analysis import pruning_series
        >>> [series] = pruning_series([{"round": 2, "name": "units", "rho": 0.05,
        ...     "p_value": 0.8, "action": "freeze", "before": [16, 256], "after": 64}])
        >>> series.name, series.rounds.tolist()
        ('units', [2])
    """

    name: str
    rounds: np.ndarray
    rho: np.ndarray
    p_values: np.ndarray
    actions: tuple[str, ...]


def pruning_series(log: Sequence[Mapping[str, Any]]) -> list[PruningSeries]:
    """Per-entry series from a `pruning_log`.

    Args:
        log: Dicts `{"round", "name", "rho", "p_value", "action", "before",
            "after"}` (`df.attrs["pruning_log"]`).

    Returns:
        One series per entry, in order of first appearance.

    Raises:
        ValueError: If a record misses a key.

    Example:
        >>> from kt_ext.analysis import pruning_series
        >>> series = pruning_series([
        ...     {"round": 0, "name": "units", "rho": 0.05, "p_value": 0.8,
        ...      "action": "freeze", "before": [16, 256], "after": 64},
        ... ])
        >>> series[0].actions
        ('freeze',)
    """
    _check_records("log", log, _PRUNING_KEYS)
    names = dict.fromkeys(record["name"] for record in log)
    series = []
    for name in names:
        records = [record for record in log if record["name"] == name]
        series.append(
            PruningSeries(
                name=name,
                rounds=np.array([record["round"] for record in records], dtype=int),
                rho=np.array([_nan_if_none(r["rho"]) for r in records], dtype=float),
                p_values=np.array(
                    [_nan_if_none(r["p_value"]) for r in records], dtype=float
                ),
                actions=tuple(record["action"] for record in records),
            )
        )
    return series


def plot_pruning_log(log: Sequence[Mapping[str, Any]]) -> Figure:
    """Rho of each pruned entry per round, with a marker per action.

    Args:
        log: A rank-pruning oracle's `pruning_log` (see `pruning_series`).

    Returns:
        The figure.

    Example:
        >>> from kt_ext.analysis import plot_pruning_log, trials_dataframe
        >>> df = trials_dataframe("runs/rp")  # doctest: +SKIP
        >>> plot_pruning_log(df.attrs["pruning_log"])  # doctest: +SKIP
    """
    figure = Figure(figsize=(7, 4), layout="constrained")
    ax = figure.subplots()
    for series in pruning_series(log):
        (line,) = ax.plot(series.rounds, series.rho, label=series.name)
        for action, marker in _ACTION_MARKERS.items():
            chosen = np.array(series.actions) == action
            ax.scatter(
                series.rounds[chosen],
                series.rho[chosen],
                marker=marker,
                color=line.get_color(),
                s=50,
            )
    for action, marker in _ACTION_MARKERS.items():
        ax.scatter([], [], marker=marker, color="gray", label=action)
    ax.axhline(0, color="black", linewidth=0.8)
    ax.set_ylim(-1, 1)
    ax.set_xlabel("round")
    _integer_rounds(ax, [int(record["round"]) for record in log])
    ax.set_ylabel("Spearman rho with how good the score is")
    ax.legend(fontsize=8, loc="best")
    ax.grid(alpha=0.3)
    figure.suptitle("Pruning log")
    return figure


def _integer_rounds(ax: Axes, rounds: Sequence[int]) -> None:
    """Whole-number round ticks, half a round of margin on each side."""
    if not rounds:
        return
    first, last = min(rounds), max(rounds)
    ax.set_xlim(first - 0.5, last + 0.5)
    if last - first <= 10:
        ax.set_xticks(range(first, last + 1))
    else:
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _check_records(
    argument: str, records: Sequence[Mapping[str, Any]], keys: tuple[str, ...]
) -> None:
    for record in records:
        missing = [key for key in keys if key not in record]
        if missing:
            raise ValueError(
                f"`{argument}` records must have the keys {list(keys)}, got "
                f"{record!r} (missing {missing})."
            )


def _nan_if_none(value: float | None) -> float:
    return math.nan if value is None else float(value)
