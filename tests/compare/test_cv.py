"""Cross-validated comparisons: every tuner on the same folds and budget."""

from __future__ import annotations

import csv
import math

import keras_tuner as kt
import pytest

from kt_ext import datasets
from kt_ext._internal.names import BUILTIN_TUNERS
from kt_ext.compare import (
    SearchSpec,
    available_tuners,
    compare,
    register_tuner,
    run_search,
    template_for,
)
from kt_ext.compare._registry import _REGISTRY, get_factory
from kt_ext.tuners import FidelityTuner


@pytest.fixture(scope="module")
def iris():
    return datasets.load("iris", seed=0)


def test_hyperband_runs_keras_tuners_oracle_on_the_folds_of_train_and_validation(
    iris, tmp_path
):
    spec = SearchSpec(
        template_for(*iris.train), "val_accuracy", 2, 3, 1, str(tmp_path), "hb", cv=2
    )
    row, log, tuner = run_search("hyperband", spec, iris)
    assert isinstance(tuner, FidelityTuner)
    assert isinstance(tuner.oracle, kt.oracles.HyperbandOracle)
    # The folds split train + validation; the test rows are not searched.
    rows = len(iris.train[0]) + len(iris.validation[0])
    assert tuner.get_state()["cv"]["rows"] == rows
    # One record per trial, scored on the mean fold curve as the oracle was.
    trials = tuner.oracle.trials
    assert [record.trial_id for record in log] == sorted(trials)
    for record in log:
        assert record.score == pytest.approx(trials[record.trial_id].score)
    # Every fold's epochs count: twice what the trials planned.
    planned = sum(
        t.hyperparameters.values["tuner/epochs"]
        - t.hyperparameters.values["tuner/initial_epoch"]
        for t in trials.values()
    )
    assert row["epochs"] == sum(record.epochs for record in log) == 2 * planned
    best = trials[row["best_trial"]]
    assert row["best_val"] == pytest.approx(best.score)
    history = best.metrics.get_history("val_accuracy_std")
    assert row["fold_std"] in [pytest.approx(o.mean()) for o in history]
    assert row["fold_std"] >= 0 and 0 <= row["test_score"] <= 1


def test_compare_with_cv_gives_every_tuner_the_same_folds_and_hyperbands_epochs(
    tmp_path,
):
    result = compare(
        "iris",
        tuners=available_tuners(),
        seeds=1,
        max_epochs=2,
        cv=2,
        out=tmp_path,
        progress=False,
    )
    rows = {row["tuner"]: row for row in result.rows}
    assert sorted(rows) == sorted(BUILTIN_TUNERS)
    assert result.cv == 2
    # Stock and kt_ext tuners alike are scored on one split of the rows.
    digests = {row["fold_digest"] for row in rows.values()}
    assert len(digests) == 1 and len(digests.pop()) == 64
    for row in rows.values():
        assert row["epochs"] <= rows["hyperband"]["epochs"]
    # A random trial of max_epochs costs two folds' epochs.
    assert rows["random"]["trials"] == rows["hyperband"]["epochs"] // (2 * 2)
    for row in rows.values():
        assert math.isfinite(row["fold_std"]) and row["fold_std"] >= 0
    with open(tmp_path / "results.csv") as handle:
        written = list(csv.DictReader(handle))
    assert all(float(r["fold_std"]) >= 0 for r in written)
    assert len({r["fold_digest"] for r in written}) == 1
    summary = (tmp_path / "summary.md").read_text()
    assert "cross-validated: the mean over 2 folds" in summary
    header = next(line for line in summary.splitlines() if line.startswith("| tuner"))
    assert " fold_std " in header


def test_bad_cv_fails_before_any_training(iris, tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="`cv` must be >= 2, got 1"):
        compare("iris", cv=1, out=tmp_path)
    with pytest.raises(TypeError, match="`cv` must be an int, got '3'"):
        compare("iris", cv="3", out=tmp_path)
    assert not list(tmp_path.iterdir())
    # A registered tuner that cannot cross-validate is refused before it trains.
    monkeypatch.setattr("kt_ext.compare._registry._REGISTRY", dict(_REGISTRY))
    register_tuner(
        "stock",
        lambda spec: kt.RandomSearch(spec.hypermodel, max_trials=1, **spec.common()),
    )
    spec = SearchSpec(
        template_for(*iris.train), "val_accuracy", 2, 3, 1, str(tmp_path), "s", cv=2
    )
    with pytest.raises(TypeError, match="tuner 'stock' is a RandomSearch"):
        run_search("stock", spec, iris)
    assert not list((tmp_path / "s").glob("trial_*"))
    # The built-in stock strategies run on kt_ext's tuner base.
    assert isinstance(get_factory("random")(spec), FidelityTuner)


def test_whole_number_regression_targets_are_split_by_kfold_not_stratified(tmp_path):
    # diabetes's targets (25..346) look like classes, some with one member.
    data = datasets.load("diabetes", seed=0)
    hypermodel = template_for(*data.train, data.task)
    spec = SearchSpec(hypermodel, "val_loss", 1, 3, 1, str(tmp_path), "d", cv=3)
    row, _, tuner = run_search("hyperband", spec, data)
    assert row["note"] == "" and math.isfinite(row["fold_std"])
    folds = tuner.get_state()["cv"]["folds"]
    assert len(folds) == 3
