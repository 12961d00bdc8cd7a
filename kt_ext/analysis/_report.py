"""A stand-alone HTML report of a search: `write_report`."""

from __future__ import annotations

import base64
import html
import io
import math
import os
from pathlib import Path
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

from kt_ext.analysis._correlations import rank_correlations
from kt_ext.analysis._dataframe import best_trials, trials_dataframe
from kt_ext.analysis._history_plots import plot_narrowing_history, plot_pruning_log
from kt_ext.analysis._source import Source
from kt_ext.analysis._trial_plots import (
    plot_best_so_far,
    plot_correlations,
    plot_hyperparameters,
)

#: Rows of the best-trials table.
TOP_TRIALS = 10

_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 75em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
.note { color: #555; font-size: 0.9em; }
"""


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
        f"<h1>Search report: {_text(title)}</h1>",
        "<h2>Summary</h2>",
        _summary(df),
        f"<h2>Best trials (top {TOP_TRIALS})</h2>",
        _best_table(df),
        "<h2>Best score so far</h2>",
        _image(plot_best_so_far(df), "best score so far"),
        "<h2>Rank correlations with the score</h2>",
        '<p class="note">Spearman rho over COMPLETED trials where the entry '
        "was active; choices as one indicator per value.</p>",
        _table(correlations.assign(value=correlations["value"].map(_cell))),
        _image(plot_correlations(correlations), "rank correlations"),
        "<h2>Score vs hyperparameters</h2>",
        _image(plot_hyperparameters(df), "score vs hyperparameters"),
    ]
    narrowing, pruning = df.attrs["narrowing_history"], df.attrs["pruning_log"]
    # The plots come first: their data functions reject malformed records.
    if narrowing:
        image = _image(plot_narrowing_history(narrowing), "narrowing history")
        sections += [
            "<h2>Narrowing history</h2>",
            _table(_narrowing_table(narrowing)),
            image,
        ]
    if pruning:
        image = _image(plot_pruning_log(pruning), "pruning log")
        sections += [
            "<h2>Pruning log</h2>",
            _table(pd.DataFrame(pruning).map(_cell)),
            image,
        ]
    body = "\n".join(sections)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{body}\n</body>\n</html>\n"
    )


def _summary(df: pd.DataFrame) -> str:
    objective = df.attrs["objective"] or "unknown (a combination of metrics)"
    counts = df["status"].value_counts()
    statuses = ", ".join(f"{status} {count}" for status, count in counts.items())
    rows = [
        ("Objective", f"{objective} ({df.attrs['direction']})"),
        ("Trials", f"{len(df)} ({statuses})" if len(df) else "0"),
        ("Epochs trained", _number(df["epochs"].sum())),
    ]
    if df["wall_time"].notna().any():
        rows.append(("Wall time (s)", _number(df["wall_time"].sum())))
    best = best_trials(df, 1)
    if best.empty:
        rows.append(("Best score", "no completed trial with a finite score"))
        return _pairs(rows)
    trial = best.iloc[0]
    rows.append(
        ("Best score", f"{_number(trial['score'])} (trial {trial['trial_id']})")
    )
    hyperparameters = [
        (name, _cell(trial[f"hp_{name}"]))
        for name in df.attrs["sampling"]
        if not pd.isna(trial[f"hp_{name}"])
    ]
    return _pairs(rows) + "<h3>Best hyperparameters</h3>\n" + _pairs(hyperparameters)


def _best_table(df: pd.DataFrame) -> str:
    columns = ["trial_id", "score", "epochs"]
    columns += [f"hp_{name}" for name in df.attrs["sampling"]]
    return _table(best_trials(df, TOP_TRIALS)[columns])


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
                    f"{_number(spec['min'])} .. {_number(spec['max'])}"
                    f" ({spec['sampling']})"
                )
            else:
                row[name] = ", ".join(str(value) for value in spec["values"])
        rows.append(row)
    return pd.DataFrame(rows)


def _pairs(rows: list[tuple[str, str]]) -> str:
    cells = "\n".join(
        f"<tr><th>{_text(name)}</th><td>{_text(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table>\n{cells}\n</table>"


def _table(df: pd.DataFrame) -> str:
    return df.to_html(
        index=False, escape=True, na_rep="", float_format=_number, border=0
    )


def _image(figure: Figure, alt: str) -> str:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{_text(alt)}" src="data:image/png;base64,{data}">'


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return _number(value)
    return "" if value is None else str(value)


def _number(value: float) -> str:
    if math.isnan(value):
        return ""
    return f"{value:.6g}"


def _text(value: Any) -> str:
    return html.escape(str(value), quote=True)
