"""What a comparison writes: results.csv, summary.md, anytime.png, report.html.

Needs the ``analysis`` extra (pandas, matplotlib, tabulate).
"""

from __future__ import annotations

import csv
import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from kt_ext.compare._registry import REFERENCE
from kt_ext.compare._result import Comparison
from kt_ext.compare._stats import anytime_curve, paired_wilcoxon

if TYPE_CHECKING:
    from matplotlib.figure import Figure

COLUMNS = (
    "dataset",
    "tuner",
    "seed",
    "objective",
    "best_val",
    "test_score",
    "epochs",
    "trials",
    "wall_s",
    "budget_to_match",
    "wall_to_match",
    "fold_std",
    "fold_digest",
    "best_trial",
    "retrain_epochs",
    "note",
)


def summary_rows(comparison: Comparison) -> list[dict[str, Any]]:
    """Median and interquartile range per tuner, and Wilcoxon p vs Hyperband.

    A p-value is ``"n/a"`` with fewer than six non-zero paired differences.
    A cross-validated comparison adds ``fold_std``, the median over seeds of
    the best trial's standard deviation over folds.
    """
    rows = comparison.rows
    tuners = list(dict.fromkeys(row["tuner"] for row in rows))
    reference = {r["seed"]: r for r in rows if r["tuner"] == REFERENCE}
    summary = []
    for tuner in tuners:
        runs = [r for r in rows if r["tuner"] == tuner]
        paired = [(r, reference[r["seed"]]) for r in runs if r["seed"] in reference]
        row = {
            "tuner": tuner,
            "runs": len(runs),
            "best_val": _median_iqr([r["best_val"] for r in runs]),
            **(
                {"fold_std": _median([r.get("fold_std") for r in runs])}
                if comparison.cv
                else {}
            ),
            "test_score": _median_iqr([r["test_score"] for r in runs]),
            "epochs": _median([r["epochs"] for r in runs]),
            "trials": _median([r["trials"] for r in runs]),
            "wall_s": _median([r["wall_s"] for r in runs]),
            "budget_to_match": _median([r["budget_to_match"] for r in runs]),
            "wall_to_match": _median([r["wall_to_match"] for r in runs]),
            "p_val_vs_hyperband": _p_value(paired, "best_val", tuner),
            "p_test_vs_hyperband": _p_value(paired, "test_score", tuner),
        }
        summary.append(row)
    return summary


def best_configurations(comparison: Comparison) -> dict[str, dict[str, str]]:
    """Each run's best trial and hyperparameters, one column per tuner and seed.

    Returns ``{row label: {"<tuner> s<seed>": cell}}``: the rows are the
    trial id, the validation and test scores, the retrain's epochs, then every
    hyperparameter (empty where a run's best trial has no such entry).
    """
    runs = {f"{r['tuner']} s{r['seed']}": r for r in comparison.rows}
    table: dict[str, dict[str, str]] = {
        "trial": {key: r.get("best_trial") or "none" for key, r in runs.items()},
        comparison.objective: {key: _cell(r["best_val"]) for key, r in runs.items()},
        "test": {key: _cell(r["test_score"]) for key, r in runs.items()},
        "retrain epochs": {
            key: _cell(r.get("retrain_epochs")) for key, r in runs.items()
        },
    }
    names = dict.fromkeys(
        name for r in runs.values() for name in r.get("best_hyperparameters") or {}
    )
    for name in names:
        table[name] = {
            key: _cell((r.get("best_hyperparameters") or {}).get(name))
            for key, r in runs.items()
        }
    return table


def write_outputs(comparison: Comparison, out: Path) -> Path:
    """Writes every output file of ``comparison`` into ``out``; returns ``out``."""
    try:
        from tabulate import tabulate
    except ImportError as error:
        raise ImportError(
            "Writing a comparison needs the `analysis` extra: "
            "pip install 'kt_ext[analysis]'"
        ) from error
    with open(out / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(comparison.rows)
    summary = summary_rows(comparison)
    table = tabulate(summary, headers="keys", tablefmt="github", floatfmt=".4g")
    best = best_configurations(comparison)
    best_table = tabulate(
        [{"": name, **cells} for name, cells in best.items()],
        headers="keys",
        tablefmt="github",
        disable_numparse=True,
    )
    notes = "".join(
        f"- {row['tuner']}, seed {row['seed']}: {row['note']}\n"
        for row in comparison.rows
        if row.get("note")
    )
    (out / "summary.md").write_text(
        f"# Comparison on {comparison.rows[0]['dataset']}\n\n"
        f"Objective `{comparison.objective}` ({comparison.direction})"
        + _cv_text(comparison)
        + "; every tuner "
        "trains at most the epochs Hyperband trained with the same seed. Cells "
        "are `median [q1, q3]` over seeds; p-values come from a paired Wilcoxon "
        "test against Hyperband (n/a with fewer than six non-zero differences); "
        "`budget_to_match` is the fraction of Hyperband's epochs a tuner spent "
        "before its best validation score first reached Hyperband's final one, "
        "and `wall_to_match` the share of Hyperband's wall time (`wall_s`, the "
        "search without the retrain) it had spent by then (inf: never).\n\n"
        f"{table}\n"
        + (f"\nNotes:\n\n{notes}" if notes else "")
        + "\n## Best hyperparameters\n\n"
        "Each tuner's best trial per seed, by validation score; the test score "
        "is of that configuration retrained on train + validation for "
        "`retrain epochs`.\n\n"
        f"{best_table}\n"
    )
    figure = plot_anytime(comparison)
    figure.savefig(out / "anytime.png", dpi=100)
    (out / "report.html").write_text(_report_html(comparison, summary, figure))
    return out


def plot_anytime(comparison: Comparison) -> Figure:
    """Best validation score so far against cumulative epochs, per tuner and seed."""
    from matplotlib.figure import Figure

    figure = Figure(figsize=(7, 4), layout="constrained")
    axes = figure.add_subplot()
    colors: dict[str, Any] = {}
    for (tuner, seed), log in comparison.logs.items():
        curve = anytime_curve(log, comparison.direction)
        if not curve:
            continue
        epochs, _, best = zip(*curve, strict=True)
        color = colors.setdefault(tuner, f"C{len(colors)}")
        axes.step(
            epochs,
            best,
            where="post",
            color=color,
            alpha=0.8,
            label=tuner if seed == 1 else None,
        )
    axes.set_xlabel("cumulative epochs")
    axes.set_ylabel(f"best {comparison.objective} so far")
    axes.legend()
    return figure


def _report_html(
    comparison: Comparison, summary: list[dict[str, Any]], figure: Figure
) -> str:
    import pandas as pd

    from kt_ext.analysis._html import html_image, html_page, html_table, html_text

    def table(rows: list[dict[str, Any]]) -> str:
        cells = [{key: _cell(value) for key, value in row.items()} for row in rows]
        return html_table(pd.DataFrame(cells))

    dataset = comparison.rows[0]["dataset"]
    return html_page(
        f"kt_ext comparison: {dataset}",
        [
            f"<h1>Comparison on {html_text(dataset)}</h1>",
            f"<p>Objective <code>{html_text(comparison.objective)}</code> "
            f"({comparison.direction}){html_text(_cv_text(comparison))}; equal "
            "epoch budget per seed, fixed by Hyperband.</p>",
            "<h2>Summary</h2>",
            table(summary),
            "<h2>Best so far</h2>",
            html_image(figure, "best so far", dpi=100),
            "<h2>All runs</h2>",
            f"<p><code>fold_digest</code>: its first {_DIGEST_SHOWN} characters "
            "(all 64 in <code>results.csv</code>); equal digests, equal folds.</p>",
            table([_shown(_ordered(row)) for row in comparison.rows]),
            "<h2>Best hyperparameters</h2>",
            table(
                [
                    {"": name, **cells}
                    for name, cells in best_configurations(comparison).items()
                ]
            ),
        ],
    )


def _cv_text(comparison: Comparison) -> str:
    if not comparison.cv:
        return ""
    return (
        f", cross-validated: the mean over {comparison.cv} folds of train + "
        "validation, each fold's epochs counted in the budget; `fold_std` is the "
        "best trial's standard deviation over folds at its best epoch"
    )


def _ordered(row: dict[str, Any]) -> dict[str, Any]:
    return {column: row.get(column) for column in COLUMNS}


# A sha256 in full would widen the report's table past the page.
_DIGEST_SHOWN = 12


def _shown(row: dict[str, Any]) -> dict[str, Any]:
    digest = row.get("fold_digest")
    if isinstance(digest, str):
        return {**row, "fold_digest": digest[:_DIGEST_SHOWN]}
    return row


def _cell(value: Any) -> str:
    if isinstance(value, float):
        return "inf" if math.isinf(value) else f"{value:.4g}"
    return "" if value is None else str(value)


def _finite(values: list[Any]) -> np.ndarray:
    array = np.asarray([v for v in values if v is not None], dtype=float)
    return array[~np.isnan(array)]


def _median(values: list[Any]) -> float:
    array = _finite(values)
    return float(np.median(array)) if len(array) else math.nan


def _median_iqr(values: list[Any]) -> str:
    array = _finite(values)
    if not len(array):
        return "n/a"
    q1, median, q3 = np.percentile(array, [25, 50, 75])
    return f"{median:.4f} [{q1:.4f}, {q3:.4f}]"


def _p_value(paired: list[tuple[dict, dict]], column: str, tuner: str) -> str:
    if tuner == REFERENCE:
        return ""
    p = paired_wilcoxon([a[column] for a, _ in paired], [b[column] for _, b in paired])
    return "n/a" if p is None else f"{p:.3g}"
