"""The ``kt-ext`` command line.

``kt-ext search`` runs a stock Keras Tuner search with a kt_ext hypermodel
template on a bundled data set, prints one line of progress per trial, then
the best hyperparameters, the best validation score and the test score of
the final model (the best configuration retrained on train + validation).
``kt-ext report DIR --out FILE.html`` writes a self-contained HTML report of a
tuner directory (needs the ``analysis`` extra).

Example:
    $ kt-ext search --dataset breast_cancer --tuner hyperband --max-epochs 9
    $ kt-ext report runs/bc --out bc_report.html
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
import warnings
from collections.abc import Sequence
from typing import Any

from kt_ext import datasets

TUNERS = ("hyperband", "random", "bayesian")


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kt-ext`` console script.

    Example:
        >>> main(["search", "--dataset", "iris", "--max-epochs", "1"])  # doctest: +SKIP
    """
    parser = _parser()
    args = parser.parse_args(argv)
    if args.command == "search":
        return _search(args)
    if args.command == "report":
        return _report(args)
    parser.print_help()
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kt-ext", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")
    search = commands.add_parser(
        "search",
        help="tune a kt_ext hypermodel on a bundled data set with a stock tuner",
    )
    search.add_argument("--dataset", choices=datasets.NAMES, default="breast_cancer")
    search.add_argument("--tuner", choices=TUNERS, default="hyperband")
    search.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=9,
        help="epochs of the longest trial (default 9)",
    )
    search.add_argument(
        "--max-trials",
        type=_positive_int,
        default=10,
        help="trials for random and bayesian (default 10; hyperband sets its own)",
    )
    search.add_argument("--seed", type=int, default=1)
    search.add_argument(
        "--directory",
        default=None,
        help="where Keras Tuner keeps its trials (default: a temporary folder)",
    )
    report = commands.add_parser(
        "report", help="write a self-contained HTML report of a tuner directory"
    )
    report.add_argument(
        "directory",
        metavar="DIR",
        help="a Keras Tuner project folder (directory/project_name, with oracle.json)",
    )
    report.add_argument(
        "--out", required=True, metavar="FILE.html", help="the HTML file to write"
    )
    return parser


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return value


def _search(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    # Hyperband continues a trial from its parent's weights only; Keras warns
    # each time that the saved optimizer state is not restored.
    warnings.filterwarnings("ignore", message="Skipping variable loading for optimizer")
    import keras
    import keras_tuner as kt
    import numpy as np

    from kt_ext.hypermodels import CNNHyperModel, MLPHyperModel

    data = datasets.load(args.dataset, seed=args.seed)
    (x_train, y_train), (x_val, y_val), (x_test, y_test) = data
    template = CNNHyperModel if x_train.ndim == 4 else MLPHyperModel
    hypermodel = template.for_data(x_train, y_train)
    objective = "val_loss" if hypermodel.task == "regression" else "val_accuracy"
    keras.utils.set_random_seed(args.seed)

    common: dict[str, Any] = {
        "objective": objective,
        "seed": args.seed,
        "overwrite": True,
        "project_name": f"{args.dataset}_{args.tuner}",
    }
    if args.tuner == "hyperband":
        tuner_cls, extra = kt.Hyperband, {"max_epochs": args.max_epochs, "factor": 3}
    elif args.tuner == "random":
        tuner_cls, extra = kt.RandomSearch, {"max_trials": args.max_trials}
    else:
        tuner_cls, extra = kt.BayesianOptimization, {"max_trials": args.max_trials}

    with tempfile.TemporaryDirectory(prefix="kt_ext_") as scratch:
        tuner = _with_progress(tuner_cls, args.max_epochs)(
            hypermodel, directory=args.directory or scratch, **common, **extra
        )
        print(
            f"Tuning {template.__name__} on {args.dataset} "
            f"({len(x_train)} train / {len(x_val)} validation rows) with "
            f"{tuner_cls.__name__}, objective {objective}.",
            flush=True,
        )
        tuner.search(
            x_train,
            y_train,
            epochs=args.max_epochs,
            validation_data=(x_val, y_val),
            verbose=0,
        )
        best_trial = tuner.oracle.get_best_trials(1)[0]
        best_hp = best_trial.hyperparameters
        epochs = best_hp.values.get("tuner/epochs", args.max_epochs)

        print("\nBest hyperparameters:")
        for name, value in best_hp.values.items():
            if not name.startswith("tuner/"):
                print(f"  {name:<20} {value}")
        print(f"Best {objective}: {best_trial.score:.4f} (trial {best_trial.trial_id})")

        # The final model: the best configuration retrained once on train +
        # validation for the best trial's epochs; the test data is read here only.
        keras.utils.set_random_seed(args.seed)
        model = hypermodel.build(best_hp)
        hypermodel.fit(
            best_hp,
            model,
            np.concatenate([x_train, x_val]),
            np.concatenate([y_train, y_val]),
            epochs=epochs,
            verbose=0,
        )
        scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
        metric = objective.removeprefix("val_")
        print(
            f"Test {metric} of the final model (retrained on train + validation for "
            f"{epochs} epochs): {scores[metric]:.4f}"
        )
    return 0


def _report(args: argparse.Namespace) -> int:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        from kt_ext.analysis import write_report

        path = write_report(args.directory, args.out)
    except (ImportError, OSError, ValueError) as error:
        print(f"kt-ext report: error: {error}", file=sys.stderr)
        return 2
    print(f"Report written to {path}")
    return 0


def _with_progress(tuner_cls: type, epochs_per_trial: int) -> type:
    """``tuner_cls`` extended to print one line per finished trial.

    ``epochs_per_trial`` counts trials without Hyperband's ``tuner/epochs``.
    """

    class WithProgress(tuner_cls):
        def on_search_begin(self) -> None:
            super().on_search_begin()
            self._started = time.monotonic()
            self._epochs_done = 0

        def on_trial_end(self, trial: Any) -> None:
            super().on_trial_end(trial)
            values = trial.hyperparameters.values
            self._epochs_done += values.get(
                "tuner/epochs", epochs_per_trial
            ) - values.get("tuner/initial_epoch", 0)
            best = self.oracle.get_best_trials(1)
            best_score = f"{best[0].score:.4f}" if best else "-"
            score = "failed" if trial.score is None else f"{trial.score:.4f}"
            print(
                f"  trial {trial.trial_id:>4}  {score}  best {best_score}  "
                f"epochs so far {self._epochs_done:>4}  "
                f"{time.monotonic() - self._started:6.1f} s",
                flush=True,
            )

    WithProgress.__name__ = tuner_cls.__name__
    return WithProgress


if __name__ == "__main__":
    sys.exit(main())
