"""Learning-rate schedules that scale the tuned learning rate.

First the pure schedule functions, then a hand-written model trained with
``HoldThenExponentialDecay``, then ``MLPHyperModel`` tuning the schedule kind
(``lr_schedule``) together with the base learning rate.

    python examples/lr_schedules.py
"""

from __future__ import annotations

import keras
import keras_tuner as kt
from _budget import parse_budget

from kt_ext import datasets
from kt_ext.callbacks import (
    HoldThenExponentialDecay,
    hold_then_exponential_decay,
    step_decay,
    warmup_cosine_decay,
)
from kt_ext.hypermodels import MLPHyperModel

args = parse_budget(__doc__, max_epochs=12, max_trials=6)
base_lr = 0.01
total = 12
print(f"epoch  hold_exp   step       warmup_cosine  (base_lr={base_lr})")
for epoch in range(0, total, 2):
    print(
        f"{epoch:5d}  {hold_then_exponential_decay(epoch, base_lr, hold_epochs=4):.5f}"
        f"    {step_decay(epoch, base_lr, drop_every=4):.5f}"
        f"    {warmup_cosine_decay(epoch, base_lr, total_epochs=total):.5f}"
    )

(x, y), (x_val, y_val), _ = datasets.load("wine", seed=1)
model = keras.Sequential(
    [keras.Input((x.shape[1],)), keras.layers.Dense(16, "relu"), keras.layers.Dense(3)]
)
model.compile(
    keras.optimizers.Adam(base_lr),
    keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    metrics=["accuracy"],
)
history = model.fit(
    x,
    y,
    epochs=args.max_epochs,
    validation_data=(x_val, y_val),
    callbacks=[HoldThenExponentialDecay(hold_epochs=4, decay=0.2)],
    verbose=0,
)
print(
    "learning_rate per epoch:", [f"{lr:.5f}" for lr in history.history["learning_rate"]]
)

tuner = kt.RandomSearch(
    MLPHyperModel.for_data(x, y, overrides={"num_layers": 1, "units": 16}),
    objective="val_accuracy",
    max_trials=args.max_trials,
    seed=1,
    directory=args.directory,
    project_name="schedules",
)
tuner.search(x, y, epochs=args.max_epochs, validation_data=(x_val, y_val), verbose=0)
best = tuner.get_best_hyperparameters(1)[0]
print(
    f"best schedule: {best.get('lr_schedule')} at learning_rate "
    f"{best.get('learning_rate'):.5f}"
)
