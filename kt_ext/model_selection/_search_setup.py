"""What :class:`kt_ext.SearchCV` checks and builds before it trains anything.

Its arguments are checked here (the constructor only stores them, as
scikit-learn asks), and the tuner a ``fit`` searches with is built here, in a
fresh folder of its own, from one of the names in :data:`SEARCH_CV_TUNERS`.
"""

from __future__ import annotations

import numbers
import os
import secrets
import tempfile
import warnings
from typing import Any

import keras_tuner as kt
import numpy as np

from kt_ext._internal.checks import check_int, check_one_of
from kt_ext.compare._registry import stock_seed
from kt_ext.hypermodels import TemplateHyperModel
from kt_ext.model_selection._search_folds import check_search_cv
from kt_ext.model_selection._search_scoring import check_scoring_argument
from kt_ext.model_selection._split import class_labels
from kt_ext.oracles import hyperband_epoch_budget
from kt_ext.tuners._launch_plan import check_workers

#: The tuners ``SearchCV(tuner=...)`` takes.
SEARCH_CV_TUNERS = ("coarse_to_fine", "rank_pruning", "hyperband", "random")

#: Epoch growth factor between rounds (Keras Tuner's and kt_ext's default).
FACTOR = 3


def check_arguments(estimator: Any) -> None:
    """Raises ``TypeError``/``ValueError`` naming the first bad argument.

    Args:
        estimator: A :class:`kt_ext.SearchCV`.
    """
    hypermodel = estimator.hypermodel
    if not (
        hypermodel is None
        or isinstance(hypermodel, kt.HyperModel)
        or callable(hypermodel)
    ):
        raise TypeError(
            "`hypermodel` must be None, a keras_tuner.HyperModel or a "
            f"model_builder(hp) function, got {hypermodel!r}."
        )
    if not isinstance(estimator.tuner, str):
        raise TypeError(
            f"`tuner` must be one of {list(SEARCH_CV_TUNERS)}, got {estimator.tuner!r}."
        )
    check_one_of("tuner", estimator.tuner, SEARCH_CV_TUNERS)
    objective = estimator.objective
    if not (objective is None or isinstance(objective, str | kt.Objective)):
        raise TypeError(
            "`objective` must be None, a metric name or a keras_tuner.Objective, "
            f"got {objective!r}."
        )
    check_scoring_argument(estimator.scoring, objective)
    if not isinstance(estimator.refit, bool):
        raise TypeError(f"`refit` must be True or False, got {estimator.refit!r}.")
    check_search_cv(estimator.cv)
    check_int("max_epochs", estimator.max_epochs, 1)
    if estimator.epoch_budget is not None:
        check_int("epoch_budget", estimator.epoch_budget, 1)
    check_random_state(estimator.random_state, estimator.seed)
    if estimator.n_jobs is not None:
        check_workers(estimator.n_jobs, name="n_jobs", available=1)
    directory = estimator.directory
    if not (directory is None or isinstance(directory, str | os.PathLike)):
        raise TypeError(f"`directory` must be None or a path, got {directory!r}.")
    if not isinstance(estimator.verbose, bool):
        check_int("verbose", estimator.verbose, 0)


#: ``seed``'s default: not given (``seed`` is deprecated for ``random_state``).
SEED_NOT_GIVEN = "deprecated"

#: Seeds drawn for ``random_state=None`` or a ``RandomState`` are below this.
_SEED_BOUND = 2**31


def check_random_state(random_state: Any, seed: Any) -> None:
    """Raises unless ``random_state`` is None, an int >= 0 or a ``RandomState``.

    ``seed`` (deprecated) must be an int >= 0 or None, and not come with a
    ``random_state``.

    Example:
        >>> check_random_state(0, 0)
        Traceback (most recent call last):
        ...
        ValueError: `seed` is deprecated for `random_state`: pass `random_state` only, got random_state=0 and seed=0.
    """  # noqa: E501
    if isinstance(random_state, numbers.Integral) and not isinstance(
        random_state, bool
    ):
        check_int("random_state", random_state, 0)
    elif not (random_state is None or isinstance(random_state, np.random.RandomState)):
        raise TypeError(
            "`random_state` must be None, an int or a numpy.random.RandomState, "
            f"got {random_state!r}."
        )
    if isinstance(seed, str) and seed == SEED_NOT_GIVEN:
        return
    if seed is not None:
        check_int("seed", seed, 0)
    if random_state is not None:
        raise ValueError(
            "`seed` is deprecated for `random_state`: pass `random_state` only, "
            f"got random_state={random_state!r} and seed={seed!r}."
        )


def fit_seed(random_state: Any, seed: Any) -> int:
    """The one int seed of a ``fit``: of its oracle, folds, trials and refit.

    An int is itself; a ``RandomState`` gives its next draw; ``None`` draws
    from fresh entropy (``secrets``), never from NumPy's global generator.
    A ``seed`` given instead of ``random_state`` is used with a
    ``FutureWarning`` (``None`` is then fresh entropy too).

    Example:
        >>> fit_seed(7, SEED_NOT_GIVEN)
        7
        >>> 0 <= fit_seed(None, SEED_NOT_GIVEN) < 2**31
        True
    """
    if not (isinstance(seed, str) and seed == SEED_NOT_GIVEN):
        warnings.warn(
            "`seed` is deprecated and will be removed in the next release: pass "
            "`random_state` (an int, None or a numpy.random.RandomState).",
            FutureWarning,
            stacklevel=3,
        )
        random_state = seed
    if random_state is None:
        return secrets.randbelow(_SEED_BOUND)
    if isinstance(random_state, np.random.RandomState):
        return int(random_state.randint(_SEED_BOUND))
    return int(random_state)


def check_template(hypermodel: Any, n_features: int, task: str, n_classes: int) -> None:
    """Raises ``ValueError`` if a kt_ext template does not fit the data.

    Args:
        hypermodel: The ``hypermodel`` argument; only templates are checked.
        n_features: Columns of ``X``.
        task: The task of ``y`` (``binary``, ``multiclass`` or ``regression``).
        n_classes: Classes in ``y`` (0 for regression).
    """
    if not isinstance(hypermodel, TemplateHyperModel):
        return
    if tuple(hypermodel.input_shape) != (n_features,):
        raise ValueError(
            f"`hypermodel` takes inputs of shape {tuple(hypermodel.input_shape)}, "
            f"but `X` has {n_features} features."
        )
    classifies = task != "regression"
    if (hypermodel.task != "regression") != classifies:
        raise ValueError(
            f"`hypermodel` is for the {hypermodel.task!r} task, but `y` holds "
            f"{'classes' if classifies else 'continuous targets'} ({task!r})."
        )
    if hypermodel.task == "multiclass" and hypermodel.num_outputs != n_classes:
        raise ValueError(
            f"`hypermodel` has {hypermodel.num_outputs} outputs, but `y` holds "
            f"{n_classes} classes."
        )


def fresh_directory(directory: str | os.PathLike | None) -> str:
    """A new, empty folder for one search: inside ``directory``, or temporary.

    Example:
        >>> import os
        >>> path = fresh_directory(None)
        >>> os.listdir(path)
        []
        >>> os.rmdir(path)
    """
    if directory is None:
        return tempfile.mkdtemp(prefix="kt_ext_search_cv_")
    os.makedirs(directory, exist_ok=True)
    return tempfile.mkdtemp(prefix="search_", dir=directory)


def build_tuner(
    name: str,
    hypermodel: Any,
    *,
    objective: str | kt.Objective,
    max_epochs: int,
    epoch_budget: int | None,
    folds: int,
    seed: int | None,
    path: str,
) -> kt.Tuner:
    """The tuner ``name``, searching in the folder ``path``, never resuming.

    kt_ext's tuners take ``epoch_budget`` as they do everywhere (with ``cv``
    it counts every fold's epochs). Hyperband and random search run Keras
    Tuner's own oracles on kt_ext's tuner base, so they search the same
    cross-validated objective: Hyperband runs as many whole iterations as
    the budget pays for (one by default), random search as many
    ``max_epochs`` trials (by default those of one Hyperband iteration).

    Raises:
        ValueError: ``epoch_budget`` cannot pay for one Hyperband iteration
            (``hyperband``) or one trial (``random``); the message says the
            smallest that can.
    """
    from kt_ext.tuners import CoarseToFine, FidelityTuner, RankPruning

    location: dict[str, Any] = {
        "directory": os.path.dirname(path),
        "project_name": os.path.basename(path),
        "overwrite": False,
    }
    if name in ("coarse_to_fine", "rank_pruning"):
        tuner_class = CoarseToFine if name == "coarse_to_fine" else RankPruning
        return tuner_class(
            hypermodel,
            objective,
            max_epochs=max_epochs,
            factor=FACTOR,
            epoch_budget=epoch_budget,
            seed=seed,
            **location,
        )
    iteration = hyperband_epoch_budget(max_epochs, FACTOR) * folds
    # Keras Tuner's oracles take 0 for "no seed" and overlap seeds s and s + 1;
    # the tuner keeps `seed`, which the folds are shuffled with.
    oracle_seed = None if seed is None else stock_seed(seed)
    if name == "hyperband":
        oracle: kt.Oracle = kt.oracles.HyperbandOracle(
            objective,
            max_epochs=max_epochs,
            factor=FACTOR,
            hyperband_iterations=_whole_runs(epoch_budget, iteration, "iteration"),
            seed=oracle_seed,
        )
    else:
        trials = _whole_runs(
            iteration if epoch_budget is None else epoch_budget,
            max_epochs * folds,
            "trial",
        )
        oracle = kt.oracles.RandomSearchOracle(
            objective, max_trials=trials, seed=oracle_seed
        )
    return FidelityTuner(oracle, hypermodel, seed=seed, **location)


def _whole_runs(epoch_budget: int | None, cost: int, what: str) -> int:
    """How many runs of ``cost`` epochs ``epoch_budget`` pays for (1 if None)."""
    if epoch_budget is None:
        return 1
    if epoch_budget < cost:
        raise ValueError(
            f"`epoch_budget` must pay for one {what} of this search ({cost} "
            f"epochs, counting every fold), got {epoch_budget!r}."
        )
    return epoch_budget // cost


def sample_weights(sample_weight: Any, rows: int) -> np.ndarray:
    """``sample_weight`` as floats, one finite weight >= 0 per row.

    Raises:
        ValueError: Another shape, a negative or non-finite weight, or all
            zero.
    """
    weights = np.asarray(sample_weight, dtype=np.float64)
    if weights.ndim == 0:
        weights = np.full(rows, float(weights))
    if weights.shape != (rows,):
        raise ValueError(
            f"`sample_weight` must have one weight per row of `X` ({rows}), got "
            f"shape {weights.shape}."
        )
    if not np.all(np.isfinite(weights)) or np.any(weights < 0):
        raise ValueError(
            "`sample_weight` must be finite and >= 0, got a minimum of "
            f"{np.nanmin(weights)!r}."
        )
    if not np.any(weights > 0):
        raise ValueError(
            "`sample_weight` must give some row a weight above 0, got all zero."
        )
    return weights


def target_task(y: np.ndarray) -> str:
    """``binary``, ``multiclass`` or ``regression``, by ``cv=k``'s rule.

    Labels (ints, strings, bools, 0/1 floats) are classes; floats with more
    than two values are regression, whole numbers too (as ``cv=k`` splits
    them with ``KFold``).

    Raises:
        ValueError: ``y`` holds a single class.
    """
    labels = class_labels(y)
    if labels is None:
        return "regression"
    return classes_task(labels)


def classes_task(labels: np.ndarray) -> str:
    """``binary`` or ``multiclass`` by the number of classes in ``labels``.

    Raises:
        ValueError: ``labels`` holds a single class.
    """
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(
            f"`y` must hold at least two classes, got one class: {classes.tolist()!r}."
        )
    return "binary" if len(classes) == 2 else "multiclass"
