"""A stand-alone HTML report of a search: `write_report`."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pandas as pd

from kt_ext.analysis._correlations import rank_correlations
from kt_ext.analysis._dataframe import best_trials, trials_dataframe
from kt_ext.analysis._history_plots import plot_narrowing_history, plot_pruning_log
from kt_ext.analysis._html import (
    format_number,
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

#: Rows of the best-trials table.
TOP_TRIALS = 10


def write_report(source: Source, path: str | os.PathLike[str]) -> Path:
    """Write a self-contained HTML report of a search.

    One file with no external links, scripts or style sheets (plots are
    embedded PNG data URIs): a summary (objective, trials by status, epochs,
    best score and its hyperparameters), the best trials, the rank
    correlations, the plots, and for kt_ext oracles their narrowing history
    or pruning log. All values are HTML-escaped.

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
    correlations = rank_correlations(df)
    sections = [
        f"<h1>Search report: {html_text(title)}</h1>",
        "<h2>Summary</h2>",
        _summary(df),
        f"<h2>Best trials (top {TOP_TRIALS})</h2>",
        _best_table(df),
        "<h2>Best score so far</h2>",
        html_image(plot_best_so_far(df), "best score so far"),
        "<h2>Rank correlations with the score</h2>",
        '<p class="note">Spearman rho over COMPLETED trials where the entry '
        "was active; choices as one indicator per value.</p>",
        html_table(correlations.assign(value=correlations["value"].map(_cell))),
        html_image(plot_correlations(correlations), "rank correlations"),
        "<h2>Score vs hyperparameters</h2>",
        html_image(plot_hyperparameters(df), "score vs hyperparameters"),
    ]
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
            html_table(pd.DataFrame(pruning).map(_cell)),
            image,
        ]
    return html_page(title, sections)


def _summary(df: pd.DataFrame) -> str:
    objective = df.attrs["objective"] or "unknown (a combination of metrics)"
    counts = df["status"].value_counts()
    statuses = ", ".join(f"{status} {count}" for status, count in counts.items())
    rows = [
        ("Objective", f"{objective} ({df.attrs['direction']})"),
        ("Trials", f"{len(df)} ({statuses})" if len(df) else "0"),
        ("Epochs trained", format_number(df["epochs"].sum())),
    ]
    if df["wall_time"].notna().any():
        rows.append(("Wall time (s)", format_number(df["wall_time"].sum())))
    best = best_trials(df, 1)
    if best.empty:
        rows.append(("Best score", "no completed trial with a finite score"))
        return html_pairs(rows)
    trial = best.iloc[0]
    rows.append(
        ("Best score", f"{format_number(trial['score'])} (trial {trial['trial_id']})")
    )
    hyperparameters = [
        (name, _cell(trial[f"hp_{name}"]))
        for name in df.attrs["sampling"]
        if not pd.isna(trial[f"hp_{name}"])
    ]
    return (
        html_pairs(rows)
        + "<h3>Best hyperparameters</h3>\n"
        + html_pairs(hyperparameters)
    )


def _best_table(df: pd.DataFrame) -> str:
    columns = ["trial_id", "score", "epochs"]
    columns += [f"hp_{name}" for name in df.attrs["sampling"]]
    return html_table(best_trials(df, TOP_TRIALS)[columns])


def _narrowing_table(history: list[dict[str, Any]]) -> pd.DataFrame:
    rows = []
    for record in history:
        row = {
            "round": record["round"],
            "epochs": record["epochs"],
            "trials": len(record["trial_ids"]),
            "best_score": _cell(record["best_score"]),
        }
        for name, spec in record["space"].items():
            if "min" in spec:
                row[name] = (
                    f"{format_number(spec['min'])} .. {format_number(spec['max'])}"
                    f" ({spec['sampling']})"
                )
            else:
                row[name] = ", ".join(str(value) for value in spec["values"])
        rows.append(row)
    return pd.DataFrame(rows)


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return format_number(value)
    return "" if value is None else str(value)
