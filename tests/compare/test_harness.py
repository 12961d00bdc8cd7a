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
from kt_ext._names import BUILTIN_TUNERS
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
    assert rows["hyperband"]["budget_to_match"] <= 1
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
