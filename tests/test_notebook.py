"""The README's claims about notebooks, checked in a real Jupyter kernel.

A small notebook runs with nbclient; the test reads the outputs it saved, as
a reader of the notebook would see them: kt_ext's search progress as a line
updated in place above a compact log of trials, Keras Tuner's trial summaries
kept (not cleared) with ``ClearTrainingOutput``, Keras Tuner's notebook
setting put back after the search, and nothing at all with ``verbose=0``.
"""

from __future__ import annotations

import contextlib
import pathlib

import pytest

ROOT = pathlib.Path(__file__).parents[1]

CELLS = [
    # 0: setup
    """
import os, sys, warnings
os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
sys.path.insert(0, {root!r})
warnings.filterwarnings("ignore")
import logging
import numpy as np, keras, keras_tuner, kt_ext
logging.getLogger("tensorflow").setLevel(logging.ERROR)  # retracing notes
from kt_ext._internal.seam_oracle import keras_tuner_notebook_flag
from kt_ext.callbacks import ClearTrainingOutput

rng = np.random.default_rng(0)
x = rng.normal(size=(40, 4)).astype("float32")
y = (x[:, 0] > 0).astype("int32")
data = dict(x=x[:30], y=y[:30], validation_data=(x[30:], y[30:]))


def build(hp):
    model = keras.Sequential([
        keras.Input((4,)),
        keras.layers.Dense(hp.Int("units", 2, 4), activation="relu"),
        keras.layers.Dense(1, activation="sigmoid"),
    ])
    model.compile("adam", "binary_crossentropy")
    return model
""",
    # 1: kt_ext's progress
    """
tuner = kt_ext.RankPruning(build, objective="val_loss", max_epochs=1,
                           max_trials=3, seed=1, directory="runs",
                           project_name="rp")
tuner.search(**data, callbacks=[ClearTrainingOutput()])
""",
    # 2: Keras Tuner's own tuner with ClearTrainingOutput
    """
print("flag before:", keras_tuner_notebook_flag())
stock = keras_tuner.RandomSearch(build, objective="val_loss", max_trials=2,
                                 seed=1, directory="runs", project_name="rs")
stock.search(**data, epochs=1, callbacks=[ClearTrainingOutput()])
print("flag after:", keras_tuner_notebook_flag())
""",
    # 3: verbose=0
    """
quiet = kt_ext.CoarseToFine(build, objective="val_loss", max_epochs=1,
                            max_trials=2, seed=1, directory="runs",
                            project_name="quiet")
quiet.search(**data, callbacks=[ClearTrainingOutput()], verbose=0)
""",
]


def _run(tmp_path: pathlib.Path) -> list:
    nbclient = pytest.importorskip(
        "nbclient", reason="nbclient is not installed (the dev extra has it)"
    )
    nbformat = pytest.importorskip(
        "nbformat", reason="nbformat is not installed (the dev extra has it)"
    )
    notebook = nbformat.v4.new_notebook()
    notebook.cells = [
        nbformat.v4.new_code_cell(source.strip().format(root=str(ROOT)))
        for source in CELLS
    ]
    client = nbclient.NotebookClient(
        notebook,
        timeout=600,
        kernel_name="python3",
        resources={"metadata": {"path": str(tmp_path)}},
    )
    with contextlib.ExitStack() as stack:
        try:
            stack.enter_context(client.setup_kernel())
        except Exception as error:  # no kernel spec, no ipykernel, no ZMQ, ...
            pytest.skip(f"no Jupyter kernel could be started: {error!r}")
        for index, cell in enumerate(notebook.cells):
            client.execute_cell(cell, index)
    nbformat.validate(notebook)
    return [cell.outputs for cell in notebook.cells]


def _stdout(outputs: list) -> str:
    return "".join(
        output.text
        for output in outputs
        if output.output_type == "stream" and output.name == "stdout"
    )


def _displays(outputs: list) -> list[str]:
    return [
        output.data["text/plain"]
        for output in outputs
        if output.output_type == "display_data"
    ]


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> list:
    return _run(tmp_path_factory.mktemp("notebook"))


def test_kt_ext_progress_is_a_line_in_place_over_a_compact_log(outputs):
    cell = outputs[1]
    assert not [o for o in cell if o.output_type == "error"]
    # One display, updated in place: it ends as the search's summary.
    (line,) = _displays(cell)
    assert line.startswith("RankPruning | done in ")
    assert "3/3 trials" in line and "best val_loss" in line
    # The compact log: one line per trial, all kept.
    log = _stdout(cell).splitlines()
    assert [entry.split()[:2] for entry in log] == [
        ["trial", "0"],
        ["trial", "1"],
        ["trial", "2"],
    ]
    assert all("val_loss" in entry and "1 epoch" in entry for entry in log)
    # ClearTrainingOutput silenced Keras' progress bars.
    assert "Epoch" not in _stdout(cell) and "step" not in _stdout(cell)


def test_keras_tuner_summaries_stay_and_its_setting_is_put_back(outputs):
    cell = outputs[2]
    assert not [o for o in cell if o.output_type == "error"]
    text = _stdout(cell)
    # Not cleared: both trials' summaries are in the saved output.
    assert "Trial 1 Complete" in text and "Trial 2 Complete" in text
    assert text.count("Best val_loss So Far") == 2
    assert "Epoch 1/1" not in text
    assert "flag before: True" in text and "flag after: True" in text
    # ClearTrainingOutput's epoch line was blanked when training ended.
    assert all(line == "" for line in _displays(cell))


def test_verbose_0_shows_nothing(outputs):
    assert [o for o in outputs[3] if o.output_type != "stream" or o.text.strip()] == []
