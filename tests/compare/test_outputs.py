"""What a comparison writes, from a hand-made result (no training)."""

from __future__ import annotations

import csv
import math

from kt_ext.compare import Comparison, TrialCost
from kt_ext.compare._outputs import COLUMNS, write_outputs


def hand_made(dataset="d<x>"):
    rows, logs = [], {}
    for seed in (1, 2):
        for tuner, score in (("hyperband", 0.9), ("random", 0.85)):
            rows.append(
                {
                    "dataset": dataset,
                    "tuner": tuner,
                    "seed": seed,
                    "objective": "val_accuracy",
                    "best_val": score,
                    "test_score": math.nan if seed == 2 else score,
                    "epochs": 10,
                    "trials": 3,
                    "wall_s": 1.5,
                    "budget_to_match": 1.0 if tuner == "hyperband" else math.inf,
                    "wall_to_match": 1.0 if tuner == "hyperband" else math.inf,
                }
            )
            logs[tuner, seed] = [
                TrialCost(0.5, 3, 3, 1.0),
                TrialCost(score, 7, 10, 2.0),
            ]
    return Comparison(rows, logs, "val_accuracy", "max")


def test_outputs_hold_every_run_the_summary_and_a_self_contained_report(tmp_path):
    assert write_outputs(hand_made(), tmp_path) == tmp_path
    with open(tmp_path / "results.csv") as handle:
        written = list(csv.DictReader(handle))
    assert [row["tuner"] for row in written] == ["hyperband", "random"] * 2
    assert tuple(written[0]) == COLUMNS
    summary = (tmp_path / "summary.md").read_text()
    assert "# Comparison on d<x>" in summary
    header = next(line for line in summary.splitlines() if line.startswith("| tuner"))
    for column in ("best_val", "test_score", "epochs", "wall_s", "wall_to_match"):
        assert f" {column} " in header
    report = (tmp_path / "report.html").read_text()
    headings = [
        report.index(f"<h2>{h}</h2>") for h in ("Summary", "Best so far", "All runs")
    ]
    assert headings == sorted(headings)
    assert "<h1>Comparison on d&lt;x&gt;</h1>" in report and "<x>" not in report
    assert report.count("data:image/png;base64,") == 1 and "http" not in report
    assert "<td>inf</td>" in report and "<td>0.8500 [0.8500, 0.8500]</td>" in report


def test_the_report_shortens_the_fold_digest_that_results_keep_whole(tmp_path):
    result = hand_made()
    digest = "ab" * 32
    for row in result.rows:
        row["fold_digest"] = digest
    write_outputs(result, tmp_path)
    report = (tmp_path / "report.html").read_text()
    assert f"<td>{digest[:12]}</td>" in report and digest not in report
    with open(tmp_path / "results.csv") as handle:
        assert {row["fold_digest"] for row in csv.DictReader(handle)} == {digest}


def test_notes_reach_the_summary(tmp_path):
    result = hand_made()
    result.rows[1].update(
        best_val=math.nan, test_score=math.nan, note="no trial completed (x)"
    )
    result.rows[0].update(
        best_trial="0004", retrain_epochs=7, best_hyperparameters={"units": 16}
    )
    write_outputs(result, tmp_path)
    summary = (tmp_path / "summary.md").read_text()
    assert "- random, seed 1: no trial completed (x)" in summary
    best = summary.split("## Best hyperparameters")[1]
    assert "0004" in best and "| units" in best and "16" in best
    assert "no trial completed (x)" in (tmp_path / "results.csv").read_text()
