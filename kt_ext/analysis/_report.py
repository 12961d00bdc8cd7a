"""A stand-alone HTML report of a search: `write_report`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kt_ext._internal.names import epochs_text
from kt_ext.analysis._correlations import rank_correlations
from kt_ext.analysis._dataframe import best_trials, is_scored, trials_dataframe
from kt_ext.analysis._history_plots import plot_narrowing_history, plot_pruning_log
from kt_ext.analysis._html import (
    html_image,
    html_page,
    html_pairs,
    html_table,
    html_text,
)
from kt_ext.analysis._source import Source
from kt_ext.analysis._trial_plots import (
    plot_best_so_far,
    plot_correlations,
    plot_hyperparameters,
)
from kt_ext.analysis._values import format_cell, format_spec, value_label

#: Rows of the best-trials table.
TOP_TRIALS = 10
#: Rows of the correlation table per group of equal epochs, strongest first.
TOP_CORRELATIONS = 8


def write_report(source: Source, path: str | os.PathLike[str]) -> Path:
    """Write a self-contained HTML report of a search.

    One file with no external links, scripts or style sheets (plots are
    embedded PNG data URIs): a summary (objective, trials by status, trials
    stopped early, epochs, best score and its hyperparameters), the best
    trials (with their epochs, total epochs and a stopped-early mark), the
    rank correlations at equal epochs, the plots, and for kt_ext oracles
    their narrowing history or pruning log. All values are HTML-escaped and
    written in one number format. A search without a completed trial gives a
    report that says so.

    Args:
        source: A `keras_tuner` tuner or oracle, or a tuner directory
            (`directory/project_name`, holding oracle.json).
        path: The HTML file to write (its folder is created if needed).

    Returns:
        The path written.

    Raises:
        TypeError: If `source` is not a tuner, an oracle or a path.
        FileNotFoundError: If the directory or its oracle.json is missing.
        ValueError: If oracle.json is not an oracle's state.

    Example:
        >>> from kt_ext.analysis import write_report
        >>> write_report("runs/bc", "bc_report.html")  # doctest: +SKIP
        PosixPath('bc_report.html')
    """
    page = _render(trials_dataframe(source))
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _render(df: pd.DataFrame) -> str:
    title = df.attrs["source"]
    sections = [
        f"<h1>Search report: {html_text(title)}</h1>",
        "<h2>Summary</h2>",
        _summary(df),
    ]
    if best_trials(df, 1).empty:
        sections.append(
            '<p class="note">No trial has completed with a finite score yet: '
            "there are no best trials, correlations or plots to show.</p>"
        )
    else:
        sections += _trial_sections(df)
    narrowing, pruning = df.attrs["narrowing_history"], df.attrs["pruning_log"]
    # The plots come first: their data functions reject malformed records.
    if narrowing:
        image = html_image(plot_narrowing_history(narrowing), "narrowing history")
        sections += [
            "<h2>Narrowing history</h2>",
            html_table(_narrowing_table(narrowing)),
            image,
        ]
    if pruning:
        image = html_image(plot_pruning_log(pruning), "pruning log")
        sections += [
            "<h2>Pruning log</h2>",
            '<p class="note">rho: Spearman rho with how good a score is '
            "(higher is better, whatever the objective's direction), as the "
            "oracle decided on it.</p>",
            html_table(_pruning_table(pruning)),
            image,
        ]
    return html_page(title, sections)


def _trial_sections(df: pd.DataFrame) -> list[str]:
    correlations = rank_correlations(df)
    strongest = _strongest(correlations)
    levels = correlations["epochs"].dropna().unique()
    grouping = (
        "trials are compared with trials that reached the same number of "
        "epochs (groups of fewer than 3 are left out)"
        if len(levels)
        else "over all scored trials"
    )
    return [
        f"<h2>Best trials (top {TOP_TRIALS})</h2>",
        '<p class="note">epochs: trained in the trial itself; epochs total: '
        "the scored model's epochs in all, with those of the trial it "
        "continues (what a retrain uses).</p>",
        _best_table(df),
        "<h2>Best score so far</h2>",
        html_image(plot_best_so_far(df), "best score so far"),
        "<h2>Rank correlations with the score</h2>",
        f'<p class="note">Spearman rho over COMPLETED trials where the entry '
        f"was active, choices as one indicator per value; {grouping}; "
        "p-values are exact for up to 8 trials. The "
        f"{TOP_CORRELATIONS} strongest per group are shown: "
        "<code>kt_ext.analysis.rank_correlations</code> gives every row.</p>",
        html_table(_formatted(strongest)),
        html_image(plot_correlations(strongest), "rank correlations"),
        "<h2>Score vs hyperparameters</h2>",
        '<p class="note">Colours tell apart the epochs the trials reached.</p>'
        if len(df[is_scored(df)]["epochs_reached"].dropna().unique()) > 1
        else "",
        html_image(plot_hyperparameters(df), "score vs hyperparameters"),
    ]


def _summary(df: pd.DataFrame) -> str:
    objective = df.attrs["objective"] or "unknown (a combination of metrics)"
    counts = df["status"].value_counts()
    statuses = ", ".join(f"{status} {count}" for status, count in counts.items())
    rows = [
        ("Objective", f"{objective} ({df.attrs['direction']})"),
        ("Trials", f"{len(df)} ({statuses})" if len(df) else "0"),
    ]
    stopped = int(df["stopped_early"].sum())
    if stopped:
        rows.append(
            ("Stopped early", f"{stopped} (they count the epochs they trained)")
        )
    rows.append(("Epochs trained", format_cell(float(df["epochs"].sum()))))
    if df["wall_time"].notna().any():
        rows.append(("Wall time (s)", format_cell(float(df["wall_time"].sum()))))
    best = best_trials(df, 1)
    if best.empty:
        rows.append(("Best score", "none: no trial has completed with a finite score"))
        return html_pairs(rows)
    trial = best.iloc[0]
    rows.append(("Best score", _best_score(trial)))
    hyperparameters = [
        (name, value_label(trial[f"hp_{name}"]))
        for name in df.attrs["sampling"]
        if not pd.isna(trial[f"hp_{name}"])
    ]
    return (
        html_pairs(rows)
        + "<h3>Best hyperparameters</h3>\n"
        + html_pairs(hyperparameters)
    )


def _best_score(trial: pd.Series) -> str:
    text = f"{format_cell(trial['score'])} (trial {trial['trial_id']}"
    if not pd.isna(trial["epochs_total"]):
        text += f", {epochs_text(trial['epochs_total'])} in all"
    if trial["stopped_early"]:
        text += ", stopped early"
    return text + ")"


def _best_table(df: pd.DataFrame) -> str:
    best = best_trials(df, TOP_TRIALS)
    table = pd.DataFrame(
        {
            "trial": best["trial_id"],
            "score": best["score"],
            "epochs": best["epochs"],
            "epochs total": best["epochs_total"],
            "stopped early": best["stopped_early"].map(lambda s: "yes" if s else ""),
            **{name: best[f"hp_{name}"] for name in df.attrs["sampling"]},
        }
    )
    return html_table(_formatted(table))


def _narrowing_table(history: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for record in history:
        row = {
            "round": record["round"],
            "epochs": record["epochs"],
            "trials": len(record["trial_ids"]),
            "best_score": record["best_score"],
        }
        for name, spec in record["space"].items():
            row[name] = format_spec(spec)
        rows.append(row)
    return _formatted(pd.DataFrame(rows))


def _pruning_table(log: list[dict[str, Any]]) -> pd.DataFrame:
    table = pd.DataFrame(
        {
            "round": [record["round"] for record in log],
            "name": [record["name"] for record in log],
            "action": [record["action"] for record in log],
            "rho": [record["rho"] for record in log],
            "p_value": [record["p_value"] for record in log],
            "before": [format_spec(record["before"]) for record in log],
            "after": [format_spec(record["after"]) for record in log],
        }
    )
    return _formatted(table)


def _strongest(correlations: pd.DataFrame) -> pd.DataFrame:
    """The first rows of each group (they come strongest first), NaN rho left out."""
    known = correlations[correlations["rho"].notna()]
    return known.groupby("epochs", sort=False, dropna=False).head(TOP_CORRELATIONS)


def _formatted(frame: pd.DataFrame) -> pd.DataFrame:
    """Every cell as text, numbers in one format (see `format_cell`)."""
    return frame.map(lambda value: value if isinstance(value, str) else _cell(value))


def _cell(value: Any) -> str:
    if value is None or isinstance(value, bool | np.bool_):
        return format_cell(value)
    if isinstance(value, float | np.floating):
        return format_cell(float(value))
    if isinstance(value, int | np.integer):
        return str(int(value))
    return value_label(value)
