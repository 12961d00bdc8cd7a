"""The comparison's numbers, without Keras."""

from __future__ import annotations

import copy
import math

import pytest

from kt_ext.compare import SearchRecorder, TrialCost
from kt_ext.compare._stats import (
    anytime_curve,
    budget_to_match,
    paired_wilcoxon,
    wall_to_match,
)


def log_of(scores, epochs=3):
    return [
        TrialCost(score, epochs, epochs * (i + 1), float(i + 1))
        for i, score in enumerate(scores)
    ]


def test_anytime_curve_follows_the_direction_and_skips_failed_fits():
    log = log_of([0.5, None, 0.7, float("nan"), 0.6])
    assert [best for _, _, best in anytime_curve(log, "max")] == [
        0.5,
        0.5,
        0.7,
        0.7,
        0.7,
    ]
    assert [best for _, _, best in anytime_curve(log, "min")][-1] == 0.5


def test_budget_to_match_is_the_fraction_of_reference_epochs():
    log = log_of([0.5, 0.8, 0.9])
    assert budget_to_match(log, 0.8, 12, "max") == pytest.approx(0.5)
    assert budget_to_match(log, 0.95, 12, "max") == math.inf
    assert budget_to_match(log_of([0.3, 0.2]), 0.25, 6, "min") == pytest.approx(1.0)


def test_budget_to_match_counts_a_tie_and_beats_a_failed_reference():
    log = log_of([None, 0.5, 0.5])
    assert budget_to_match(log, 0.5, 9, "max") == pytest.approx(6 / 9)
    assert budget_to_match(log, math.nan, 9, "max") == pytest.approx(6 / 9)
    assert budget_to_match(log, math.inf, 9, "max") == pytest.approx(6 / 9)
    assert budget_to_match(log_of([None]), math.nan, 9, "max") == math.inf


def timed_log(points):
    """Hand-made fits: ``(score, elapsed seconds)``, three epochs each."""
    return [
        TrialCost(score, 3, 3 * (i + 1), elapsed)
        for i, (score, elapsed) in enumerate(points)
    ]


def test_wall_to_match_is_the_first_time_the_best_reaches_the_target():
    log = timed_log([(0.5, 2.0), (0.8, 5.0), (0.7, 6.0), (0.9, 9.0)])
    # The best so far first reaches 0.8 at the fit ending 5 s in, of 20 s.
    assert wall_to_match(log, 0.8, 20.0, "max") == pytest.approx(0.25)
    assert wall_to_match(log, 0.75, 20.0, "max") == pytest.approx(0.25)
    assert wall_to_match(log, 0.9, 20.0, "max") == pytest.approx(0.45)
    assert wall_to_match(log, 0.95, 20.0, "max") == math.inf
    # Slower than the reference: a share above one.
    assert wall_to_match(log, 0.9, 6.0, "max") == pytest.approx(1.5)
    losses = timed_log([(0.4, 1.0), (0.5, 2.0), (0.3, 4.0)])
    assert wall_to_match(losses, 0.35, 8.0, "min") == pytest.approx(0.5)


def test_wall_to_match_counts_a_tie_skips_failed_fits_and_beats_a_failed_reference():
    log = timed_log([(None, 1.0), (float("nan"), 2.0), (0.5, 3.0)])
    assert wall_to_match(log, 0.5, 6.0, "max") == pytest.approx(0.5)
    assert wall_to_match(log, math.nan, 6.0, "max") == pytest.approx(0.5)
    assert wall_to_match(timed_log([(None, 1.0)]), math.nan, 6.0, "max") == math.inf
    assert wall_to_match([], 0.5, 6.0, "max") == math.inf
    assert wall_to_match(log, 0.5, 0.0, "max") == math.inf


def test_recorder_scores_a_fit_by_its_best_finite_epoch():
    recorder = SearchRecorder("val_loss", "min")
    recorder.on_train_begin()
    for epoch, value in enumerate([float("nan"), 0.4, float("-inf"), 0.4]):
        recorder.on_epoch_end(epoch, {"val_loss": value})
    recorder.on_train_end()
    assert recorder.log[0].score == 0.4


def test_wilcoxon_needs_six_non_zero_differences():
    assert paired_wilcoxon([1, 2, 3, 4, 5, 6], [1, 2, 3, 4, 5, 7]) is None
    better = [0.9, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96]
    worse = [0.8, 0.8, 0.81, 0.8, 0.82, 0.8, 0.81]
    p = paired_wilcoxon(better, worse)
    assert p is not None and p < 0.05


def test_recorder_is_shared_across_deep_copies_and_scores_each_fit():
    recorder = SearchRecorder("val_accuracy", "max")
    copied = copy.deepcopy([recorder])[0]
    assert copied is recorder
    for values in ([0.5, 0.7, 0.6], [0.4]):
        recorder.on_train_begin()
        for epoch, value in enumerate(values):
            recorder.on_epoch_end(epoch, {"val_accuracy": value})
        recorder.on_train_end()
    assert [(r.score, r.epochs, r.cumulative_epochs) for r in recorder.log] == [
        (0.7, 3, 3),
        (0.4, 1, 4),
    ]


def comparison_of(pairs):
    from kt_ext.compare import Comparison

    rows = []
    for seed, (reference, other) in enumerate(pairs, start=1):
        for tuner, score in (("hyperband", reference), ("random", other)):
            rows.append(
                {
                    "dataset": "d",
                    "tuner": tuner,
                    "seed": seed,
                    "best_val": score,
                    "test_score": score,
                    "epochs": 10,
                    "trials": 3,
                    "wall_s": 1.0,
                    "budget_to_match": 1.0,
                    "wall_to_match": 1.0,
                }
            )
    return Comparison(rows, {}, "val_accuracy", "max")


def test_summary_reports_wilcoxon_only_with_enough_pairs():
    from kt_ext.compare._outputs import summary_rows

    few = summary_rows(comparison_of([(0.9, 0.8), (0.9, 0.85)]))
    assert [row["p_val_vs_hyperband"] for row in few] == ["", "n/a"]
    many = summary_rows(comparison_of([(0.9, 0.8 + i / 100) for i in range(7)]))
    p = float(many[1]["p_val_vs_hyperband"])
    assert 0 < p < 0.05
    assert many[1]["best_val"].startswith("0.8300 [")


def test_a_followed_recorder_scores_each_trial_on_the_logs_its_tuner_reports():
    from types import SimpleNamespace

    from keras_tuner.engine.trial import TrialStatus

    tuner = SimpleNamespace(
        on_trial_begin=lambda trial: None,
        on_epoch_end=lambda trial, model, epoch, logs=None: None,
        on_trial_end=lambda trial: None,
    )
    recorder = SearchRecorder("val_accuracy", "max")
    recorder.follow(tuner)

    def cross_validated_trial(trial_id, folds, status):
        # Two folds' fits in lockstep; the tuner sees their mean each epoch.
        trial = SimpleNamespace(trial_id=trial_id, status=status)
        tuner.on_trial_begin(trial)
        for _ in folds:
            recorder.on_train_begin()
        for epoch, scores in enumerate(zip(*folds, strict=True)):
            for score in scores:
                recorder.on_epoch_end(epoch, {"val_accuracy": score})
            mean = sum(scores) / len(scores)
            tuner.on_epoch_end(trial, None, epoch, logs={"val_accuracy": mean})
        for _ in folds:
            recorder.on_train_end()
        tuner.on_trial_end(trial)

    cross_validated_trial("0", ([0.9, 0.6], [0.5, 0.8]), TrialStatus.COMPLETED)
    cross_validated_trial("1", ([1.0], [0.9]), TrialStatus.FAILED)
    assert [(r.trial_id, r.epochs, r.cumulative_epochs) for r in recorder.log] == [
        ("0", 4, 4),
        ("1", 2, 6),
    ]
    # The mean curve's best (0.7 both epochs), not one fold's 0.9; a failed
    # trial has no score.
    assert recorder.log[0].score == pytest.approx(0.7)
    assert recorder.log[1].score is None
