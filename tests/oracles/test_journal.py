"""The oracles' state on disk: a snapshot plus an append-only journal."""

from __future__ import annotations

import json

import pytest

from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle, _journal
from kt_ext.oracles._rounds import RoundOracle
from kt_ext.testing import get_objective, make_oracle, run_oracle

# -- the pure parts ------------------------------------------------------------


def test_operations_rebuild_nested_state_and_create_missing_containers():
    state = {"rounds": [{"ids": ["0"], "ended": False}], "kt": {"seen": ["a", "b"]}}
    _journal.apply_change(
        state,
        [
            ["set", ["rounds", 0, "ended"], True],
            ["set", ["rounds", 1], {"ids": ["1"], "ended": False}],
            ["extend", ["rounds", 1, "ids"], ["2"]],
            ["update", ["kt", "values", "3"], {"1": [0.5]}],
            ["members", ["kt", "seen"], {"a": False, "c": True, "b": True}],
        ],
    )
    assert state == {
        "rounds": [{"ids": ["0"], "ended": True}, {"ids": ["1", "2"], "ended": False}],
        "kt": {"seen": ["b", "c"], "values": {"3": {"1": [0.5]}}},
    }
    with pytest.raises(ValueError, match="'pop'"):
        _journal.apply_change(state, [["pop", ["kt"], None]])


def test_diff_journals_only_what_changed():
    plan = {
        ("order",): _journal.APPEND,
        ("epochs",): _journal.PER_TRIAL,
        ("rounds",): _journal.GROWING_TAIL,
        ("own", "values"): _journal.PER_TRIAL_NESTED,
    }
    diff = _journal.StateDiff(plan)
    state = {
        "order": ["0"],
        "epochs": {"0": 1},
        "rounds": [{"ids": ["0"], "full": False}],
        "own": {"values": {"0": {"0": [0.1]}}, "quiet": 0},
        "seed": 3,
    }
    diff.reset(state)
    assert diff.changes(state, dirty=set()) == []
    state["order"].append("1")
    state["epochs"]["1"] = 3
    state["rounds"][0]["ids"].append("1")
    state["rounds"][0]["full"] = True
    state["rounds"].append({"ids": [], "full": False})
    state["own"]["values"]["0"]["1"] = [0.2]
    state["own"]["values"]["1"] = {"1": [0.3]}
    state["own"]["quiet"] = 1
    assert diff.changes(state, dirty={"1"}) == [
        ["extend", ["order"], ["1"]],
        ["update", ["epochs"], {"1": 3}],
        ["extend", ["rounds", 0, "ids"], ["1"]],
        ["set", ["rounds", 0, "full"], True],
        ["set", ["rounds", 1], {"ids": [], "full": False}],
        ["update", ["own", "values", "0"], {"1": [0.2]}],
        ["update", ["own", "values", "1"], {"1": [0.3]}],
        ["set", ["own", "quiet"], 1],
    ]


@pytest.mark.parametrize(
    "breaks",
    [
        lambda state: state["order"].pop(),
        lambda state: state["order"].__setitem__(1, "x"),  # the last saved item
        lambda state: state["epochs"].__setitem__("9", 1),  # 9 is not dirty
        lambda state: state["epochs"].pop("0"),
        lambda state: state["rounds"].clear(),
    ],
)
def test_diff_asks_for_a_snapshot_when_a_part_breaks_its_promise(breaks):
    plan = {
        ("order",): _journal.APPEND,
        ("epochs",): _journal.PER_TRIAL,
        ("rounds",): _journal.GROWING_TAIL,
    }
    diff = _journal.StateDiff(plan)
    state = {"order": ["0", "1"], "epochs": {"0": 1}, "rounds": [{"ids": ["0"]}]}
    diff.reset(state)
    breaks(state)
    assert diff.changes(state, dirty={"0"}) is None


# -- oracles -------------------------------------------------------------------


def _normalized(state):
    state = json.loads(json.dumps(state))
    state.pop(_journal.GENERATION_KEY, None)
    state["tried_so_far"] = sorted(state["tried_so_far"])
    return state


CASES = [
    (RoundOracle, {"max_epochs": 9}),
    (CoarseToFineOracle, {"max_epochs": 9}),
    (RankPruningOracle, {"max_epochs": 9}),
    (RankPruningOracle, {"max_epochs": 3, "max_trials": 120}),
]


@pytest.mark.parametrize(("cls", "kwargs"), CASES)
def test_what_is_read_back_after_every_save_is_the_whole_state(
    tmp_path, monkeypatch, cls, kwargs
):
    # Small snapshots compact often, so both paths are exercised.
    monkeypatch.setattr(_journal, "MIN_COMPACT_BYTES", 2000)
    objective = get_objective("mlp", seed=0)
    oracle = make_oracle(cls, objective, seed=1, **kwargs)
    kinds = []
    append, snapshot = _journal.Journal.append, _journal.Journal.write_snapshot
    monkeypatch.setattr(
        _journal.Journal,
        "append",
        lambda self, change: kinds.append("line") or append(self, change),
    )
    monkeypatch.setattr(
        _journal.Journal,
        "write_snapshot",
        lambda self, state: kinds.append("snapshot") or snapshot(self, state),
    )
    save = oracle.save
    mismatches = []

    def checked_save():
        save()
        path = oracle._get_oracle_fname()
        if _normalized(_journal.read_state(path)) != _normalized(oracle.get_state()):
            mismatches.append(len(oracle.trials))

    oracle.save = checked_save
    run_oracle(oracle, objective, epochs=3, directory=tmp_path)
    assert mismatches == []
    assert kinds.count("snapshot") >= 2 and kinds.count("line") > 5 * kinds.count(
        "snapshot"
    )


def test_retries_and_the_display_are_journaled_too(tmp_path, capsys):
    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(
        RoundOracle, objective, max_epochs=3, max_retries_per_trial=2, seed=0
    )
    oracle.verbose = 1  # the display keeps per-trial start times then
    oracle._set_project_dir(str(tmp_path), "retry")
    for status in ["COMPLETED", "INVALID", "COMPLETED", "COMPLETED"]:
        trial = oracle.create_trial("t")
        oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5}, step=0)
        trial.status = status  # INVALID (a crash): queued for a retry
        oracle.end_trial(trial)
    assert oracle._run_times["0001"] >= 2  # retried
    read, live = _journal.read_state(oracle._get_oracle_fname()), oracle.get_state()
    # Keras Tuner saves in end_trial before the trial leaves the running ones.
    assert read.pop("ongoing_trials") == {"t": trial.trial_id}
    assert live.pop("ongoing_trials") == {}
    assert _normalized(read) == _normalized(live)
    assert set(read["display"]["trial_start"]) == set(oracle.trials)
    capsys.readouterr()


def _search(tmp_path, **kwargs):
    objective = get_objective("mlp", seed=2)
    oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=9, seed=3)
    oracle._set_project_dir(str(tmp_path), objective.name)
    return objective, oracle


def test_a_cut_last_line_is_ignored_and_the_search_resumes_exactly(tmp_path):
    objective, whole = _search(tmp_path / "whole")
    expected = [t.values for t in run_oracle(whole, objective).trials]

    objective, first = _search(tmp_path / "cut")
    head = run_oracle(first, objective, max_trials=7)
    project = tmp_path / "cut" / objective.name
    journal = project / _journal.JOURNAL_NAME
    before = _journal.read_state(str(project / "oracle.json"))
    # A kill in the middle of the next save's write.
    with open(journal, "a", encoding="utf-8") as handle:
        handle.write('{"g": "' + before[_journal.GENERATION_KEY] + '", "ops": [["se')
    assert _journal.read_state(str(project / "oracle.json")) == before

    objective, second = _search(tmp_path / "cut")
    second.reload()
    tail = run_oracle(second, objective)
    assert [t.values for t in head.trials + tail.trials] == expected
    # The resumed search wrote a new snapshot: the cut line is gone.
    assert all(json.loads(line) for line in journal.read_text().splitlines())


def test_lines_of_an_older_snapshot_are_ignored(tmp_path):
    objective, oracle = _search(tmp_path)
    run_oracle(oracle, objective, max_trials=4)
    snapshot = tmp_path / objective.name / "oracle.json"
    journal = tmp_path / objective.name / _journal.JOURNAL_NAME
    stale = json.dumps({"g": "older", "ops": [["set", ["seed"], -1]]})
    journal.write_text(journal.read_text() + stale + "\n")
    assert _journal.read_state(str(snapshot))["seed"] == 3


def test_a_corrupt_journal_line_is_named_and_nothing_is_lost(tmp_path):
    objective, oracle = _search(tmp_path)
    run_oracle(oracle, objective, max_trials=4)
    project = tmp_path / objective.name
    journal = project / _journal.JOURNAL_NAME
    journal.write_text("{not json\n" + journal.read_text())
    files = sorted(p.name for p in project.rglob("*"))
    _, again = _search(tmp_path)
    with pytest.raises(ValueError, match=r"oracle_journal\.jsonl.*corrupt"):
        again.reload()
    assert sorted(p.name for p in project.rglob("*")) == files


def test_saves_append_lines_instead_of_rewriting_the_snapshot(tmp_path):
    objective, oracle = _search(tmp_path)
    run_oracle(oracle, objective, max_trials=3)
    snapshot = tmp_path / objective.name / "oracle.json"
    written = snapshot.stat().st_mtime_ns, snapshot.read_text()
    run_oracle(oracle, objective, max_trials=5)
    assert (snapshot.stat().st_mtime_ns, snapshot.read_text()) == written
    journal = tmp_path / objective.name / _journal.JOURNAL_NAME
    assert len(journal.read_text().splitlines()) >= 10  # two saves per trial


def test_after_a_failed_save_the_next_one_writes_a_snapshot(tmp_path, monkeypatch):
    objective, oracle = _search(tmp_path)
    run_oracle(oracle, objective, max_trials=3)
    append = _journal.Journal.append

    def disk_full(self, change):
        monkeypatch.setattr(_journal.Journal, "append", append)  # once
        raise OSError("No space left on device")

    monkeypatch.setattr(_journal.Journal, "append", disk_full)
    with pytest.raises(OSError, match="No space"):
        run_oracle(oracle, objective, max_trials=1)
    oracle.save()
    read = _journal.read_state(oracle._get_oracle_fname())
    assert _normalized(read) == _normalized(oracle.get_state())
    assert read[_journal.GENERATION_KEY] == oracle._journal.generation
    assert (tmp_path / objective.name / _journal.JOURNAL_NAME).read_text() == ""
