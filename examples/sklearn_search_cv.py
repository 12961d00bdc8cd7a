"""The GridSearchCV tutorial's Keras model, searched two ways, side by side.

The tutorial's model: two Dense layers of ``neurons`` units and one of 8, each
followed by Dropout, a sigmoid output and binary cross-entropy, with
``neurons`` in {8, 16, 32, 64, 128} and the optimizer in {SGD, RMSprop,
Adadelta, Adam, Nadam}, cross-validated on 5 folds. Here it runs on the telco
churn table that ships with kt_ext (mixed text and numeric columns, which a
``ColumnTransformer`` one-hot encodes and scales in front of each search):

1. ``kt_ext.SearchCVClassifier``, called as ``GridSearchCV`` is, with the
   model as a ``model_builder(hp)`` whose ``hp.Choice`` entries are the grid:
   a coarse-to-fine search on the mean fold curve, given the epochs the grid
   trains (every fold's counted);
2. scikit-learn's ``GridSearchCV`` around Keras's own
   ``keras.wrappers.SKLearnClassifier`` (Keras 3.8+; scikeras no longer
   works with scikit-learn >= 1.6): all 25 configurations for
   ``--max-epochs`` each.

Both see the same training rows and the same folds; each refits its best
configuration on them, and the test rows score both once, at the end.
(``GridSearchCV`` fits the pipeline's scaler and imputer again in each fold;
``SearchCVClassifier``, the last step of its pipeline, gets rows that were scaled and
imputed with all the training rows, as any scikit-learn ``*CV`` estimator at
the end of a pipeline does.)

    python examples/sklearn_search_cv.py            # the tutorial's size
    python examples/sklearn_search_cv.py --rows 2000 --max-epochs 3
"""

from __future__ import annotations

import argparse
import contextlib
import io
import logging
import tempfile
import time
from importlib import resources

import keras
import keras_tuner as kt
import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

import kt_ext

NEURONS = [8, 16, 32, 64, 128]
OPTIMIZERS = ["sgd", "rmsprop", "adadelta", "adam", "nadam"]
NUMERIC = ["tenure", "MonthlyCharges", "TotalCharges"]

parser = argparse.ArgumentParser(
    description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
)
parser.add_argument("--max-epochs", type=int, default=5, help="epochs of a model")
parser.add_argument("--cv", type=int, default=5, help="folds")
parser.add_argument("--rows", type=int, default=0, help="customers (0: all 7,043)")
parser.add_argument("--neurons", type=int, nargs="+", default=NEURONS)
parser.add_argument("--optimizers", nargs="+", default=OPTIMIZERS)
parser.add_argument("--directory", help="SearchCV's folder (default: temporary)")
args = parser.parse_args()
if not hasattr(keras, "wrappers"):
    raise SystemExit(
        f"This example compares with keras.wrappers.SKLearnClassifier, which "
        f"Keras 3.8 added; this is Keras {keras.__version__}: pip install "
        "'keras>=3.8'."
    )
# Many small models make TensorFlow warn that it retraces.
logging.getLogger("tensorflow").setLevel(logging.ERROR)


def load_telco_churn(rows: int) -> tuple[pd.DataFrame, np.ndarray]:
    """The raw table: 19 mixed columns, churned (1) or not (0)."""
    path = resources.files("kt_ext.datasets") / "_data" / "telco_churn.csv.gz"
    with resources.as_file(path) as csv:
        table = pd.read_csv(csv)
    if rows:
        table = table.sample(rows, random_state=0)
    # 11 new customers have a blank TotalCharges.
    table["TotalCharges"] = pd.to_numeric(table["TotalCharges"], errors="coerce")
    y = (table.pop("Churn") == "Yes").to_numpy(dtype=int)
    return table.drop(columns="customerID"), y


def preprocessing(x: pd.DataFrame) -> tuple[ColumnTransformer, int]:
    """The encoder of ``x``'s columns, and how many features it makes.

    The text columns' categories are the table's (its schema, not a
    statistic), so every fold's encoding has the same width.
    """
    text = [column for column in x if column not in NUMERIC]
    categories = [sorted(x[column].unique()) for column in text]
    encoder = ColumnTransformer(
        [
            ("numeric", make_pipeline(SimpleImputer(), StandardScaler()), NUMERIC),
            ("text", OneHotEncoder(categories=categories), text),
        ]
    )
    return encoder, len(NUMERIC) + sum(len(values) for values in categories)


def tutorial_model(
    neurons: int, optimizer: str, inputs: int, outputs: int = 1
) -> keras.Model:
    """The tutorial's model, on ``inputs`` features."""
    model = keras.Sequential([keras.Input((inputs,))])
    for units in (neurons, neurons, 8):
        model.add(keras.layers.Dense(units, activation="relu"))
        model.add(keras.layers.Dropout(0.2))
    model.add(keras.layers.Dense(outputs, activation="sigmoid"))
    model.compile(optimizer=optimizer, loss="binary_crossentropy", metrics=["accuracy"])
    return model


def model_builder(hp: kt.HyperParameters) -> keras.Model:
    return tutorial_model(
        hp.Choice("neurons", args.neurons),
        hp.Choice("optimizer", args.optimizers),
        features,
    )


def wrapped_model(X, y, neurons: int, optimizer: str) -> keras.Model:
    """For SKLearnClassifier, which one-hot encodes the labels (y has 2 columns)."""
    return tutorial_model(neurons, optimizer, X.shape[1], outputs=y.shape[1])


x, y = load_telco_churn(args.rows)
encoder, features = preprocessing(x)
x_train, x_test, y_train, y_test = train_test_split(
    x, y, test_size=0.2, stratify=y, random_state=0
)
folds = StratifiedKFold(args.cv, shuffle=True, random_state=0)
grid = [{"neurons": n, "optimizer": o} for n in args.neurons for o in args.optimizers]
# The grid trains every configuration on every fold for --max-epochs.
budget = len(grid) * args.cv * args.max_epochs
print(
    f"{len(x_train)} training rows, {len(x_test)} test rows; "
    f"{len(grid)} configurations, {args.cv} folds, {budget} fold-epochs each way"
)

started = time.perf_counter()
# GridSearchCV(estimator, param_grid, cv=folds) becomes:
search = make_pipeline(
    clone(encoder),
    kt_ext.SearchCVClassifier(
        model_builder,
        cv=folds,
        max_epochs=args.max_epochs,
        epoch_budget=budget,
        random_state=0,
        directory=args.directory or tempfile.mkdtemp(prefix="kt_ext_example_"),
    ),
).fit(x_train, y_train)
ours = search[-1]
results = {
    "SearchCVClassifier": (
        ours.best_params_,
        ours.best_score_,
        len(ours.cv_results_["params"]),
        search.score(x_test, y_test),
        time.perf_counter() - started,
    )
}

started = time.perf_counter()
classifier = keras.wrappers.SKLearnClassifier(model=wrapped_model)
gridsearch = GridSearchCV(
    make_pipeline(clone(encoder), classifier),
    {"sklearnclassifier__model_kwargs": grid},
    cv=folds,
)
# SKLearnClassifier.predict shows a progress bar on every call: hidden here.
with contextlib.redirect_stdout(io.StringIO()):
    # Fit arguments go through fit(): SKLearnClassifier's clone drops fit_kwargs.
    gridsearch.fit(
        x_train,
        y_train,
        sklearnclassifier__epochs=args.max_epochs,
        sklearnclassifier__verbose=0,
    )
    test_score = gridsearch.score(x_test, y_test)
results["GridSearchCV"] = (
    gridsearch.best_params_["sklearnclassifier__model_kwargs"],
    gridsearch.best_score_,
    len(grid),
    test_score,
    time.perf_counter() - started,
)

for name, (params, cv_score, configurations, test_score, seconds) in results.items():
    print(
        f"{name:>18}: {configurations:3d} configurations, {seconds:6.1f} s, "
        f"cv accuracy {cv_score:.4f}, test accuracy {test_score:.4f}, best {params}"
    )
