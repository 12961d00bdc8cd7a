"""The ``kt-ext`` command line.

``kt-ext search`` runs one tuner with a kt_ext hypermodel template on a bundled
data set or on your own CSV file, one line of progress per trial, then prints
the best hyperparameters, the best validation score and the test score of the
final model (the best configuration retrained on train + validation). Its
trials are kept in ``--directory`` (default ``kt_ext_search`` in the current
folder), and the same command run again resumes them; ``--overwrite`` starts
over. ``kt-ext compare`` compares tuners against Hyperband at an equal epoch
budget over several seeds (with ``--cv K``, on a K-fold cross-validated
objective), prints a summary with each tuner's best hyperparameters, and
writes results.csv, summary.md, anytime.png and report.html (needs the
``analysis`` extra). ``kt-ext report DIR`` writes a self-contained HTML report
of a tuner directory to ``DIR/report.html``, or where ``--out`` says (needs
the ``analysis`` extra). A rerun of ``kt-ext search`` with other settings than the
saved search's (another ``--max-epochs``, ``--seed``, ...) is refused before
any training, for every tuner; the message names ``--overwrite`` and
``--directory``.

Arguments, files and tuner names are checked before TensorFlow, Keras Tuner or
scikit-learn is imported, so a mistake fails at once. TensorFlow's native
information and warning lines (absl, CUDA) are kept off the terminal unless
``--verbose``; its error lines always show.

Example:
    $ kt-ext search --dataset breast_cancer --tuner hyperband --max-epochs 9
    $ kt-ext search --csv churn.csv --target Churn --drop customerID
    $ kt-ext compare --dataset breast_cancer --tuners hyperband,random --seeds 2
    $ kt-ext compare --dataset wine --cv 3 --seeds 3
    $ kt-ext report kt_ext_search/breast_cancer_hyperband
"""

from __future__ import annotations

import argparse
import csv
import dataclasses
import gzip
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from kt_ext._cli_help import DESCRIPTION, EXAMPLES
from kt_ext._cli_workers import add_workers_option, check_workers_option
from kt_ext._internal.names import BUILTIN_TUNERS, DATASET_NAMES, epochs_text
from kt_ext._internal.quiet import quiet_terminal
from kt_ext.errors import ResumeError

# Registered in kt_ext.compare; named in kt_ext._internal.names so that the checks and
# `--help` need no Keras.
TUNER_NAMES = ", ".join(BUILTIN_TUNERS)

#: Where ``kt-ext search`` keeps its trials unless ``--directory`` says.
DEFAULT_SEARCH_DIRECTORY = "kt_ext_search"

#: How a command-line user starts a search over (in a refused resume's message).
START_OVER = (
    "start over with --overwrite (which deletes the saved search) or another "
    "--directory"
)


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
    try:
        _check(args)
    except ValueError as error:
        return _fail(args.command, error)
    with quiet_terminal(verbose=args.verbose):
        try:
            return commands[args.command](args)
        except (ImportError, OSError, ValueError) as error:
            return _fail(args.command, error)


def _fail(command: str, error: Exception) -> int:
    message = (
        error.explain(START_OVER) if isinstance(error, ResumeError) else str(error)
    )
    print(f"kt-ext {command}: error: {message}", file=sys.stderr)
    return 2


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kt-ext",
        description=DESCRIPTION,
        epilog=EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--verbose",
        action="store_true",
        help="show TensorFlow's information and warning lines (absl, CUDA), "
        "hidden by default",
    )

    search = commands.add_parser(
        "search",
        parents=[common],
        help="tune a kt_ext hypermodel on a bundled data set or a CSV file",
        description="Tune a kt_ext hypermodel template on a bundled data set or "
        "a CSV file, then retrain the best configuration on train + validation "
        "and score it on the test split. The same command run again resumes the "
        "search; other settings than the saved search's are refused.",
    )
    _add_data(search)
    search.add_argument(
        "--tuner",
        default="hyperband",
        metavar="NAME",
        help=f"one of: {TUNER_NAMES} (default hyperband)",
    )
    _add_epochs(search)
    search.add_argument(
        "--max-trials",
        type=_positive_int,
        default=10,
        metavar="N",
        help="trials of max-epochs for random and bayesian (default 10)",
    )
    search.add_argument(
        "--seed",
        type=int,
        default=1,
        help="seeds the data split and the search (default 1)",
    )
    search.add_argument(
        "--directory",
        default=DEFAULT_SEARCH_DIRECTORY,
        metavar="DIR",
        help="folder that keeps the trials, one project per data set and tuner; "
        "the same command run again resumes them "
        f"(default: {DEFAULT_SEARCH_DIRECTORY} in the current folder)",
    )
    add_workers_option(search)
    search.add_argument(
        "--overwrite",
        action="store_true",
        help="start the search over instead of resuming it",
    )

    compare = commands.add_parser(
        "compare",
        parents=[common],
        help="compare tuners against Hyperband at an equal epoch budget",
        description="Compare tuners against Keras Tuner's Hyperband at an equal "
        "epoch budget over several seeds; every tuner of a seed is scored on the "
        "same data (with --cv, the same folds). Writes results.csv, summary.md, "
        "anytime.png and report.html.",
    )
    _add_data(compare)
    compare.add_argument(
        "--tuners",
        default="hyperband,coarse_to_fine,rank_pruning",
        metavar="NAMES",
        help=f"comma-separated, from: {TUNER_NAMES} (hyperband always runs "
        "first; default hyperband,coarse_to_fine,rank_pruning)",
    )
    compare.add_argument(
        "--seeds",
        type=_positive_int,
        default=2,
        metavar="N",
        help="run every tuner with seeds 1 to N (default 2)",
    )
    _add_epochs(compare)
    compare.add_argument(
        "--objective",
        default=None,
        metavar="METRIC",
        help="default: val_accuracy for classification, val_loss for regression",
    )
    compare.add_argument(
        "--cv",
        type=int,
        default=None,
        metavar="K",
        help="cross-validate every tuner's search with K >= 2 folds of train + "
        "validation instead of scoring on the validation split; every fold's "
        "epochs count in the budget (default: no cross-validation)",
    )
    compare.add_argument(
        "--out",
        default="kt_ext_compare",
        metavar="DIR",
        help="folder for the results, created inside an existing folder "
        "(default: kt_ext_compare)",
    )
    compare.add_argument(
        "--no-progress", action="store_true", help="hide the progress bar"
    )

    report = commands.add_parser(
        "report",
        parents=[common],
        help="write a self-contained HTML report of a tuner directory",
        description="Write a self-contained HTML report of a saved search, one "
        "file with its tables and plots.",
    )
    report.add_argument(
        "directory",
        metavar="DIR",
        help="a Keras Tuner project folder (directory/project_name, with oracle.json)",
    )
    report.add_argument(
        "--out",
        default=None,
        metavar="FILE.html",
        help="the HTML file to write, in an existing folder (default: DIR/report.html)",
    )
    return parser


def _add_data(command: argparse.ArgumentParser) -> None:
    data = command.add_mutually_exclusive_group()
    data.add_argument(
        "--dataset",
        choices=DATASET_NAMES,
        default="breast_cancer",
        metavar="NAME",
        help=f"a bundled data set, one of: {', '.join(DATASET_NAMES)} "
        "(default breast_cancer)",
    )
    data.add_argument(
        "--csv",
        metavar="FILE",
        help="your own data: a CSV file with a header row (needs --target); "
        "blank cells are missing values, imputed",
    )
    command.add_argument("--target", metavar="COLUMN", help="the CSV's target column")
    command.add_argument(
        "--drop",
        metavar="COLUMNS",
        default="",
        help="comma-separated CSV columns to leave out, e.g. an identifier",
    )


def _add_epochs(command: argparse.ArgumentParser) -> None:
    command.add_argument(
        "--max-epochs",
        type=_positive_int,
        default=9,
        metavar="N",
        help="epochs of the longest trial (default 9)",
    )


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be an int >= 1, got {text!r}")
    return value


# -- checks: nothing here imports TensorFlow, Keras Tuner or scikit-learn -----


def _check(args: argparse.Namespace) -> None:
    """Raises ``ValueError`` naming the option for anything wrong in ``args``."""
    if args.command == "report":
        _check_report_source(args.directory)
        if args.out is None:
            args.out = str(Path(args.directory) / "report.html")
        _check_new_path("--out", args.out, folder=False)
        return
    _check_data(args)
    if args.command == "search":
        _check_tuners("--tuner", [args.tuner])
        check_workers_option(args.tuner, args.workers)
        _check_new_path("--directory", args.directory, folder=True)
    else:
        _check_tuners("--tuners", _names(args.tuners))
        if args.cv is not None and args.cv < 2:
            raise ValueError(
                f"`--cv` must be an int >= 2 (the number of folds), got {args.cv}."
            )
        _check_new_path("--out", args.out, folder=True)


def _check_data(args: argparse.Namespace) -> None:
    if not args.csv:
        for option in ("target", "drop"):
            if getattr(args, option):
                raise ValueError(f"`--{option}` needs `--csv`.")
        if args.dataset == "fashion_mnist":
            from kt_ext.datasets._fashion_mnist import _find_fashion_mnist

            try:
                _find_fashion_mnist(None)
            except FileNotFoundError as error:
                raise ValueError(str(error)) from error
        return
    path = Path(args.csv)
    if not path.is_file():
        what = "a folder" if path.is_dir() else "no such file"
        raise ValueError(f"`--csv` must be a CSV file, got {args.csv!r} ({what}).")
    if not args.target:
        raise ValueError("`--csv` needs `--target`, the column to predict.")
    columns = _csv_header(path)
    if columns is None:
        return  # compressed in a way only pandas reads: it checks the columns
    if args.target not in columns:
        raise ValueError(
            f"`--target` must name a column of {args.csv}, got {args.target!r}; "
            f"columns: {columns}."
        )
    for column in _names(args.drop):
        if column not in columns or column == args.target:
            raise ValueError(
                f"`--drop` must name columns of {args.csv} other than the target, "
                f"got {column!r}; columns: {columns}."
            )


def _csv_header(path: Path) -> list[str] | None:
    """The columns of a CSV file's header row (None for .zip, .bz2, .xz ...)."""
    if path.suffix in (".zip", ".bz2", ".xz", ".zst", ".tar"):
        return None
    opener: Any = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            header = next(csv.reader(handle), None)
    except (OSError, UnicodeDecodeError, csv.Error) as error:
        raise ValueError(
            f"`--csv` must be a readable CSV file, got {str(path)!r}: {error}"
        ) from error
    if not header:
        raise ValueError(f"`--csv` must have a header row, got {str(path)!r} (empty).")
    return [column.strip() for column in header]


def _check_tuners(option: str, names: list[str]) -> None:
    if not names:
        raise ValueError(f"`{option}` must name a tuner, from: {TUNER_NAMES}.")
    for name in names:
        if name not in BUILTIN_TUNERS:
            raise ValueError(
                f"`{option}` has unknown tuner {name!r}; available: {TUNER_NAMES}."
            )
    if len(set(names)) != len(names):
        raise ValueError(f"`{option}` must not repeat a tuner, got {','.join(names)}.")


def _check_new_path(option: str, value: str, *, folder: bool) -> None:
    """A path the command writes: inside an existing folder, of the right kind."""
    path = Path(value)
    if path.exists() and path.is_dir() != folder:
        kind = "a folder" if folder else "a file"
        raise ValueError(f"`{option}` must be {kind}, got {value!r}.")
    parent = path.absolute().parent
    if not parent.is_dir():
        raise ValueError(
            f"`{option}` must be inside an existing folder, got {value!r}: "
            f"{str(parent)!r} does not exist."
        )


def _check_report_source(directory: str) -> None:
    path = Path(directory)
    if not (path / "oracle.json").is_file():
        what = "has no oracle.json" if path.is_dir() else "does not exist"
        raise ValueError(
            "`DIR` must be a Keras Tuner project folder (directory/project_name, "
            f"with oracle.json), got {directory!r}, which {what}."
        )


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


# -- commands -----------------------------------------------------------------


def _data(args: argparse.Namespace, seed: int) -> Any:
    from kt_ext import datasets

    if args.csv:
        return _csv_dataset(args.csv, args.target, _names(args.drop), seed)
    return datasets.load(args.dataset, seed=seed)


def _csv_dataset(path: str, target: str, drop: list[str], seed: int) -> Any:
    try:
        import pandas as pd
    except ImportError as error:
        raise ImportError(
            "`--csv` needs pandas, part of the `analysis` extra: "
            "pip install 'kt_ext[analysis]'"
        ) from error
    from kt_ext import datasets

    # Blank cells (also a lone space, as in Telco churn's TotalCharges) are
    # missing values, which datasets.split imputes.
    table = pd.read_csv(path, skipinitialspace=True)
    table.columns = [str(column).strip() for column in table.columns]
    if target not in table.columns:
        raise ValueError(
            f"`--target` must name a column of {path}, got {target!r}; "
            f"columns: {list(table.columns)}."
        )
    features = table.drop(columns=[target, *drop])
    for column in features.columns:
        values = features[column]
        if not pd.api.types.is_numeric_dtype(values) and values.nunique() == len(
            values
        ):
            print(
                f"Note: column {column!r} has a different value in every row; if "
                f"it is an identifier, leave it out with --drop {column}.",
                flush=True,
            )
    split = datasets.split(features, table[target], seed=seed)
    name = Path(path.removesuffix(".gz")).stem
    return dataclasses.replace(split, name=name)


def _compare(args: argparse.Namespace) -> int:
    data = _data(args, seed=0)
    from kt_ext.compare import compare

    result = compare(
        data,
        tuners=args.tuners,
        seeds=args.seeds,
        max_epochs=args.max_epochs,
        objective=args.objective,
        out=args.out,
        progress=not args.no_progress,
        cv=args.cv,
    )
    out = result.out
    assert out is not None, "`kt-ext compare` always writes its outputs"
    print((out / "summary.md").read_text())
    print(f"Results, plot and report in {out}/")
    return 0


def _search(args: argparse.Namespace) -> int:
    data = _data(args, seed=args.seed)
    from kt_ext.compare import (
        SearchSpec,
        TrialCost,
        anytime_curve,
        objective_direction,
        run_search,
        template_for,
    )

    x_train, y_train = data.train
    hypermodel = template_for(x_train, y_train, data.task)
    objective = "val_loss" if data.task == "regression" else "val_accuracy"
    direction = objective_direction(objective)
    stock_trials = args.tuner in ("random", "bayesian")
    project = Path(args.directory) / f"{data.name}_{args.tuner}"
    resuming = not args.overwrite and (project / "oracle.json").is_file()
    fits: list[TrialCost] = []

    def report_fit(record: TrialCost) -> None:
        fits.append(record)
        _, _, best = anytime_curve(fits, direction)[-1]
        score = "failed" if record.score is None else f"{record.score:.4f}"
        print(
            f"  trial {record.trial_id}  {score}  best {best:.4f}  "
            f"epochs so far {record.cumulative_epochs:>4}  {record.elapsed_s:6.1f} s",
            flush=True,
        )

    print(
        f"Tuning {type(hypermodel).__name__} on {data.name} "
        f"({len(data.train[0])} train / {len(data.validation[0])} validation rows) "
        f"with {args.tuner}, objective {objective}.\n"
        f"Trials are kept in {project.absolute()}"
        + (
            " (resuming them; --overwrite starts over)."
            if resuming
            else "; the same command run again resumes them."
        ),
        flush=True,
    )
    spec = SearchSpec(
        hypermodel=hypermodel,
        objective=objective,
        max_epochs=args.max_epochs,
        factor=3,
        seed=args.seed,
        directory=args.directory,
        project_name=project.name,
        epoch_budget=args.max_trials * args.max_epochs if stock_trials else None,
        overwrite=args.overwrite,
        workers=args.workers,
    )
    row, _, _ = run_search(args.tuner, spec, data, on_fit=report_fit)
    if row["note"]:
        print(f"kt-ext search: {row['note']}.", file=sys.stderr)
        return 1
    print("\nBest hyperparameters:")
    for name, value in row["best_hyperparameters"].items():
        print(f"  {name:<20} {value}")
    print(f"Best {objective}: {row['best_val']:.4f} (trial {row['best_trial']})")
    print(
        f"Test {objective.removeprefix('val_')} of the final model (retrained on "
        f"train + validation for {epochs_text(row['retrain_epochs'])}): "
        f"{row['test_score']:.4f}"
    )
    return 0


def _report(args: argparse.Namespace) -> int:
    from kt_ext.analysis import write_report

    path = write_report(args.directory, args.out)
    print(f"Report written to {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
