"""kt_ext on the backend Keras runs on (docs/backends.md).

`make test-jax` and `make test-torch` run the tests marked `backends` under
``KERAS_BACKEND=jax`` and ``torch``; `make test` runs them on TensorFlow.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest

from kt_ext.hypermodels._pipeline import fit_arguments
from kt_ext.model_selection._split import take_rows
from kt_ext.tuners._lean import build_training_state, graph_signature

pytestmark = pytest.mark.backends

ROOT = Path(__file__).resolve().parents[1]


def test_the_backend_is_the_one_asked_for():
    # `make test-jax` would otherwise test TensorFlow without a word.
    assert keras.backend.backend() == os.environ.get("KERAS_BACKEND", "tensorflow")


def test_fold_rows_of_the_backends_own_tensors_stay_its_tensors():
    x = np.arange(12, dtype="float32").reshape(6, 2)
    tensor = keras.ops.convert_to_tensor(x)
    rows = np.array([4, 0, 2])
    taken = take_rows(tensor, rows)
    assert type(taken) is type(tensor)
    np.testing.assert_array_equal(keras.ops.convert_to_numpy(taken), x[rows])


SEARCH = textwrap.dedent(
    """
    import json, sys
    import keras, numpy as np
    import kt_ext
    from kt_ext.hypermodels import MLPHyperModel

    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 4)).astype("float32")
    y = (x[:, 0] > 0).astype("int32")
    hypermodel = MLPHyperModel.for_data(
        x, y, overrides={"num_layers": 1, "units": (2, 4), "batch_size": 20})
    tuner = kt_ext.RankPruning(hypermodel, objective="val_loss", max_epochs=2,
                               max_trials=2, seed=1, directory=sys.argv[1])
    # The backend's own tensors, split into folds on their own framework.
    x, y = keras.ops.convert_to_tensor(x), keras.ops.convert_to_tensor(y)
    tuner.search(x, y, epochs=2, cv=2, verbose=0)
    print(json.dumps({
        "backend": keras.backend.backend(),
        "tensorflow": "tensorflow" in sys.modules,
        "trials": len(tuner.oracle.trials),
    }))
    """
)


def test_a_search_off_tensorflow_loads_no_tensorflow(tmp_path):
    backend = keras.backend.backend()
    if backend == "tensorflow":
        pytest.skip("TensorFlow is the backend")
    paths = [str(ROOT), os.environ.get("PYTHONPATH", "")]
    result = subprocess.run(
        [sys.executable, "-c", SEARCH, str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=300,
        env={
            **os.environ,
            "KERAS_BACKEND": backend,
            "PYTHONPATH": os.pathsep.join(p for p in paths if p),
        },
    )
    assert result.returncode == 0, result.stderr[-3000:]
    row = json.loads(result.stdout.splitlines()[-1])
    assert row == {"backend": backend, "tensorflow": False, "trials": 2}


def test_lean_trials_and_the_tf_data_pipeline_are_tensorflows_alone():
    x, y = np.zeros((8, 2), "float32"), np.zeros(8, "float32")
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("adam", "mse")
    args, _ = fit_arguments((x, y), {"batch_size": 4})
    on_tensorflow = keras.backend.backend() == "tensorflow"
    # On TensorFlow: a pipeline, the optimizer built early, a reusable graph.
    assert (args[0] is not x) is on_tensorflow
    assert build_training_state(model, x, y) is on_tensorflow
    assert (graph_signature(model) is not None) is on_tensorflow
