from __future__ import annotations

import copy
import sys

import keras
import keras_tuner
import numpy as np
import pytest

from kt_ext.callbacks import ClearTrainingOutput, StepDecay

X = np.linspace(0.0, 1.0, 96, dtype="float32").reshape(32, 3)
Y = np.ones((32, 2), dtype="float32")


def build_model(hp: keras_tuner.HyperParameters | None = None) -> keras.Model:
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.SGD(0.02), loss="mse")
    return model


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
    colab_shell = type("Shell", (ZMQInteractiveShell,), {})()
    monkeypatch.setattr(ipython, "get_ipython", lambda: colab_shell)
    params = fit_params()
    ClearTrainingOutput().set_params(params)
    assert params["verbose"] == 1


def test_notebook_mode_clears_each_epoch_and_at_train_end(capfd, monkeypatch):
    display = pytest.importorskip("IPython.display")
    calls = []
    monkeypatch.setattr(display, "clear_output", lambda wait=False: calls.append(wait))
    callback = ClearTrainingOutput(mode="notebook")
    build_model().fit(X, Y, epochs=3, verbose=1, callbacks=[callback])
    assert calls == [True] * 4  # three epochs begin, training ends
    assert "Epoch 3/3" in capfd.readouterr().out  # the current epoch still shows


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


def test_search_keeps_tuner_summaries_and_drops_keras_progress(capfd, tmp_path):
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
    # Not even Keras Tuner's own end-of-trial clearing, which writes IPython's
    # escape codes in plain Python whenever IPython is installed.
    assert "\x1b" not in out
    # The deep-copied schedule ran in the trial: 0.02 halved once at epoch 1.
    metrics = tuner.oracle.get_best_trials()[0].metrics
    assert metrics.get_last_value("learning_rate") == pytest.approx(0.01, rel=1e-6)
