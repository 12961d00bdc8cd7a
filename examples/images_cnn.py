"""Small images: ``CNNHyperModel`` on the 8x8 digits (an offline MNIST stand-in).

python examples/images_cnn.py
"""

from __future__ import annotations

import keras_tuner as kt
from _budget import parse_budget

from kt_ext import datasets
from kt_ext.hypermodels import CNNHyperModel

args = parse_budget(__doc__, max_epochs=6, max_trials=6)
(x, y), (x_val, y_val), (x_test, y_test) = datasets.load("digits_images", seed=1)
print("images:", x.shape, "classes:", len(set(y.tolist())))

hypermodel = CNNHyperModel.for_data(
    x, y, overrides={"filters": [8, 16], "batch_size": 64, "lr_schedule": None}
)
tuner = kt.RandomSearch(
    hypermodel,
    objective="val_accuracy",
    max_trials=args.max_trials,
    seed=1,
    directory=args.directory,
    project_name="digits_cnn",
)
tuner.search(x, y, epochs=args.max_epochs, validation_data=(x_val, y_val), verbose=0)
tuner.results_summary(num_trials=3)

best = tuner.get_best_models(1)[0]
test_accuracy = best.evaluate(x_test, y_test, verbose=0)[1]
print(f"test accuracy of the best trial's model: {test_accuracy:.4f}")
