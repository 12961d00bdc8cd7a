"""One process of a search on several machines (Keras Tuner's chief/worker mode).

Run it once as the chief and once per worker, each with the same folder (a
shared file system across machines: workers continue each other's trials from
their weights, and the chief loads the best model from there), e.g. on one
machine with ``distributed_local.sh``:

    KERASTUNER_TUNER_ID=chief  KERASTUNER_ORACLE_IP=127.0.0.1 \\
        KERASTUNER_ORACLE_PORT=8000 python distributed_search.py &
    KERASTUNER_TUNER_ID=tuner0 KERASTUNER_ORACLE_IP=127.0.0.1 \\
        KERASTUNER_ORACLE_PORT=8000 python distributed_search.py &
    ...

The chief serves the oracle and exits when the search ends; a worker that
goes silent for ``worker_timeout`` seconds (killed, machine lost) has its trial
handed to another worker.
"""

from __future__ import annotations

import os

from _budget import parse_budget

import kt_ext
from kt_ext import datasets
from kt_ext.hypermodels import MLPHyperModel

args = parse_budget(__doc__, max_epochs=9, directory="kt_ext_distributed")
(x, y), (x_val, y_val), (x_test, y_test) = datasets.load("breast_cancer", seed=1)

hypermodel = MLPHyperModel.for_data(x, y, overrides={"num_layers": (1, 2)})
tuner = kt_ext.CoarseToFine(
    hypermodel,
    objective="val_accuracy",
    max_epochs=args.max_epochs,
    seed=1,
    worker_timeout=60,  # seconds without news from a worker before its trial moves
    directory=args.directory,
    project_name="distributed",
)
tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)

if os.environ.get("KERASTUNER_TUNER_ID", "chief") == "chief":
    best = tuner.oracle.get_best_trials(1)[0]
    values = {k: v for k, v in best.hyperparameters.values.items() if "/" not in k}
    print(f"{len(tuner.oracle.trials)} trials; best val_accuracy {best.score:.4f}")
    print("best hyperparameters:", values)
    model = tuner.get_best_models(1)[0]
    print(f"test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
