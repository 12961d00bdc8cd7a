"""The honest comparison: equal epoch budgets, several seeds, test data once.

For each seed, Hyperband runs first and its epochs fix the budget; every other
tuner trains at most that many epochs. Tuning reads the validation split only
(with ``cv``, the folds of train + validation instead); each tuner's best
configuration is then retrained once on train + validation for its
configuration's epochs and scored on the test split. A search in which no
trial completed gets a row with NaN scores and a ``note``, and is not
retrained.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import keras_tuner as kt
import numpy as np

from kt_ext import datasets
from kt_ext._internal.checks import check_distinct, check_finite_data, check_int
from kt_ext._internal.heap import frozen_heap
from kt_ext._internal.names import is_bookkeeping
from kt_ext._internal.quiet import quiet_search
from kt_ext._internal.seam_oracle import create_objective
from kt_ext._internal.seam_random import set_random_seed
from kt_ext.compare._outputs import write_outputs
from kt_ext.compare._recording import SearchRecorder, TrialCost
from kt_ext.compare._registry import REFERENCE, SearchSpec, get_factory
from kt_ext.compare._result import Comparison
from kt_ext.compare._stats import budget_to_match, wall_to_match
from kt_ext.model_selection import refit_best
from kt_ext.model_selection._refit import (
    best_trial,
    configuration_epochs,
    fold_std,
    no_best_note,
    reports_every_epoch,
)
from kt_ext.oracles import hyperband_epoch_budget


def compare(
    data: str | datasets.Dataset | tuple[Any, Any],
    *,
    tuners: Sequence[str] = (REFERENCE, "random"),
    seeds: int = 3,
    max_epochs: int = 9,
    factor: int = 3,
    objective: str | None = None,
    hypermodel: Any = None,
    out: str | os.PathLike[str] | None = "kt_ext_compare",
    progress: bool = True,
    cv: int | None = None,
) -> Comparison:
    """Compares tuners against Hyperband at an equal epoch budget.

    Args:
        data: A bundled data set's name, a :class:`kt_ext.datasets.Dataset`, or
            ``(x, y)`` (split with :func:`kt_ext.datasets.split`, which imputes
            a DataFrame's missing cells). NaN or infinity in an array is a
            ``ValueError`` naming the array.
        tuners: Registered tuner names (:func:`available_tuners`); Hyperband,
            the reference, always runs first and is added if missing.
        seeds: Runs each tuner with seeds ``1..seeds``.
        max_epochs: Epochs of the longest trial.
        factor: Hyperband's (and kt_ext's tuners') epoch growth factor.
        objective: Metric to tune; default ``val_accuracy`` for classification,
            ``val_loss`` for regression.
        hypermodel: Default: ``MLPHyperModel`` (``CNNHyperModel`` for images)
            sized with ``for_data``.
        out: Folder for ``results.csv``, ``summary.md``, ``anytime.png`` and
            ``report.html``, created if needed inside an existing folder;
            ``None`` writes nothing.
        progress: Show one progress bar over the whole comparison, in epochs.
        cv: Cross-validate every tuner's search with this many folds of
            train + validation (``tuner.search(cv=...)``) instead of scoring
            on the validation split; every tuner of a seed gets the same
            folds (shuffled with that seed). Every fold's epochs count,
            so the budget is Hyperband's epochs times ``cv``. The test split
            is still scored once, after the retrain.

    Returns:
        The rows and cost logs of every run. A row also holds the best trial's
        id (``best_trial``), its hyperparameters (``best_hyperparameters``)
        and the epochs of its retrain (``retrain_epochs``); a tuner and seed
        with no completed trial has NaN scores and says so in ``note``. With
        ``cv``, ``fold_std`` is the objective's standard deviation over
        folds at the best trial's best epoch, and ``fold_digest`` (the sha256
        of the folds' validation rows) is the same for every tuner of a seed.

    Example:
        >>> result = compare("breast_cancer", tuners=["hyperband", "random"],
        ...                  seeds=2, max_epochs=3)  # doctest: +SKIP
        >>> result.rows[0]["tuner"]  # doctest: +SKIP
        'hyperband'
    """
    names = _checked_tuners(tuners)
    check_int("seeds", seeds, 1)
    check_int("max_epochs", max_epochs, 1)
    check_int("factor", factor, 2)
    if cv is not None:
        check_int("cv", cv, 2)
    _check_out(out)
    dataset = _as_dataset(data)
    if hypermodel is None:
        hypermodel = template_for(*dataset.train, dataset.task)
    if objective is None:
        objective = "val_loss" if dataset.task == "regression" else "val_accuracy"
    direction = objective_direction(objective)
    # Until Hyperband has run, every run is planned at what Hyperband trains.
    planned = hyperband_epoch_budget(max_epochs, factor) * (cv or 1)

    rows: list[dict[str, Any]] = []
    logs: dict[tuple[str, int], list[TrialCost]] = {}
    with (
        _progress_bar(planned * len(names) * seeds, progress) as bar,
        _directory(out) as directory,
    ):
        for seed in range(1, seeds + 1):
            budget = None
            for name in names:
                spec = SearchSpec(
                    hypermodel=hypermodel,
                    objective=objective,
                    max_epochs=max_epochs,
                    factor=factor,
                    seed=seed,
                    directory=str(directory),
                    project_name=f"{name}_seed{seed}",
                    epoch_budget=budget,
                    cv=cv,
                )
                row, log, _ = run_search(name, spec, dataset, on_epoch=bar.advance)
                # The bar ends full: what a run did not train leaves its total.
                bar.replan(row["epochs"] - (budget or planned))
                if budget is None:
                    budget = row["epochs"]
                    bar.replan((budget - planned) * (len(names) - 1))
                row["dataset"] = dataset.name
                rows.append(row)
                logs[name, seed] = log
            _add_matches(rows, logs, seed, direction)
        result = Comparison(rows, logs, objective, direction, cv=cv)
        if out is not None:
            result.out = write_outputs(result, Path(directory))
    return result


def run_search(
    name: str,
    spec: SearchSpec,
    dataset: datasets.Dataset,
    *,
    on_epoch: Callable[[], None] | None = None,
    on_fit: Callable[[TrialCost], None] | None = None,
) -> tuple[dict[str, Any], list[TrialCost], kt.Tuner]:
    """Runs one registered tuner, then scores its best configuration on test.

    Tuning reads the validation split only, or with ``spec.cv`` that many
    folds of train + validation; the best configuration (the best
    completed trial with a finite score) is then retrained once on train +
    validation for its configuration's epochs and scored on the test split. A
    kt_ext template sizes its learning-rate schedule from ``spec.max_epochs``
    in every trial and in the retrain, whichever the tuner. Keras' and
    TensorFlow's expected search noise is hidden.

    Returns:
        The ``results.csv`` row (without ``dataset``, ``budget_to_match`` and
        ``wall_to_match``)
        plus ``best_hyperparameters``, the cost log of every fit, and the
        tuner. With no completed trial, ``best_val`` and ``test_score`` are
        NaN, ``best_trial`` is empty and ``note`` says why.

    Example:
        >>> data = datasets.load("iris")
        >>> hypermodel = template_for(*data.train)
        >>> spec = SearchSpec(hypermodel, "val_accuracy", 9, 3, 1, "runs", "hb")
        >>> row, log, tuner = run_search("hyperband", spec, data)  # doctest: +SKIP
        >>> row["test_score"]  # doctest: +SKIP
        0.9333
    """
    from kt_ext.hypermodels import TemplateHyperModel

    (x, y), (x_val, y_val) = dataset.train, dataset.validation
    direction = objective_direction(spec.objective)
    fit_kwargs: dict[str, Any] = {}
    if isinstance(spec.hypermodel, TemplateHyperModel):
        # What kt_ext's tuners pass themselves; stock tuners would size the
        # schedule from each trial's epochs, and the retrain could not follow.
        fit_kwargs["schedule_epochs"] = spec.max_epochs
    with quiet_search():
        set_random_seed(spec.seed)
        tuner = get_factory(name)(spec)
        recorder = SearchRecorder(
            spec.objective, direction, on_epoch=on_epoch, on_fit=on_fit
        )
        recorder.follow(tuner)
        if spec.cv:
            # The folds of train + validation replace the validation split.
            x, y = np.concatenate([x, x_val]), np.concatenate([y, y_val])
            fit_kwargs["cv"] = _checked_fidelity_tuner(name, tuner, "cv", spec.cv)
        else:
            fit_kwargs["validation_data"] = (x_val, y_val)
        search_kwargs = {"callbacks": [recorder], "verbose": 0, **fit_kwargs}
        if spec.workers != 1:
            # The recorder would run in the workers: the chief's display
            # reports the trials, and the oracle the epochs.
            search_kwargs = {
                **fit_kwargs,
                "workers": _checked_fidelity_tuner(
                    name, tuner, "workers", spec.workers
                ),
                "verbose": 1,
            }
        start = time.perf_counter()
        # Every tuner, stock or kt_ext, searches with the long-lived heap frozen,
        # so Keras Tuner's per-trial garbage collection costs all of them the same.
        with frozen_heap():
            tuner.search(x, y, epochs=spec.max_epochs, **search_kwargs)
        searched_s = time.perf_counter() - start
        row = _best_row(tuner, spec, dataset, direction)
    wall_s = recorder.log[-1].elapsed_s if recorder.log else searched_s
    epochs = recorder.epochs if spec.workers == 1 else tuner.oracle.epochs_used
    folds = getattr(tuner, "folds", None)
    row.update(
        epochs=epochs,
        trials=len(tuner.oracle.trials),
        wall_s=round(wall_s, 2),
        fold_digest="" if folds is None else folds.fold_digest(),
    )
    return {"tuner": name, "seed": spec.seed, **row}, recorder.log, tuner


def _checked_fidelity_tuner(
    name: str, tuner: kt.Tuner, argument: str, value: int
) -> int:
    """``value`` of ``argument`` (``cv``, ``workers``), once ``tuner`` takes it.

    Both need kt_ext's tuners (``FidelityTuner``); a plain Keras Tuner tuner is
    a ``TypeError`` naming the argument and the tuner.
    """
    from kt_ext.tuners import FidelityTuner

    if not isinstance(tuner, FidelityTuner):
        raise TypeError(
            f"`{argument}` needs tuners on kt_ext.tuners.FidelityTuner; tuner "
            f"{name!r} is a {type(tuner).__name__}."
        )
    return value


def _best_row(
    tuner: kt.Tuner, spec: SearchSpec, dataset: datasets.Dataset, direction: str
) -> dict[str, Any]:
    """The best configuration's columns, retrained and scored on test if any."""
    best = best_trial(tuner.oracle, direction)
    row: dict[str, Any] = {"objective": spec.objective}
    if best is None:
        return {
            **row,
            "best_val": math.nan,
            "test_score": math.nan,
            "best_trial": "",
            "fold_std": math.nan,
            "retrain_epochs": None,
            "note": no_best_note(tuner.oracle),
            "best_hyperparameters": {},
        }
    epochs = configuration_epochs(
        tuner.oracle.trials,
        best,
        absolute_steps=reports_every_epoch(tuner),
        default=spec.max_epochs,
    )
    hp = best.hyperparameters
    return {
        **row,
        "best_val": float(best.score),
        "test_score": retrain_and_score(tuner.hypermodel, hp, epochs, spec, dataset),
        "best_trial": best.trial_id,
        "fold_std": fold_std(best, spec.objective),
        "retrain_epochs": epochs,
        "note": "",
        "best_hyperparameters": {
            name: value for name, value in hp.values.items() if not is_bookkeeping(name)
        },
    }


def _add_matches(
    rows: list[dict[str, Any]],
    logs: dict[tuple[str, int], list[TrialCost]],
    seed: int,
    direction: str,
) -> None:
    """Each run's budget- and wall-time-to-match against Hyperband's ``seed``."""
    reference = next(r for r in rows if r["tuner"] == REFERENCE and r["seed"] == seed)
    reference_log = logs[REFERENCE, seed]
    reference_s = reference_log[-1].elapsed_s if reference_log else 0.0
    for row in rows:
        if row["seed"] == seed:
            log = logs[row["tuner"], seed]
            row["budget_to_match"] = budget_to_match(
                log, reference["best_val"], reference["epochs"], direction
            )
            row["wall_to_match"] = wall_to_match(
                log, reference["best_val"], reference_s, direction
            )


def _checked_tuners(tuners: Sequence[str]) -> list[str]:
    """The registered names of ``tuners`` ("a,b" or a list), the reference first."""
    if isinstance(tuners, str):
        tuners = [name.strip() for name in tuners.split(",") if name.strip()]
    check_distinct("tuners", tuners)
    names = [REFERENCE, *(name for name in tuners if name != REFERENCE)]
    for name in names:
        get_factory(name)  # raises ValueError naming an unknown tuner
    return names


def _as_dataset(data: Any) -> datasets.Dataset:
    if isinstance(data, str):
        return datasets.load(data, seed=0)
    if isinstance(data, datasets.Dataset):
        for part, (x, y) in zip(("train", "validation", "test"), data, strict=True):
            check_finite_data(f"data.{part}[0]", x)
            check_finite_data(f"data.{part}[1]", y)
        return data
    if isinstance(data, tuple) and len(data) == 2:
        for name, array in zip(("x", "y"), data, strict=True):
            # A DataFrame's (or Series') missing cells are imputed by split().
            if not hasattr(array, "iloc"):
                check_finite_data(name, array)
        return datasets.split(*data, seed=0)
    raise TypeError(
        "`data` must be a data set name, a kt_ext.datasets.Dataset or an (x, y) "
        f"tuple, got {type(data).__name__}."
    )


def template_for(x: np.ndarray, y: np.ndarray, task: str | None = None) -> Any:
    """``MLPHyperModel`` (``CNNHyperModel`` for images) sized for ``x`` and ``y``.

    ``task`` (a :class:`kt_ext.datasets.Dataset`'s ``task``) wins over what
    ``y`` looks like: whole-number regression targets, such as diabetes's,
    would otherwise be taken for class labels.

    Example:
        >>> (x, y), _, _ = datasets.load("iris")
        >>> type(template_for(x, y)).__name__
        'MLPHyperModel'
        >>> (x, y), _, _ = datasets.load("diabetes")
        >>> template_for(x, y, "regression").task
        'regression'
    """
    from kt_ext.hypermodels import CNNHyperModel, MLPHyperModel

    if task == "regression" and x.ndim != 4:
        outputs = y.shape[1] if y.ndim == 2 else 1
        return MLPHyperModel(x.shape[1:], "regression", num_outputs=outputs)
    template = CNNHyperModel if x.ndim == 4 else MLPHyperModel
    return template.for_data(x, y)


def objective_direction(objective: str) -> str:
    """Keras Tuner's inferred direction of a metric name (``ValueError`` if none).

    Example:
        >>> objective_direction("val_accuracy"), objective_direction("val_loss")
        ('max', 'min')
    """
    if not isinstance(objective, str) or not objective:
        raise ValueError(f"`objective` must be a metric name, got {objective!r}.")
    try:
        return create_objective(objective).direction
    except ValueError as error:
        raise ValueError(
            f"`objective` must be a metric whose direction can be inferred (e.g. "
            f"'val_accuracy', 'val_loss'), got {objective!r}."
        ) from error


def _check_out(out: str | os.PathLike[str] | None) -> None:
    """``out`` must be a folder, or a new one inside an existing folder."""
    if out is None:
        return
    path = Path(out)
    if path.exists() and not path.is_dir():
        raise ValueError(f"`out` must be a folder, got {str(out)!r}, a file.")
    if not path.exists() and not path.absolute().parent.is_dir():
        raise ValueError(
            f"`out` must be inside an existing folder, got {str(out)!r}: "
            f"{str(path.absolute().parent)!r} does not exist."
        )


@contextlib.contextmanager
def _directory(out: str | os.PathLike[str] | None) -> Iterator[Path]:
    if out is None:
        with tempfile.TemporaryDirectory(prefix="kt_ext_compare_") as scratch:
            yield Path(scratch)
        return
    path = Path(out)
    path.mkdir(exist_ok=True)
    yield path


class _Progress:
    """One bar over every epoch of a comparison; totals follow what is known."""

    def __init__(self, bar: Any = None) -> None:
        self._bar = bar

    def advance(self) -> None:
        if self._bar is not None:
            self._bar.update(1)

    def replan(self, change: int) -> None:
        if self._bar is not None and change:
            self._bar.total += change
            self._bar.refresh()


@contextlib.contextmanager
def _progress_bar(total: int, enabled: bool) -> Iterator[_Progress]:
    if not enabled:
        yield _Progress()
        return
    from tqdm.auto import tqdm

    with tqdm(total=total, unit="epoch", desc="compare", smoothing=0.05) as bar:
        yield _Progress(bar)


def retrain_and_score(
    hypermodel: Any,
    hp: Any,
    epochs: int,
    spec: SearchSpec,
    dataset: datasets.Dataset,
) -> float:
    """Retrains ``hp`` on train + validation for ``epochs``; scores it on test."""
    (x, y), (x_val, y_val), (x_test, y_test) = dataset
    model = refit_best(
        hypermodel,
        hp,
        epochs,
        np.concatenate([x, x_val]),
        np.concatenate([y, y_val]),
        max_epochs=spec.max_epochs,
        seed=spec.seed,
    )
    scores = model.evaluate(x_test, y_test, verbose=0, return_dict=True)
    return float(scores[spec.objective.removeprefix("val_")])
