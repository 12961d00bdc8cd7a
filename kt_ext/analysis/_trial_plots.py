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
from matplotlib.lines import Line2D
from matplotlib.ticker import NullFormatter

from kt_ext._internal.checks import check_one_of
from kt_ext._internal.scores import best_so_far as running_best
from kt_ext.analysis._dataframe import NUMERIC_SAMPLINGS, is_scored, scored_trials
from kt_ext.analysis._values import ordered_values, value_label

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
        best_epochs: The `epochs_reached` of the trial that holds the best
            score after each trial (NaN where unknown): a best score of a
            short trial is no final score.
        objective: The objective's name (None if unknown).
        direction: "min" or "max".

    Example:
        >>> from kt_ext.analysis import best_so_far, trials_dataframe
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
        >>> _ = run_oracle(oracle, objective, epochs=2)  # a synthetic search
        >>> best_so_far(trials_dataframe(oracle)).epochs.tolist()
        [2.0, 4.0, 6.0]
    """

    trial_ids: tuple[str, ...]
    epochs: np.ndarray
    wall_time: np.ndarray | None
    best: np.ndarray
    best_epochs: np.ndarray
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
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
        >>> _ = run_oracle(oracle, objective, epochs=2)  # a synthetic search
        >>> curve = best_so_far(trials_dataframe(oracle))
        >>> float(curve.epochs[-1]), round(float(curve.best[-1]), 3)
        (6.0, 0.524)
    """
    direction = df.attrs["direction"]
    scores = df["score"].where(is_scored(df))
    best = np.array(running_best(scores, direction), dtype=float)
    wall_time = df["wall_time"]
    return BestSoFar(
        trial_ids=tuple(df["trial_id"]),
        epochs=df["epochs"].fillna(0).cumsum().to_numpy(dtype=float),
        wall_time=(
            wall_time.fillna(0).cumsum().to_numpy(dtype=float)
            if wall_time.notna().any()
            else None
        ),
        best=best,
        best_epochs=_holder_epochs(scores.to_numpy(dtype=float), best, df),
        objective=df.attrs["objective"],
        direction=direction,
    )


def _holder_epochs(
    scores: np.ndarray, best: np.ndarray, df: pd.DataFrame
) -> np.ndarray:
    """The `epochs_reached` of the trial holding ``best`` after each trial."""
    reached = (
        df["epochs_reached"].to_numpy(dtype=float)
        if "epochs_reached" in df
        else np.full(len(df), math.nan)
    )
    holder = np.full(len(df), math.nan)
    current = math.nan
    for index, (score, value) in enumerate(zip(scores, best, strict=True)):
        if not math.isnan(score) and score == value:
            current = reached[index]
        holder[index] = current
    return holder


def plot_best_so_far(df: pd.DataFrame) -> Figure:
    """Best score so far vs cumulative epochs, and vs wall time when known.

    Each new best is labelled with the epochs its trial reached, so that a
    best score of a short, low-fidelity trial is not read as a final one.

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
        _label_new_bests(ax, x, curve)
        ax.set_xlabel(label)
        ax.set_ylabel(f"best {_score_label(curve.objective)} ({curve.direction})")
        ax.grid(alpha=0.3)
    figure.suptitle("Best score so far (labels: epochs of the best trial)")
    return figure


def _label_new_bests(ax: Axes, x: np.ndarray, curve: BestSoFar) -> None:
    previous = math.nan
    for position, best, epochs in zip(x, curve.best, curve.best_epochs, strict=True):
        if math.isnan(best) or best == previous:
            continue
        previous = best
        if not math.isnan(epochs):
            ax.annotate(
                f"{epochs:g} ep",
                (position, best),
                textcoords="offset points",
                xytext=(3, 4),
                fontsize=7,
                color="dimgray",
            )


class HyperparameterScores(NamedTuple):
    """Scores against one entry, over the scored trials where it was active.

    Attributes:
        name: The entry.
        sampling: "linear", "log", "reverse_log", "choice" or "fixed".
        values: The entry's value in each trial (float for numeric entries).
        scores: The trials' scores.
        groups: For non-numeric entries, value (as text) -> scores, numbers
            in ascending order, other values in the order the search space
            declares them; empty for numeric entries.
        epochs: The `epochs_reached` of each trial (NaN where unknown), so
            that scores at different epochs are told apart.
        group_epochs: For non-numeric entries, value (as text) -> the
            `epochs_reached` of its scores; empty for numeric entries.

    Example:
        >>> from kt_ext.analysis import hyperparameter_scores, trials_dataframe
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
        >>> _ = run_oracle(oracle, objective, epochs=2)  # a synthetic search
        >>> scores = hyperparameter_scores(trials_dataframe(oracle), "learning_rate")
        >>> scores.sampling, len(scores.values)
        ('log', 3)
    """

    name: str
    sampling: str
    values: np.ndarray
    scores: np.ndarray
    groups: dict[str, np.ndarray]
    epochs: np.ndarray
    group_epochs: dict[str, np.ndarray]

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
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RandomSearchOracle, objective, max_trials=3, seed=1)
        >>> _ = run_oracle(oracle, objective, epochs=2)  # a synthetic search
        >>> data = hyperparameter_scores(trials_dataframe(oracle), "learning_rate")
        >>> data.log
        True
    """
    sampling = df.attrs["sampling"]
    check_one_of("name", name, sampling)
    scored = scored_trials(df)
    column = scored[f"hp_{name}"]
    active = column.notna()
    values, scores = column[active], scored["score"][active].to_numpy(dtype=float)
    epochs = (
        scored["epochs_reached"][active].to_numpy(dtype=float)
        if "epochs_reached" in scored
        else np.full(len(scores), math.nan)
    )
    if sampling[name] in NUMERIC_SAMPLINGS:
        return HyperparameterScores(
            name, sampling[name], values.to_numpy(dtype=float), scores, {}, epochs, {}
        )
    order = ordered_values(values.tolist(), df.attrs.get("choices", {}).get(name))
    labels = np.array([value_label(value) for value in values], dtype=object)
    names = [value_label(value) for value in order]
    groups = {label: scores[labels == label] for label in names}
    group_epochs = {label: epochs[labels == label] for label in names}
    return HyperparameterScores(
        name, sampling[name], labels, scores, groups, epochs, group_epochs
    )


def plot_hyperparameters(
    df: pd.DataFrame, names: Sequence[str] | None = None
) -> Figure:
    """Score vs each entry: scatter (log x axis for log entries) or violins.

    Non-numeric entries get a violin (Gaussian KDE) per value with at least
    two distinct scores, over a strip of the individual scores; choices are
    in ascending order when they are numbers. When the trials reached
    different epochs, each point is coloured by its `epochs_reached`
    (legend), so that scores at few epochs do not pass for final ones.

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
    colors = epoch_colors(scored_trials(df))
    for ax, panel in zip(axes, panels, strict=False):
        _draw_hyperparameter(ax, panel, colors)
        ax.set_ylabel(label)
    for ax in axes[len(panels) :]:
        ax.remove()
    if not panels:
        axes[0].text(0.5, 0.5, "no hyperparameters", ha="center", va="center")
    if len(colors) > 1:
        handles = [
            Line2D([], [], marker="o", linestyle="", color=color, label=f"{e:g}")
            for e, color in colors.items()
        ]
        figure.legend(handles=handles, title="epochs", loc="outside right upper")
    figure.suptitle("Score vs hyperparameters")
    return figure


def epoch_colors(scored: pd.DataFrame) -> dict[float, str]:
    """A colour per `epochs_reached` value of ``scored``, fewest epochs first.

    Empty when there is one value or none: then nothing needs telling apart.
    """
    if "epochs_reached" not in scored:
        return {}
    levels = sorted(scored["epochs_reached"].dropna().unique())
    if len(levels) < 2:
        return {}
    return {float(e): f"C{i % 10}" for i, e in enumerate(levels)}


def _point_colors(epochs: np.ndarray, colors: dict[float, str]) -> list[str] | str:
    if not colors:
        return "C0"
    return [colors.get(float(e), "gray") for e in epochs]


def _draw_hyperparameter(
    ax: Axes, panel: HyperparameterScores, colors: dict[float, str]
) -> None:
    ax.set_xlabel(panel.name)
    ax.grid(alpha=0.3)
    if not len(panel.scores):
        ax.text(0.5, 0.5, "no scored trials", ha="center", transform=ax.transAxes)
        return
    if not panel.groups:
        ax.scatter(
            panel.values, panel.scores, s=14, c=_point_colors(panel.epochs, colors)
        )
        if panel.log:
            ax.set_xscale("log")
            ax.xaxis.set_minor_formatter(NullFormatter())
        return
    groups = list(panel.groups.values())
    spread = [i for i, scores in enumerate(groups) if len(np.unique(scores)) > 1]
    if spread:
        ax.violinplot([groups[i] for i in spread], positions=spread, showextrema=False)
    jitter = np.random.default_rng(0)
    for position, (scores, epochs) in enumerate(
        zip(groups, panel.group_epochs.values(), strict=True)
    ):
        x = position + jitter.uniform(-0.08, 0.08, len(scores))
        point_colors = _point_colors(epochs, colors) if colors else "black"
        ax.scatter(x, scores, s=12, c=point_colors, alpha=0.7)
    ax.set_xticks(range(len(groups)), list(panel.groups), rotation=30)


def plot_correlations(correlations: pd.DataFrame) -> Figure:
    """Horizontal bars of Spearman's rho, solid where p < 0.05.

    When the correlations come from several groups of equal epochs, each
    bar is labelled with its group's epochs and coloured by it.

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
    epochs = (
        finite["epochs"].to_numpy(dtype=float)
        if "epochs" in finite
        else np.full(len(finite), math.nan)
    )
    levels = list(dict.fromkeys(e for e in epochs if not math.isnan(e)))
    labels = [
        (name if value is None else f"{name}={value_label(value)}")
        + (f" ({e:g} ep)" if len(levels) > 1 else "")
        for name, value, e in zip(finite["name"], finite["value"], epochs, strict=True)
    ]
    level_colors = {e: f"C{i % 10}" for i, e in enumerate(levels)}
    colors = [level_colors.get(e, "C0") for e in epochs]
    alphas = [1.0 if p < SIGNIFICANCE else 0.35 for p in finite["p_value"]]
    figure = Figure(figsize=(6, 1 + 0.3 * max(1, len(finite))), layout="constrained")
    ax = figure.subplots()
    positions = np.arange(len(finite))
    for position, rho, color, alpha in zip(
        positions, finite["rho"], colors, alphas, strict=True
    ):
        ax.barh(position, rho, color=color, alpha=alpha)
    ax.set_yticks(positions, labels)
    ax.invert_yaxis()
    ax.axvline(0, color="black", linewidth=0.8)
    ax.set_xlim(-1, 1)
    ax.set_xlabel(f"Spearman rho with the score (solid: p < {SIGNIFICANCE})")
    if len(levels) == 1:
        unit = "epoch" if levels[0] == 1 else "epochs"
        ax.set_title(f"trials that reached {levels[0]:g} {unit}", fontsize=9)
    if finite.empty:
        ax.text(0, 0, "no correlation could be computed", ha="center")
    return figure


def _score_label(objective: str | None) -> str:
    return objective or "score"
