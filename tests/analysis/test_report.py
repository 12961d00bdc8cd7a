"""The HTML report (`write_report`, `kt-ext report`) and the missing-extra error."""

from __future__ import annotations

import importlib
import json
import re
import shutil
import sys
from html.parser import HTMLParser
from typing import Any, ClassVar

import keras_tuner
import pytest
from keras_tuner.oracles import RandomSearchOracle

from kt_ext.analysis import trials_dataframe, write_report
from kt_ext.cli import main
from kt_ext.testing import LearningRateObjective, make_oracle, run_oracle

PNG = "data:image/png;base64,"


class Page(HTMLParser):
    """Collects a page's tags, link targets and text."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.targets: list[str] = []
        self.text: list[str] = []
        self.feed(text)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, Any]]) -> None:
        self.tags.append(tag)
        self.targets += [value for name, value in attrs if name in ("src", "href")]

    def handle_data(self, data: str) -> None:
        self.text.append(data)


class MarkupObjective(LearningRateObjective):
    """`lr_only` plus an entry whose name and values look like HTML."""

    name = "markup"
    inert: ClassVar[tuple[str, ...]] = (*LearningRateObjective.inert, "<b>kind</b>")

    def _declare(self, hp: keras_tuner.HyperParameters) -> None:
        super()._declare(hp)
        hp.Choice("<b>kind</b>", ["<i>x</i>", "a&b"])


def check_self_contained(text: str) -> Page:
    page = Page(text)
    assert "http://" not in text and "https://" not in text
    assert "<script" not in text and "<link" not in text
    assert page.targets and all(target.startswith(PNG) for target in page.targets)
    assert page.tags[0] == "html"
    return page


@pytest.mark.backends
def test_report_of_a_finished_search(lr_random, tmp_path):
    path = write_report(lr_random.directory, tmp_path / "out" / "report.html")
    assert path == tmp_path / "out" / "report.html"
    text = path.read_text(encoding="utf-8")
    page = check_self_contained(text)
    assert text.count(PNG) == 3
    best = lr_random.oracle.get_best_trials(1)[0]
    assert f"{best.score:.6g}" in text
    assert f"(trial {best.trial_id}, 3 epochs in all)" in text
    words = " ".join(page.text)
    for heading in ("Summary", "Best trials", "Rank correlations", "val_accuracy"):
        assert heading in words
    assert "Narrowing history" not in words and "Pruning log" not in words
    assert "tuner/" not in text
    assert "<td>None</td>" not in text


@pytest.mark.backends
def test_report_from_a_live_oracle_with_kt_ext_histories(with_history, tmp_path):
    text = write_report(with_history.oracle, tmp_path / "report.html").read_text()
    check_self_contained(text)
    assert "HistoryOracle" in text
    assert text.count(PNG) == 5
    assert "Narrowing history" in text and "Pruning log" in text
    assert "1e-05 .. 0.1 (log)" in text
    assert "relu, gelu" in text
    assert "remove" in text and "freeze" in text
    disk = write_report(with_history.directory, tmp_path / "disk.html").read_text()
    assert disk.count(PNG) == 5


def test_report_of_an_interrupted_search(interrupted, tmp_path):
    text = write_report(interrupted.directory, tmp_path / "r.html").read_text()
    check_self_contained(text)
    assert "COMPLETED 4, RUNNING 1" in text


def test_report_escapes_values(tmp_path):
    objective = MarkupObjective(seed=0)
    oracle = make_oracle(RandomSearchOracle, objective, max_trials=6, seed=1)
    run_oracle(oracle, objective, directory=tmp_path)
    df = trials_dataframe(tmp_path / "markup")
    assert "hp_<b>kind</b>" in df.columns
    text = write_report(tmp_path / "markup", tmp_path / "r.html").read_text()
    check_self_contained(text)
    assert "<b>" not in text and "<i>" not in text
    assert "&lt;b&gt;kind&lt;/b&gt;" in text
    assert "&lt;i&gt;x&lt;/i&gt;" in text
    assert "a&amp;b" in text


def test_cli_report_on_malformed_history_exits_2(lr_random, tmp_path, capsys):
    project = tmp_path / "project"
    shutil.copytree(lr_random.directory, project)
    state = json.loads((project / "oracle.json").read_text())
    state["pruning_log"] = [{"round": 0, "name": "units"}]
    (project / "oracle.json").write_text(json.dumps(state))
    assert main(["report", str(project), "--out", str(tmp_path / "r.html")]) == 2
    assert "`log` records must have the keys" in capsys.readouterr().err


def test_cli_report(lr_random, tmp_path, capsys):
    out = tmp_path / "cli.html"
    assert main(["report", str(lr_random.directory), "--out", str(out)]) == 0
    assert str(out) in capsys.readouterr().out
    check_self_contained(out.read_text())


@pytest.mark.parametrize("where", ["missing", "empty"])
def test_cli_report_on_a_bad_directory_exits_2(where, tmp_path, capsys):
    directory = tmp_path / where
    if where == "empty":
        directory.mkdir()
    out = tmp_path / "never.html"
    assert main(["report", str(directory), "--out", str(out)]) == 2
    error = capsys.readouterr().err
    assert str(directory) in error
    assert "Traceback" not in error
    assert not out.exists()


def test_cli_report_needs_no_out(tmp_path, capsys):
    # Without --out, the report is DIR/report.html (the CLI tests write one).
    assert main(["report", str(tmp_path / "somewhere")]) == 2
    error = capsys.readouterr().err
    assert "oracle.json" in error and "--out" not in error
    assert not (tmp_path / "somewhere").exists()


def test_missing_extra_names_it(monkeypatch):
    for name in list(sys.modules):
        if name.startswith("kt_ext.analysis"):
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(ImportError, match=r"pip install 'kt_ext\[analysis\]'"):
        importlib.import_module("kt_ext.analysis")


@pytest.mark.parametrize("what", ["no trial", "running", "failed"])
def test_report_of_a_search_without_a_completed_trial(
    what, no_completed_trial, tmp_path, capsys
):
    _, directory = no_completed_trial(what)
    out = tmp_path / "r.html"
    assert main(["report", str(directory), "--out", str(out)]) == 0
    assert "Traceback" not in capsys.readouterr().err
    text = out.read_text()
    assert "No trial has completed with a finite score yet" in text
    assert "Best score</th><td>none: no trial has completed" in text


def test_report_tables_write_values_in_one_format(with_history, tmp_path):
    text = write_report(with_history.directory, tmp_path / "r.html").read_text()
    page = " ".join(Page(text.split("<body>")[1]).text)
    # Pruning decisions as ranges and lists, as the oracle logs them (dicts).
    assert "{" not in page and "'values'" not in page
    assert "0.001 .. 0.1 (log)" in page  # learning_rate, after
    assert "16 .. 256 (log)" in page  # units, before
    assert "relu, gelu" in page  # activation, after
    # Floats with six significant digits at most, whole numbers as such.
    numbers = re.findall(r"\d+\.\d+", page)
    assert numbers
    assert all(len(n.replace(".", "").lstrip("0")) <= 6 for n in numbers), numbers
    assert not re.search(r"<td>\d+\.0</td>", text)


def test_report_marks_trials_stopped_early(tmp_path):
    from kt_ext.oracles import RankPruningOracle
    from kt_ext.testing import get_objective

    objective = get_objective("lr_only", seed=0)
    oracle = make_oracle(
        RankPruningOracle,
        objective,
        max_epochs=9,
        seed=1,
        prune_quantile=0.5,
        min_peers=2,
    )
    run_oracle(oracle, objective, directory=tmp_path)
    stopped = len(oracle.stopped_trials)
    text = write_report(tmp_path / objective.name, tmp_path / "r.html").read_text()
    assert f"<th>Stopped early</th><td>{stopped} (" in text
    assert "<th>stopped early</th>" in text
