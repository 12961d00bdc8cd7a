#!/usr/bin/env bash
# `make wheel-check`: build kt_ext's sdist and wheel (the wheel from the sdist),
# install the wheel in a fresh venv outside the source tree, and from a
# temporary folder: import kt_ext, check py.typed, the public `dir(kt_ext)` and
# the bundled data, run `kt-ext --help` and a one-trial search.
#   BUILD_PYTHON: a Python with `build` installed (the dev extra has it)
#   VENV_PYTHON:  the interpreter the fresh venv is made from (python3)
set -euo pipefail
export TF_CPP_MIN_LOG_LEVEL=2  # TensorFlow's native log lines
cd "$(dirname "$0")/.."
BUILD_PYTHON=${BUILD_PYTHON:-python3}
VENV_PYTHON=${VENV_PYTHON:-python3}
work=$(mktemp -d "${TMPDIR:-/tmp}/kt_ext_wheel.XXXXXX")
trap 'rm -rf "$work"' EXIT

start=$SECONDS
"$BUILD_PYTHON" -m build --outdir "$work/dist" . >"$work/build.log" 2>&1 \
    || { cat "$work/build.log"; exit 1; }
wheel=$(ls "$work"/dist/*.whl)
echo "built $(basename "$wheel") and $(basename "$(ls "$work"/dist/*.tar.gz)") in $((SECONDS - start)) s"

start=$SECONDS
"$VENV_PYTHON" -m venv "$work/venv"
"$work/venv/bin/python" -m pip install --quiet "$wheel"
echo "installed it with its dependencies into a fresh venv in $((SECONDS - start)) s"

mkdir "$work/run" && cd "$work/run"  # no kt_ext/ beside us to import by mistake
start=$SECONDS
"$work/venv/bin/kt-ext" --help >/dev/null
"$work/venv/bin/python" - <<'PY'
import pathlib

import numpy as np

import kt_ext
from kt_ext import datasets

where = pathlib.Path(kt_ext.__file__).parent
assert "site-packages" in str(where), f"imported from {where}, not the wheel"
assert (where / "py.typed").is_file(), "py.typed is not in the wheel"
assert dir(kt_ext) == sorted(kt_ext.__all__), f"dir(kt_ext) = {dir(kt_ext)}"
churn = datasets.load("telco_churn")  # the data file shipped in the package
assert len(churn.train[0]) > 1000, churn

(x, y), (x_val, y_val), _ = datasets.load("iris", seed=0)
tuner = kt_ext.CoarseToFine(
    kt_ext.hypermodels.MLPHyperModel.for_data(x, y),
    objective="val_accuracy",
    max_epochs=1,
    max_trials=1,
    seed=0,
    directory="runs",
    project_name="wheel_check",
)
tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)
best = tuner.get_best_hyperparameters()[0]
assert np.isfinite(tuner.oracle.get_best_trials(1)[0].score)
print(f"kt_ext {kt_ext.__version__} from {where}: one trial, units={best.get('units')}")
PY
echo "kt-ext --help and a one-trial search from $PWD in $((SECONDS - start)) s"
