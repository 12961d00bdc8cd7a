"""The comparison harness, end to end on a tiny budget."""

from __future__ import annotations

import ast
import csv
import math
import re
from pathlib import Path

import keras_tuner as kt
import pytest

import kt_ext.compare
from kt_ext._internal.names import BUILTIN_TUNERS
from kt_ext.compare import available_tuners, compare, register_tuner
from kt_ext.compare._registry import _BUILTINS, _REGISTRY, REFERENCE, SearchSpec


def test_equal_budget_outputs_and_test_data_used_once(tmp_path, capsys):
    result = compare(
        "iris",
        tuners="random",
        seeds=1,
        max_epochs=3,
        out=tmp_path,
        progress=True,
    )
    # The progress bar ends full, at every epoch the searches trained.
    done, total = re.findall(r"(\d+)/(\d+) \[", capsys.readouterr().err)[-1]
    assert int(done) == int(total) == sum(row["epochs"] for row in result.rows)
    rows = {row["tuner"]: row for row in result.rows}
    assert list(rows) == ["hyperband", "random"]  # the reference runs first
    assert rows["random"]["epochs"] <= rows["hyperband"]["epochs"]
    assert rows["random"]["trials"] == rows["hyperband"]["epochs"] // 3
    for row in rows.values():
        assert 0 <= row["best_val"] <= 1 and 0 <= row["test_score"] <= 1
        assert row["budget_to_match"] == math.inf or row["budget_to_match"] > 0
        assert row["wall_to_match"] == math.inf or row["wall_to_match"] > 0
    assert rows["hyperband"]["budget_to_match"] <= 1
    assert rows["hyperband"]["wall_to_match"] <= 1
    with open(tmp_path / "results.csv") as handle:
        written = list(csv.DictReader(handle))
    assert [r["tuner"] for r in written] == ["hyperband", "random"]
    assert set(written[0]) >= {"dataset", "seed", "objective", "wall_s", "trials"}
    summary = (tmp_path / "summary.md").read_text()
    assert "| random" in summary and "n/a" in summary
    report = (tmp_path / "report.html").read_text()
    assert "data:image/png;base64," in report and "http" not in report
    assert (tmp_path / "anytime.png").stat().st_size > 0


def test_bad_arguments_fail_before_any_training(tmp_path):
    with pytest.raises(ValueError, match="unknown tuner 'nope'"):
        compare("iris", tuners=["nope"], out=tmp_path)
    with pytest.raises(ValueError, match="`seeds` must be >= 1, got 0"):
        compare("iris", seeds=0, out=tmp_path)
    with pytest.raises(TypeError, match=r"`factor` must be an int, got 2\.5"):
        compare("iris", factor=2.5, out=tmp_path)
    with pytest.raises(ValueError, match="`tuners` must not repeat"):
        compare("iris", tuners="random,random", out=tmp_path)
    with pytest.raises(ValueError, match=r"`objective`.*'val_mystery'"):
        compare("iris", objective="val_mystery", out=tmp_path)
    with pytest.raises(TypeError, match="`data`"):
        compare(42, out=tmp_path)
    assert not list(tmp_path.iterdir())


def test_users_can_register_their_own_tuner(monkeypatch):
    monkeypatch.setattr("kt_ext.compare._registry._REGISTRY", dict(_REGISTRY))
    register_tuner(
        "random_once",
        lambda spec: kt.RandomSearch(spec.hypermodel, max_trials=1, **spec.common()),
    )
    assert "random_once" in available_tuners()
    assert available_tuners()[0] == "hyperband"
    with pytest.raises(ValueError, match="name"):
        register_tuner("a,b", lambda spec: None)


def test_spec_fits_whole_trials_into_the_budget():
    spec = SearchSpec(None, "val_accuracy", 9, 3, 1, ".", "p", epoch_budget=75)
    assert spec.trials_in_budget() == 8


def test_no_compare_module_but_the_package_imports_the_harness():
    package = Path(kt_ext.compare.__file__).parent
    importers = set()
    for module in package.glob("*.py"):
        for node in ast.walk(ast.parse(module.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module == (
                "kt_ext.compare._harness"
            ):
                importers.add(module.name)
    assert importers == {"__init__.py"}


def test_the_cli_knows_every_built_in_tuner_by_name():
    assert tuple(_BUILTINS) == BUILTIN_TUNERS
    assert BUILTIN_TUNERS[0] == REFERENCE == available_tuners()[0]
    assert set(BUILTIN_TUNERS) <= set(available_tuners())


def test_runs_are_matched_against_hyperbands_final_score_and_time_of_their_seed():
    from kt_ext.compare import Comparison, TrialCost
    from kt_ext.compare._harness import _add_matches
    from kt_ext.compare._outputs import summary_rows

    # Hand-made runs: (score, cumulative epochs, elapsed seconds) per fit.
    runs = {
        ("hyperband", 1): [(0.6, 4, 2.0), (0.8, 8, 6.0), (0.7, 12, 10.0)],
        ("random", 1): [(0.8, 9, 4.0), (0.9, 12, 12.0)],
        ("hyperband", 2): [(0.9, 6, 5.0), (0.9, 12, 20.0)],
        ("random", 2): [(0.85, 12, 15.0)],
    }
    logs = {
        key: [TrialCost(s, 3, epochs, elapsed) for s, epochs, elapsed in fits]
        for key, fits in runs.items()
    }
    rows = [
        {"tuner": t, "seed": seed, "best_val": max(s for s, _, _ in runs[t, seed])}
        for t, seed in runs
    ]
    for row in rows:
        row.update(epochs=12, trials=2, wall_s=1.0, test_score=0.5)
    for seed in (1, 2):
        _add_matches(rows, logs, seed, "max")
    matched = {(r["tuner"], r["seed"]): r["wall_to_match"] for r in rows}
    # Seed 1: Hyperband's final 0.8 came 6 s into its 10 s; random had it at 4 s.
    assert matched["hyperband", 1] == pytest.approx(0.6)
    assert matched["random", 1] == pytest.approx(0.4)
    # Seed 2: Hyperband's 0.9 at 5 s of 20 s; random never reached it.
    assert matched["hyperband", 2] == pytest.approx(0.25)
    assert matched["random", 2] == math.inf
    assert rows[1]["budget_to_match"] == pytest.approx(9 / 12)
    summary = {
        row["tuner"]: row
        for row in summary_rows(Comparison(rows, logs, "val_accuracy", "max"))
    }
    # Medians over seeds; a run that never matched counts as infinite.
    assert summary["hyperband"]["wall_to_match"] == pytest.approx(0.425)
    assert summary["random"]["wall_to_match"] == math.inf


def test_whole_number_regression_targets_get_a_regression_template():
    from kt_ext import datasets
    from kt_ext.compare import template_for

    data = datasets.load("diabetes", seed=0)
    (x, y) = data.train
    assert (y % 1 == 0).all()  # they look like class labels
    hypermodel = template_for(x, y, data.task)
    assert hypermodel.task == "regression"
    assert hypermodel.build(kt.HyperParameters()).output_shape == (None, 1)
    assert template_for(*datasets.load("iris", seed=0).train, "multiclass").task == (
        "multiclass"
    )


def test_keras_tuners_oracles_draw_other_configurations_for_each_seed(tmp_path):
    # Keras Tuner draws value n of seed s from random.Random(s + n): seeds 1 and
    # 2 would share almost every configuration.
    import json

    from kt_ext import datasets
    from kt_ext.compare import template_for

    hypermodel = template_for(*datasets.load("iris", seed=0).train)
    draws = []
    for seed in (1, 2):
        spec = SearchSpec(
            hypermodel,
            "val_accuracy",
            1,
            3,
            seed,
            str(tmp_path),
            f"r{seed}",
            epoch_budget=30,
        )
        oracle = _REGISTRY["random"](spec).oracle
        draws.append(
            {
                json.dumps(oracle.create_trial(f"t{i}").hyperparameters.values)
                for i in range(20)
            }
        )
    assert len(draws[0]) == len(draws[1]) == 20
    assert len(draws[0] & draws[1]) <= 1
