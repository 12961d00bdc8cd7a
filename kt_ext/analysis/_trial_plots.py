"""Plots of a search's trials: best score so far, score per hyperparameter, rho.

Compute first, draw second: each `plot_*` function gets its numbers from a data
function that returns a NamedTuple, and draws a `matplotlib.figure.Figure`
directly (no pyplot): no window opens, no global figure is kept, and PNG
output is rendered by Agg.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import NamedTuple

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.ticker import NullFormatter

from kt_ext._checks import check_one_of
from kt_ext._scores import best_so_far as running_best
from kt_ext.analysis._dataframe import NUMERIC_SAMPLINGS, is_scored, scored_trials

#: p-values below this are drawn as significant.
SIGNIFICANCE = 0.05


class BestSoFar(NamedTuple):
    """The anytime curve of a search, one point per trial in trial order.

    Attributes:
        trial_ids: The trials.
        epochs: Cumulative epochs trained after each trial (unknown counts 0).
        wall_time: Cumulative seconds after each trial; None if no trial has
            a wall time (trials without one count 0 s).
        best: Best score so far after each trial; NaN before the first
            COMPLETED trial with a finite score.
        objective: The objective's name (None if unknown).
        direction: "min" or "max".
    """

    trial_ids: tuple[str, ...]
    epochs: np.ndarray
    wall_time: np.ndarray | None
    best: np.ndarray
    objective: str | None
    direction: str


def best_so_far(df: pd.DataFrame) -> BestSoFar:
    """Best score so far against cumulative epochs (and wall time).

    Args:
        df: A frame from `trials_dataframe`.

    Returns:
        The curve.

    Example:
        >>> from kt_ext.analysis import best_so_far, trials_dataframe
        >>> curve = best_so_far(trials_dataframe("runs/bc"))  # doctest: +SKIP
        >>> curve.epochs[-1], curve.best[-1]  # doctest: +SKIP
        (70.0, 0.99)
    """
    direction = df.attrs["direction"]
    scores = df["score"].where(is_scored(df))
    wall_time = df["wall_time"]
    return BestSoFar(
        trial_ids=tuple(df["trial_id"]),
        epochs=df["epochs"].fillna(0).cumsum().to_numpy(dtype=float),
        wall_time=(
            wall_time.fillna(0).cumsum().to_numpy(dtype=float)
            if wall_time.notna().any()
            else None
        ),
        best=np.array(running_best(scores, direction), dtype=float),
        objective=df.attrs["objective"],
        direction=direction,
    )


def plot_best_so_far(df: pd.DataFrame) -> Figure:
    """Best score so far vs cumulative epochs, and vs wall time when known.

    Args:
        df: A frame from `trials_dataframe`.

    Returns:
        The figure.

    Example:
        >>> from kt_ext.analysis import plot_best_so_far, trials_dataframe
        >>> figure = plot_best_so_far(trials_dataframe("runs/bc"))  # doctest: +SKIP
        >>> figure.savefig("anytime.png")  # doctest: +SKIP
    """
    curve = best_so_far(df)
    axes_x = [("cumulative epochs", curve.epochs)]
    if curve.wall_time is not None:
        axes_x.append(("cumulative wall time (s)", curve.wall_time))
    figure = Figure(figsize=(5 * len(axes_x), 3.5), layout="constrained")
    for ax, (label, x) in zip(
        figure.subplots(1, len(axes_x), squeeze=False)[0], axes_x, strict=True
    ):
        ax.step(x, curve.best, where="post", marker=".")
        ax.set_xlabel(label)
        ax.set_ylabel(f"best {_score_label(curve.objective)} ({curve.direction})")
        ax.grid(alpha=0.3)
    figure.suptitle("Best score so far")
    return figure


class HyperparameterScores(NamedTuple):
    """Scores against one entry, over the scored trials where it was active.

    Attributes:
        name: The entry.
        sampling: "linear", "log", "reverse_log", "choice" or "fixed".
        values: The entry's value in each trial (float for numeric entries).
        scores: The trials' scores.
        groups: For non-numeric entries, value (as text) -> scores, in order
            of first appearance; empty for numeric entries.
    """

    name: str
    sampling: str
    values: np.ndarray
    scores: np.ndarray
    groups: dict[str, np.ndarray]

    @property
    def log(self) -> bool:
        """Whether the entry is log-scaled (its plot has a log x axis)."""
        return self.sampling == "log"


def hyperparameter_scores(df: pd.DataFrame, name: str) -> HyperparameterScores:
    """Scores against entry `name`.

    Args:
        df: A frame from `trials_dataframe`.
        name: An entry of `df.attrs["sampling"]`.

    Returns:
        The data of the entry's panel.

    Raises:
        ValueError: If `name` is not an entry of the search.

    Example:
        >>> from kt_ext.analysis import hyperparameter_scores, trials_dataframe
        >>> data = hyperparameter_scores(trials_dataframe("runs/bc"),
        ...                              "learning_rate")  # doctest: +SKIP
        >>> data.log  # doctest: +SKIP
        True
    """
    sampling = df.attrs["sampling"]
    check_one_of("name", name, sampling)
    scored = scored_trials(df)
    column = scored[f"hp_{name}"]
    active = column.notna()
    values, scores = column[active], scored["score"][active].to_numpy(dtype=float)
    if sampling[name] in NUMERIC_SAMPLINGS:
        return HyperparameterScores(
            name, sampling[name], values.to_numpy(dtype=float), scores, {}
        )
    labels = values.astype(str).to_numpy()
    groups = {label: scores[labels == label] for label in pd.unique(labels)}
    return HyperparameterScores(name, sampling[name], labels, scores, groups)


def plot_hyperparameters(
    df: pd.DataFrame, names: Sequence[str] | None = None
) -> Figure:
    """Score vs each entry: scatter (log x axis for log entries) or violins.

    Non-numeric entries get a violin (Gaussian KDE) per value with at least
    two distinct scores, over a strip of the individual scores.

    Args:
        df: A frame from `trials_dataframe`.
        names: The entries to draw; None draws all.

    Returns:
        The figure, one panel per entry.

    Example:
        >>> from kt_ext.analysis import plot_hyperparameters, trials_dataframe
        >>> plot_hyperparameters(trials_dataframe("runs/bc"),
        ...                      ["learning_rate", "units"])  # doctest: +SKIP
    """
    names = list(df.attrs["sampling"] if names is None else names)
    panels = [hyperparameter_scores(df, name) for name in names]
    columns = max(1, min(3, len(panels)))
    rows = max(1, math.ceil(len(panels) / columns))
    figure = Figure(figsize=(4 * columns, 3 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    label = _score_label(df.attrs["objective"])
    for ax, panel in zip(axes, panels, strict=False):
        _draw_hyperparameter(ax, panel)
        ax.set_ylabel(label)
    for ax in axes[len(panels) :]:
        ax.remove()
    if not panels:
        axes[0].text(0.5, 0.5, "no hyperparameters", ha="center", va="center")
    figure.suptitle("Score vs hyperparameters")
    return figure


def _draw_hyperparameter(ax: Axes, panel: HyperparameterScores) -> None:
    ax.set_xlabel(panel.name)
    ax.grid(alpha=0.3)
    if not len(panel.scores):
        ax.text(0.5, 0.5, "no scored trials", ha="center", transform=ax.transAxes)
        return
    if not panel.groups:
        ax.scatter(panel.values, panel.scores, s=14)
        if panel.log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        return
    groups = list(panel.groups.values())
    spread = [i for i, scores in enumerate(groups) if len(np.unique(scores)) > 1]
    if spread:
        ax.violinplot([groups[i] for i in spread], positions=spread, showextrema=False)
    jitter = np.random.default_rng(0)
    for position, scores in enumerate(groups):
        x = position + jitter.uniform(-0.08, 0.08, len(scores))
        ax.scatter(x, scores, s=12, color="black", alpha=0.6)
    ax.set_xticks(range(len(groups)), list(panel.groups), rotation=30)


def plot_correlations(correlations: pd.DataFrame) -> Figure:
    """Horizontal bars of Spearman's rho, darker where p < 0.05.

    Args:
        correlations: A frame from `rank_correlations`; rows with NaN rho are
            left out.

    Returns:
        The figure.

    Example:
        >>> from kt_ext.analysis import (plot_correlations, rank_correlations,
        ...                              trials_dataframe)
        >>> df = trials_dataframe("runs/bc")  # doctest: +SKIP
        >>> plot_correlations(rank_correlations(df))  # doctest: +SKIP
    """
    finite = correlations[np.isfinite(correlations["rho"])]
    labels = [
        name if value is None else f"{name}={value}"
        for name, value in zip(finite["name"], finite["value"], strict=True)
    ]
    colors = [
        "tab:blue" if p < SIGNIFICANCE else "lightsteelblue" for p in finite["p_value"]
    ]
    figure = Figure(figsize=(6, 1 + 0.3 * max(1, len(finite))), layout="constrained")
    ax = figure.subplots()
    positions = np.arange(len(finite))
    ax.barh(positions, finite["rho"], color=colors)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"Spearman rho with the score (dark: p < {SIGNIFICANCE})")
    if finite.empty:
        ax.text(0, 0, "no correlation could be computed", ha="center")
    return figure


def _score_label(objective: str | None) -> str:
    return objective or "score"
