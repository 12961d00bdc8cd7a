"""kt_ext's search progress in a log, a terminal and a notebook.

Most searches here run Keras Tuner's search loop over a synthetic objective
(`SyntheticTuner`, no Keras training); two run a tiny Keras model to follow
epochs. A terminal is a text stream that says it is a TTY; a notebook is
IPython's display functions replaced by recorders.
"""

from __future__ import annotations

import contextlib
import io
import re

import keras
import keras_tuner
import numpy as np
import pytest

import kt_ext
from kt_ext._internal.seam_oracle import (
    Display,
    display_of,
    keras_tuner_notebook_flag,
    trial_end_clearing_held,
)
from kt_ext.callbacks import ClearTrainingOutput, _clear_output
from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle
from kt_ext.testing import SyntheticTuner, get_objective, make_oracle
from kt_ext.tuners._progress import SearchDisplay

ESCAPE = "\x1b"


@pytest.fixture
def terminal(monkeypatch):
    """A terminal; `with terminal:` makes it standard output (not in setup:
    pytest puts its own capture back when the test starts)."""
    monkeypatch.setenv("COLUMNS", "100")
    return Terminal()


class Terminal(io.StringIO):
    """Standard output of a terminal (`COLUMNS` wide) while in a `with` block."""

    def isatty(self) -> bool:
        return True

    def __enter__(self) -> Terminal:
        self._redirect = contextlib.redirect_stdout(self)
        self._redirect.__enter__()
        return self

    def __exit__(self, *exc_info) -> None:
        self._redirect.__exit__(*exc_info)


@pytest.fixture
def notebook(monkeypatch, notebook_display):
    monkeypatch.setattr(_clear_output, "in_notebook", lambda: True)
    monkeypatch.setattr("kt_ext.tuners._progress.in_notebook", lambda: True)
    return notebook_display


def synthetic_search(tmp_path, oracle_cls=CoarseToFineOracle, **kwargs):
    objective = get_objective("lr_only", seed=0)
    settings = {"max_epochs": 3, "epoch_budget": 12, "seed": 1, **kwargs}
    oracle = make_oracle(oracle_cls, objective, **settings)
    tuner = SyntheticTuner(oracle, objective, directory=tmp_path, project_name="p")
    return tuner, oracle


def test_the_tuners_replace_keras_tuners_display(tmp_path):
    tuner, oracle = synthetic_search(tmp_path)
    display = display_of(oracle)
    assert isinstance(display, SearchDisplay) and isinstance(display, Display)
    assert display.name == "SyntheticTuner"
    # Keras Tuner's verbosity setting reaches it.
    tuner.oracle.verbose = "auto"
    assert display.verbose == 1


def test_in_a_log_one_plain_line_per_finished_trial(tmp_path, capsys):
    tuner, oracle = synthetic_search(tmp_path)
    tuner.search(verbose=1)
    out = capsys.readouterr().out
    lines = out.splitlines()
    assert len(lines) == len(oracle.trials) + 1  # and one when the search ends
    assert ESCAPE not in out and "\r" not in out
    for line, trial_id in zip(lines, sorted(oracle.trials), strict=False):
        assert line.startswith(f"SyntheticTuner | trial {trial_id} val_accuracy ")
        assert re.search(r" \| \d+/12 epochs \(\d+%\) \| ", line)
        assert " | best val_accuracy " in line and "ETA " in line
    assert lines[-1].startswith("SyntheticTuner | done in ")
    assert f"{oracle.epochs_used}/12 epochs" in lines[-1]
    best = oracle.get_best_trials(1)[0]
    assert f"best val_accuracy {best.score:.4g} (trial {best.trial_id})" in lines[-1]


def test_verbose_0_shows_nothing(tmp_path, capsys, terminal):
    tuner, _ = synthetic_search(tmp_path)
    with terminal:
        tuner.search(verbose=0)
    assert terminal.getvalue() == ""
    assert capsys.readouterr().out == ""


def test_in_a_terminal_one_line_rewritten_in_place(tmp_path, terminal):
    tuner, oracle = synthetic_search(tmp_path)
    with terminal:
        # ClearTrainingOutput: Keras writes nothing the line would have to
        # leave room for.
        tuner.search(verbose=1, callbacks=[ClearTrainingOutput()])
    out = terminal.getvalue()
    assert ESCAPE not in out
    assert out.count("\n") == 1 and out.endswith("\n")  # the final summary
    states = out.rstrip("\n").split("\r")[1:]
    assert len(states) >= 2 * len(oracle.trials)
    assert all(len(state.rstrip()) <= 99 for state in states)  # never wraps
    assert any(state.startswith("SyntheticTuner | trial ") for state in states)
    assert any(state.startswith("last: ") for state in states)
    assert states[-1].startswith("SyntheticTuner | done in ")


def test_in_a_narrow_terminal_what_matters_most_stays(tmp_path, terminal, monkeypatch):
    monkeypatch.setenv("COLUMNS", "60")
    tuner, _ = synthetic_search(tmp_path)
    with terminal:
        tuner.search(verbose=1, callbacks=[ClearTrainingOutput()])
    states = terminal.getvalue().rstrip("\n").split("\r")[1:]
    running = [state for state in states if "last:" in state]
    assert running and all(len(state.rstrip()) <= 59 for state in states)
    assert all(re.search(r"\d+/12 epochs", state) for state in running)


def test_in_a_notebook_a_line_in_place_and_a_compact_log(tmp_path, capsys, notebook):
    tuner, oracle = synthetic_search(tmp_path)
    tuner.search(verbose=1)
    (texts,) = notebook.handles  # one line, updated in place
    assert notebook.cleared == 0
    assert texts[-1].startswith("SyntheticTuner | done in ")
    assert any("| trial " in text for text in texts)
    log = capsys.readouterr().out.splitlines()
    assert [line.split()[1] for line in log] == sorted(oracle.trials)
    assert all(line.startswith("trial ") for line in log)


def test_trials_stopped_early_are_marked(tmp_path, capsys):
    tuner, oracle = synthetic_search(
        tmp_path,
        RankPruningOracle,
        max_epochs=9,
        epoch_budget=60,
        prune_quantile=0.5,
        min_peers=2,
    )
    tuner.search(verbose=1)
    lines = capsys.readouterr().out.splitlines()
    stopped = oracle.stopped_trials
    assert stopped
    for trial_id, epoch in stopped.items():
        (line,) = [line for line in lines if f"| trial {trial_id} " in line]
        assert f"stopped early at epoch {epoch + 1}" in line
    assert f"| {len(stopped)} stopped early |" in lines[-1]


def test_a_message_from_the_tuner_names_the_stop(tmp_path, capsys):
    _, oracle = synthetic_search(tmp_path)
    display = display_of(oracle)
    display.verbose = 1
    display.begin_search()
    trial = oracle.create_trial("tuner0")
    oracle.update_trial(trial.trial_id, {"val_accuracy": 0.5}, step=0)
    trial.status = "COMPLETED"
    trial.message = "stopped early at epoch 2"
    oracle.end_trial(trial)
    line = capsys.readouterr().out
    assert "stopped early at epoch 2" in line and "| 1 stopped early |" in line


def test_the_display_state_resumes_as_keras_tuners(tmp_path, capsys):
    tuner, oracle = synthetic_search(tmp_path)
    tuner.search(verbose=1)
    state = oracle.get_state()["display"]
    assert set(state) == set(Display(oracle).get_state())
    assert set(state["trial_number"]) == set(oracle.trials)
    objective = get_objective("lr_only", seed=0)
    again = make_oracle(CoarseToFineOracle, objective, max_epochs=3, seed=1)
    resumed = SyntheticTuner(
        again, objective, directory=tmp_path, project_name="p", overwrite=False
    )
    assert display_of(resumed.oracle).trial_number == state["trial_number"]


# -- with Keras training --------------------------------------------------------


def build(hp):
    model = keras.Sequential(
        [
            keras.Input((4,)),
            keras.layers.Dense(hp.Int("units", 2, 4)),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile("adam", "binary_crossentropy")
    return model


def keras_search(tmp_path, callbacks, **kwargs):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    tuner = kt_ext.RankPruning(
        build,
        objective="val_loss",
        max_epochs=2,
        min_epochs=2,
        max_trials=2,
        seed=1,
        directory=tmp_path,
        project_name="keras",
    )
    tuner.search(
        x[:30], y[:30], validation_data=(x[30:], y[30:]), callbacks=callbacks, **kwargs
    )
    return tuner


def test_a_terminal_line_follows_the_epochs(tmp_path, terminal):
    before = keras_tuner_notebook_flag()
    with terminal:
        keras_search(tmp_path, [ClearTrainingOutput()])
    # The search's line shows the epochs: the callback only silenced Keras.
    assert keras_tuner_notebook_flag() == before
    assert not trial_end_clearing_held()
    out = terminal.getvalue()
    assert ESCAPE not in out and "Epoch 1/2" not in out
    states = out.rstrip("\n").split("\r")
    for trial_id in ("0", "1"):
        for epoch in (1, 2):
            assert any(f"| trial {trial_id} | epoch {epoch}/2 |" in s for s in states)
    assert out.count("\n") == 1


def test_with_keras_writing_its_epochs_the_line_stays_after_each_trial(
    tmp_path, terminal
):
    with terminal:
        keras_search(tmp_path, [], verbose=2)  # Keras writes a line per epoch
    lines = terminal.getvalue().splitlines()
    assert sum(line.startswith("Epoch 1/2") for line in lines) == 2
    ends = [line for line in lines if "last: " in line]
    assert len(ends) == 2  # one per trial, between Keras' epochs
    assert lines[-1].split("\r")[-1].startswith("RankPruning | done in ")


def test_a_stock_tuner_keeps_keras_tuners_display(tmp_path):
    tuner = keras_tuner.RandomSearch(
        build, objective="val_loss", max_trials=1, directory=tmp_path
    )
    assert type(display_of(tuner.oracle)) is Display
