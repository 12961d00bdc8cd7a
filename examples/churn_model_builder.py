"""A hand-written ``model_builder(hp)`` on the telco-churn table.

The typical Keras Tuner walkthrough script, on data that ships with kt_ext
(mixed categorical and numeric columns, encoded and scaled on train only),
with ``ClearTrainingOutput`` keeping the output to one summary per trial.

    python examples/churn_model_builder.py
"""

from __future__ import annotations

import keras
import keras_tuner as kt
from _budget import parse_budget

from kt_ext import datasets
from kt_ext.callbacks import ClearTrainingOutput

args = parse_budget(__doc__, max_epochs=9)
data = datasets.load("telco_churn", seed=1)
(x, y), (x_val, y_val), (x_test, y_test) = data
print(f"{len(x)} training rows, {x.shape[1]} features after one-hot encoding")


def model_builder(hp: kt.HyperParameters) -> keras.Model:
    model = keras.Sequential(
        [
            keras.Input((x.shape[1],)),
            keras.layers.Dense(hp.Int("units", 32, 512, step=32), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(hp.Choice("learning_rate", [1e-2, 1e-3, 1e-4])),
        loss="binary_crossentropy",
        metrics=["accuracy"],
    )
    return model


tuner = kt.Hyperband(
    model_builder,
    objective="val_accuracy",
    max_epochs=args.max_epochs,
    factor=3,
    seed=1,
    directory=args.directory,
    project_name="churn",
)
tuner.search(
    x,
    y,
    epochs=args.max_epochs,
    batch_size=50,
    validation_data=(x_val, y_val),
    callbacks=[ClearTrainingOutput()],
)
best_hp = tuner.get_best_hyperparameters(num_trials=1)[0]
print(
    f"best units: {best_hp.get('units')}, learning rate: {best_hp.get('learning_rate')}"
)
model = tuner.get_best_models()[0]
test_accuracy = model.evaluate(x_test, y_test, verbose=0)[1]
print(f"test accuracy of the best model: {test_accuracy:.4f}")
