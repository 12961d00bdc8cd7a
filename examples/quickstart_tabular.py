"""Tabular quickstart: stock ``kt.Hyperband`` with kt_ext's ``MLPHyperModel``.

Tunes a dense network for the breast-cancer data, then retrains the best
configuration on train + validation and scores it once on the test split.

    python examples/quickstart_tabular.py
"""

from __future__ import annotations

import keras_tuner as kt
import numpy as np
from _budget import parse_budget

from kt_ext import datasets
from kt_ext.hypermodels import MLPHyperModel

args = parse_budget(__doc__, max_epochs=9)
(x, y), (x_val, y_val), (x_test, y_test) = datasets.load("breast_cancer", seed=1)

# Keep the search small: at most two hidden layers, and a narrower rate range.
hypermodel = MLPHyperModel.for_data(
    x, y, overrides={"num_layers": (1, 2), "learning_rate": (1e-3, 3e-2, "log")}
)
tuner = kt.Hyperband(
    hypermodel,
    objective="val_accuracy",
    max_epochs=args.max_epochs,
    factor=3,
    seed=1,
    directory=args.directory,
    project_name="quickstart",
)
tuner.search(x, y, validation_data=(x_val, y_val), verbose=0)

best_hp = tuner.get_best_hyperparameters(1)[0]
print(
    "best hyperparameters:", {k: v for k, v in best_hp.values.items() if "/" not in k}
)
print(f"best val_accuracy: {tuner.oracle.get_best_trials(1)[0].score:.4f}")

model = hypermodel.build(best_hp)
hypermodel.fit(
    best_hp,
    model,
    np.concatenate([x, x_val]),
    np.concatenate([y, y_val]),
    epochs=best_hp.values.get("tuner/epochs", args.max_epochs),
    verbose=0,
)
print(f"test accuracy: {model.evaluate(x_test, y_test, verbose=0)[1]:.4f}")
