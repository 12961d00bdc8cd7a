"""The ``kt-ext`` command line.

``kt-ext compare`` compares tuners against Hyperband at an equal epoch budget
over several seeds and writes results.csv, summary.md, anytime.png and
report.html (needs the ``analysis`` extra). ``kt-ext search`` runs one tuner
with a kt_ext hypermodel template on a bundled data set, one line of progress
per trial, then prints the best hyperparameters, the best validation score and
the test score of the final model (the best configuration retrained on train +
validation). ``kt-ext report DIR --out FILE.html`` writes a self-contained HTML
report of a tuner directory (needs the ``analysis`` extra).

Example:
    $ kt-ext compare --dataset breast_cancer --tuners hyperband,random --seeds 2
    $ kt-ext search --dataset breast_cancer --tuner hyperband --max-epochs 9
    $ kt-ext report runs/bc --out bc_report.html
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kt_ext import datasets
from kt_ext._names import BUILTIN_TUNERS, is_bookkeeping

# Registered in kt_ext.compare; named in kt_ext._names so `--help` needs no Keras.
TUNER_NAMES = ", ".join(BUILTIN_TUNERS)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``kt-ext`` console script.

    Example:
        >>> main(["search", "--dataset", "iris", "--max-epochs", "1"])  # doctest: +SKIP
    """
    parser = _parser()
    args = parser.parse_args(argv)
    commands = {"compare": _compare, "search": _search, "report": _report}
    if args.command not in commands:
        parser.print_help()
        return 2
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    try:
        return commands[args.command](args)
    except (ImportError, OSError, ValueError) as error:
        print(f"kt-ext {args.command}: error: {error}", file=sys.stderr)
        return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="kt-ext", description=__doc__.split("\n")[0])
    commands = parser.add_subparsers(dest="command")

    compare = commands.add_parser(
        "compare", help="compare tuners against Hyperband at an equal epoch budget"
    )
    data = compare.add_mutually_exclusive_group()
    data.add_argument("--dataset", choices=datasets.NAMES, default="breast_cancer")
    data.add_argument("--csv", metavar="FILE", help="a CSV file (with --target)")
    compare.add_argument("--target", metavar="COLUMN", help="the CSV's target column")
    compare.add_argument(
        "--tuners",
        default="hyperband,coarse_to_fine,rank_pruning",
        help=f"comma-separated, from: {TUNER_NAMES} (hyperband always runs first)",
    )
    compare.add_argument("--seeds", type=_positive_int, default=2)
    _add_epochs(compare)
    compare.add_argument(
        "--objective",
        default=None,
        help="default: val_accuracy for classification, val_loss for regression",
    )
    compare.add_argument("--out", default="kt_ext_compare", metavar="DIR")
    compare.add_argument("--no-progress", action="store_true")

    search = commands.add_parser(
        "search", help="tune a kt_ext hypermodel on a bundled data set"
    )
    search.add_argument("--dataset", choices=datasets.NAMES, default="breast_cancer")
    search.add_argument("--tuner", default="hyperband", help=f"one of: {TUNER_NAMES}")
    _add_epochs(search)
    search.add_argument(
        "--max-trials",
        type=_positive_int,
        default=10,
        help="trials of max-epochs for random and bayesian (default 10)",
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


def _add_epochs(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=9,
        help="epochs of the longest trial (default 9)",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return value


def _compare(args: argparse.Namespace) -> int:
    from kt_ext.compare import compare

    data: Any = args.dataset
    if args.csv:
        data = _csv_dataset(args.csv, args.target)
    elif args.target:
        raise ValueError("`--target` needs `--csv`.")
    result = compare(
        data,
        tuners=args.tuners,
        seeds=args.seeds,
        max_epochs=args.max_epochs,
        objective=args.objective,
        out=args.out,
        progress=not args.no_progress,
    )
    print((result.out / "summary.md").read_text())
    print(f"Results, plot and report in {result.out}/")
    return 0


def _csv_dataset(path: str, target: str | None) -> datasets.Dataset:
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(
            "`--csv` needs pandas, part of the `analysis` extra: "
            "pip install 'kt_ext[analysis]'"
        ) from error
    table = pd.read_csv(path)
    if target not in table.columns:
        raise ValueError(
            f"`--target` must name a column of {path}, got {target!r}; "
            f"columns: {list(table.columns)}."
        )
    split = datasets.split(table.drop(columns=[target]), table[target], seed=0)
    return dataclasses.replace(split, name=Path(path).stem)


def _search(args: argparse.Namespace) -> int:
    from kt_ext.compare import (
        SearchSpec,
        TrialCost,
        anytime_curve,
        objective_direction,
        run_search,
        template_for,
    )

    data = datasets.load(args.dataset, seed=args.seed)
    hypermodel = template_for(*data.train)
    objective = "val_loss" if data.task == "regression" else "val_accuracy"
    direction = objective_direction(objective)
    stock_trials = args.tuner in ("random", "bayesian")
    fits: list[TrialCost] = []

    def report_fit(record: TrialCost) -> None:
        fits.append(record)
        _, _, best = anytime_curve(fits, direction)[-1]
        score = "failed" if record.score is None else f"{record.score:.4f}"
        print(
            f"  trial {len(fits):>4}  {score}  best {best:.4f}  "
            f"epochs so far {record.cumulative_epochs:>4}  {record.elapsed_s:6.1f} s",
            flush=True,
        )

    print(
        f"Tuning {type(hypermodel).__name__} on {args.dataset} "
        f"({len(data.train[0])} train / {len(data.validation[0])} validation rows) "
        f"with {args.tuner}, objective {objective}.",
        flush=True,
    )
    with tempfile.TemporaryDirectory(prefix="kt_ext_") as scratch:
        spec = SearchSpec(
            hypermodel=hypermodel,
            objective=objective,
            max_epochs=args.max_epochs,
            factor=3,
            seed=args.seed,
            directory=args.directory or scratch,
            project_name=f"{args.dataset}_{args.tuner}",
            epoch_budget=args.max_trials * args.max_epochs if stock_trials else None,
        )
        row, _, tuner = run_search(args.tuner, spec, data, on_fit=report_fit)
    best_trial = tuner.oracle.get_best_trials(1)[0]
    print("\nBest hyperparameters:")
    for name, value in best_trial.hyperparameters.values.items():
        if not is_bookkeeping(name):
            print(f"  {name:<20} {value}")
    print(f"Best {objective}: {row['best_val']:.4f} (trial {best_trial.trial_id})")
    epochs = best_trial.hyperparameters.values.get("tuner/epochs", args.max_epochs)
    print(
        f"Test {objective.removeprefix('val_')} of the final model (retrained on "
        f"train + validation for {epochs} epochs): {row['test_score']:.4f}"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from kt_ext.analysis import write_report

    path = write_report(args.directory, args.out)
    print(f"Report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
