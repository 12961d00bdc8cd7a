"""``promotion="sync"|"async"|None``: given, resolved, saved, refused if changed."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from kt_ext import CoarseToFine, RankPruning
from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle, RoundOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

OBJECTIVE = get_objective("lr_only", seed=0)
DATA = Path(__file__).parent / "data"


def saved_search(tmp_path, cls=CoarseToFineOracle, **kwargs):
    settings = {"max_epochs": 9, "epoch_budget": 30, "seed": 1, **kwargs}
    oracle = make_oracle(cls, OBJECTIVE, **settings)
    run_oracle(oracle, OBJECTIVE, directory=tmp_path)
    return settings


def rerun(tmp_path, cls=CoarseToFineOracle, **settings):
    oracle = make_oracle(cls, OBJECTIVE, **settings)
    oracle._set_project_dir(str(tmp_path), OBJECTIVE.name)
    oracle.reload()
    return oracle


@pytest.mark.parametrize("cls", [RoundOracle, CoarseToFineOracle, RankPruningOracle])
def test_none_resolves_from_the_workers_and_an_explicit_value_stays(cls):
    assert cls("loss", max_epochs=9).promotion == "sync"
    assert cls("loss", max_epochs=9).resolve_promotion(1) == "sync"
    oracle = cls("loss", max_epochs=9)
    assert oracle.resolve_promotion(2) == "async" and oracle.promotion == "async"
    for value in ("sync", "async"):
        for workers in (1, 8):
            oracle = cls("loss", max_epochs=9, promotion=value)
            assert oracle.resolve_promotion(workers) == value == oracle.promotion


def test_bad_values_are_refused_naming_the_argument():
    with pytest.raises(ValueError, match=r"`promotion` must be .*, got 'asha'"):
        RankPruningOracle("loss", promotion="asha")
    with pytest.raises(ValueError, match=r"`promotion` must be .*, got 'ASYNC'"):
        CoarseToFine(objective="loss", promotion="ASYNC")
    with pytest.raises(ValueError, match=r"`workers` must be >= 1, got 0"):
        RoundOracle("loss").resolve_promotion(0)
    with pytest.raises(TypeError, match=r"`workers` must be an int"):
        RoundOracle("loss").resolve_promotion(2.0)


def test_the_tuners_pass_it_to_their_oracle(tmp_path):
    tuner = RankPruning(
        objective="loss", promotion="async", directory=tmp_path, max_epochs=3
    )
    assert tuner.oracle.promotion == "async"
    assert CoarseToFine(objective="loss", directory=tmp_path).oracle.promotion == (
        "sync"
    )


def test_a_started_search_keeps_its_value(tmp_path):
    oracle = make_oracle(CoarseToFineOracle, OBJECTIVE, max_epochs=9, max_trials=2)
    run_oracle(oracle, OBJECTIVE, directory=tmp_path)
    assert oracle.resolve_promotion(4) == "sync"


@pytest.mark.parametrize("cls", [CoarseToFineOracle, RankPruningOracle])
def test_the_resolved_value_is_saved_and_a_changed_one_refused(tmp_path, cls):
    saved = saved_search(tmp_path, cls, promotion="async")
    state = json.loads((tmp_path / OBJECTIVE.name / "oracle.json").read_text())
    assert state["promotion"] == "async"
    with pytest.raises(ValueError) as raised:
        rerun(tmp_path, cls, **{**saved, "promotion": "sync"})
    message = str(raised.value)
    assert "`promotion`: saved 'async', given 'sync'" in message
    assert "overwrite=True" in message and str(tmp_path) in message
    assert rerun(tmp_path, cls, **saved).promotion == "async"
    # None takes the saved value, whatever the workers.
    resumed = rerun(tmp_path, cls, **{**saved, "promotion": None})
    assert resumed.promotion == "async"
    assert resumed.resolve_promotion(1) == "async"


def test_a_search_resolved_for_workers_saves_async(tmp_path):
    oracle = make_oracle(CoarseToFineOracle, OBJECTIVE, max_epochs=9, seed=1)
    oracle.resolve_promotion(3)
    run_oracle(oracle, OBJECTIVE, directory=tmp_path)
    with pytest.raises(ValueError, match="`promotion`: saved 'async', given 'sync'"):
        rerun(tmp_path, max_epochs=9, seed=1, promotion="sync")


@pytest.mark.parametrize(
    ("name", "cls"),
    [("coarse_to_fine", CoarseToFineOracle), ("rank_pruning", RankPruningOracle)],
)
def test_a_directory_saved_without_it_was_sync(tmp_path, name, cls):
    shutil.copytree(DATA / name, tmp_path / name)
    objective = get_objective("mlp", seed=0)

    def reload(**kwargs):
        oracle = make_oracle(cls, objective, max_epochs=9, seed=1, **kwargs)
        oracle._set_project_dir(str(tmp_path / name), objective.name)
        oracle.reload()
        return oracle

    assert reload().promotion == "sync"
    assert reload(promotion="sync").promotion == "sync"
    with pytest.raises(ValueError, match="`promotion`: saved 'sync', given 'async'"):
        reload(promotion="async")
