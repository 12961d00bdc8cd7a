from __future__ import annotations

import contextlib
import copy
import io
import sys

import keras
import keras_tuner
import numpy as np
import pytest

from kt_ext._internal.seam_oracle import (
    in_keras_tuner_search,
    keras_tuner_notebook_flag,
    release_trial_end_clearing,
    trial_end_clearing_held,
)
from kt_ext.callbacks import ClearTrainingOutput, StepDecay

X = np.linspace(0.0, 1.0, 96, dtype="float32").reshape(32, 3)
Y = np.ones((32, 2), dtype="float32")


def build_model(hp: keras_tuner.HyperParameters | None = None) -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.02), loss="mse")
    return model


@pytest.fixture(autouse=True)
def _put_keras_tuner_back():
    """Tests that call set_params alone hold Keras Tuner's clearing: undo it."""
    yield
    release_trial_end_clearing()


def fit_params(verbose: int | str = 1) -> dict[str, object]:
    return {"verbose": verbose, "epochs": 3, "steps": 1}


def test_fit_without_callback_prints_epochs(capfd):
    build_model().fit(X, Y, epochs=3, verbose=1)
    assert "Epoch 1/3" in capfd.readouterr().out


@pytest.mark.parametrize("verbose", [1, "auto", 2])
def test_terminal_mode_silences_keras_progress(capfd, verbose):
    callback = ClearTrainingOutput(mode="terminal")
    history = build_model().fit(X, Y, epochs=3, verbose=verbose, callbacks=[callback])
    out = capfd.readouterr().out
    assert "Epoch" not in out
    assert "\x1b" not in out
    assert "loss" not in out
    assert len(history.history["loss"]) == 3


def test_auto_mode_outside_a_notebook_is_terminal():
    params = fit_params()
    ClearTrainingOutput().set_params(params)
    assert params["verbose"] == 0


def test_auto_mode_without_ipython_is_terminal(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    params = fit_params()
    ClearTrainingOutput().set_params(params)
    assert params["verbose"] == 0


def test_auto_mode_in_a_jupyter_kernel_is_notebook(monkeypatch):
    ipython = pytest.importorskip("IPython")
    # Named as ipykernel's shell; a subclass stands in for Colab's shell.
    ZMQInteractiveShell = type("ZMQInteractiveShell", (), {})
    colab_shell = type("Shell", (ZMQInteractiveShell,), {"execution_count": 1})()
    monkeypatch.setattr(ipython, "get_ipython", lambda: colab_shell)
    params = fit_params()
    callback = ClearTrainingOutput()
    callback.set_params(params)
    assert params["verbose"] == 0
    assert callback._line.kind == "notebook"


@pytest.fixture
def notebook(monkeypatch, notebook_display):
    ipython = pytest.importorskip("IPython")
    monkeypatch.setattr(ipython, "get_ipython", lambda: notebook_display)
    return notebook_display


def test_notebook_mode_updates_one_line_and_clears_nothing(capfd, notebook):
    callback = ClearTrainingOutput(mode="notebook")
    for _ in range(2):  # Keras Tuner copies the callback for every trial
        model = build_model()
        model.fit(X, Y, epochs=3, verbose=1, callbacks=[copy.deepcopy(callback)])
    assert notebook.cleared == 0
    (texts,) = notebook.handles  # one line per cell, updated in place
    assert "epoch 3/3 | loss " in "".join(texts)
    assert texts[-1] == ""  # blanked when training ends
    assert "Epoch" not in capfd.readouterr().out
    assert not trial_end_clearing_held()


def test_terminal_mode_shows_the_epoch_in_one_line(capfd, monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    stream = Terminal()
    monkeypatch.setenv("COLUMNS", "80")
    with contextlib.redirect_stdout(stream):
        callback = ClearTrainingOutput(mode="terminal")
        build_model().fit(X, Y, epochs=3, verbose=1, callbacks=[callback])
    out = stream.getvalue()
    assert "\x1b" not in out and "\n" not in out
    states = out.split("\r")
    assert any(state.startswith("epoch 2/3 | loss ") for state in states)
    assert any(state.startswith("epoch 3/3") for state in states)
    assert out.endswith("\r") and not states[-2].strip()  # blanked at the end


def test_verbose_0_changes_nothing(capfd):
    params = fit_params(verbose=0)
    callback = ClearTrainingOutput(mode="terminal")
    callback.set_params(params)
    assert params["verbose"] == 0 and callback._line is None
    assert not trial_end_clearing_held()


def test_a_plain_fit_puts_keras_tuners_setting_back():
    before = keras_tuner_notebook_flag()
    callback = ClearTrainingOutput(mode="terminal")
    build_model().fit(X, Y, epochs=1, verbose=1, callbacks=[callback])
    assert keras_tuner_notebook_flag() == before
    assert not trial_end_clearing_held()


def test_unknown_mode_is_rejected():
    with pytest.raises(ValueError, match=r"`mode` must be one of .*, got 'quiet'\."):
        ClearTrainingOutput(mode="quiet")


def test_deepcopy_after_fit_copies_configuration_only():
    callback = ClearTrainingOutput(mode="notebook")
    callback.set_params(fit_params())
    build_model().fit(X, Y, epochs=1, verbose=0, callbacks=[callback])
    copied = copy.deepcopy(callback)
    assert isinstance(copied, ClearTrainingOutput)
    assert copied.mode == "notebook"
    assert copied.params is None
    assert copied.model is None


@pytest.mark.backends
def test_search_keeps_tuner_summaries_and_drops_keras_progress(capfd, tmp_path):
    # Keras Tuner believes it runs in a notebook whenever IPython is installed.
    before = keras_tuner_notebook_flag()
    tuner = keras_tuner.RandomSearch(
        build_model,
        objective="loss",
        max_trials=1,
        directory=tmp_path,
        project_name="quiet",
    )
    callbacks = [ClearTrainingOutput(mode="terminal"), StepDecay(drop_every=1)]
    tuner.search(X, Y, epochs=2, verbose=1, callbacks=callbacks)
    out = capfd.readouterr().out
    assert "Running Trial #1" in out
    assert "Trial 1 Complete" in out
    assert "Epoch" not in out
    # Put back when the last trial ended: the process is as it was.
    assert keras_tuner_notebook_flag() == before
    assert not trial_end_clearing_held()
    # Not even Keras Tuner's own end-of-trial clearing, which writes IPython's
    # escape codes in plain Python whenever IPython is installed.
    assert "\x1b" not in out
    # The deep-copied schedule ran in the trial: 0.02 halved once at epoch 1.
    metrics = tuner.oracle.get_best_trials()[0].metrics
    assert metrics.get_last_value("learning_rate") == pytest.approx(0.01, rel=1e-6)


@pytest.mark.backends
def test_a_fit_is_told_inside_a_keras_tuner_search(tmp_path):
    seen = []

    class Probe(keras.callbacks.Callback):
        def on_train_end(self, logs=None):
            seen.append(in_keras_tuner_search())

    build_model().fit(X, Y, epochs=1, verbose=0, callbacks=[Probe()])
    tuner = keras_tuner.RandomSearch(
        build_model, objective="loss", max_trials=1, directory=tmp_path
    )
    tuner.search(X, Y, epochs=1, verbose=0, callbacks=[Probe()])
    assert seen == [False, True]
