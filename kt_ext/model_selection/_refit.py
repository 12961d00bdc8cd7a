"""The best configuration of a search, and its retrain.

Compare retrains the best configuration once, for its test score;
:class:`kt_ext.SearchCV` refits it on all the data it was given: both with
:func:`refit_best`, public in :mod:`kt_ext.model_selection`.

The best trial is the best COMPLETED trial with a finite score (kt_ext's one
tie rule: the earlier of equal scores). Keras Tuner's ``get_best_trials`` would
hand back a failed trial when none completed; here there is then no best, and
nothing is retrained.

A configuration's epochs are those that trained the model its trial was scored
by: the trial's own epochs up to its best one, plus, for a trial that
continued another trial's best weights, that trial's configuration epochs.
Keras Tuner's ``best_step`` counts from the start of the trial's own ``fit``
when the trial is reported once at its end (``get_best_step`` indexes the
fit's History), and is Keras' absolute epoch index when the tuner reports
every epoch (kt_ext's ``RankPruning`` with ``prune_trials``); both are handled.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping
from typing import Any

from keras_tuner.engine.trial import TrialStatus

from kt_ext._internal.scores import is_better
from kt_ext._internal.seam_random import seeded


def best_trial(oracle: Any, direction: str) -> Any | None:
    """The best completed trial with a finite score, or None when none has one."""
    best = None
    for trial in oracle.trials.values():
        best_score = None if best is None else best.score
        if trial.status == TrialStatus.COMPLETED and is_better(
            trial.score, best_score, direction
        ):
            best = trial
    return best


def fold_std(trial: Any, objective: str) -> float:
    """The objective's standard deviation over folds at ``trial``'s best epoch.

    Read from the ``<objective>_std`` metric that a cross-validated trial
    reports; NaN when the trial has none (a search without ``cv``).

    Example:
        >>> import keras_tuner as kt
        >>> trial = kt.engine.trial.Trial(kt.HyperParameters())
        >>> trial.metrics.register("val_loss_std")
        >>> trial.metrics.update("val_loss_std", 0.02, step=3)
        True
        >>> trial.best_step = 3
        >>> fold_std(trial, "val_loss")
        0.02
    """
    name = f"{objective}_std"
    if not trial.metrics.exists(name):
        return math.nan
    history = trial.metrics.get_history(name)
    at_best = [
        observation for observation in history if observation.step == trial.best_step
    ]
    return float((at_best or history)[-1].mean())


def no_best_note(oracle: Any) -> str:
    """Why a search has no best trial, with its trials counted by status."""
    counts = Counter(str(trial.status) for trial in oracle.trials.values())
    statuses = ", ".join(f"{status} {n}" for status, n in sorted(counts.items()))
    return (
        "no trial completed with a finite score, so nothing was retrained "
        f"({len(oracle.trials)} trials{': ' + statuses if statuses else ''})"
    )


def reports_every_epoch(tuner: Any) -> bool:
    """Whether ``tuner`` reports each epoch (``best_step`` is then absolute)."""
    reports = getattr(tuner, "reports_each_epoch", None)
    return bool(callable(reports) and reports())


def configuration_epochs(
    trials: Mapping[str, Any],
    trial: Any,
    *,
    absolute_steps: bool,
    default: int,
) -> int:
    """Epochs that trained the model ``trial`` was scored by.

    Args:
        trials: Every trial of the search by id (``oracle.trials``).
        trial: A completed trial.
        absolute_steps: Whether ``best_step`` is Keras' epoch index (the tuner
            reports every epoch) rather than an index into the trial's fit.
        default: Epochs of a trial without a ``best_step`` (and without
            ``tuner/epochs``).

    Example:
        >>> from types import SimpleNamespace as T
        >>> def trial(values, best_step):
        ...     return T(hyperparameters=T(values=values), best_step=best_step)
        >>> parent = trial({"tuner/epochs": 3, "tuner/initial_epoch": 0}, 1)
        >>> child = trial({"tuner/epochs": 9, "tuner/initial_epoch": 3,
        ...                "tuner/trial_id": "0001"}, 4)
        >>> configuration_epochs({"0001": parent}, child, absolute_steps=False,
        ...                      default=9)
        7
    """
    total = 0
    seen: set[int] = set()
    while True:
        seen.add(id(trial))
        values = trial.hyperparameters.values
        start = int(values.get("tuner/initial_epoch", 0))
        if trial.best_step is None:
            trained = int(values.get("tuner/epochs", default)) - start
        else:
            trained = int(trial.best_step) + 1 - (start if absolute_steps else 0)
        total += max(trained, 1)
        if "tuner/trial_id" not in values:
            return total
        parent = trials.get(values["tuner/trial_id"])
        if parent is None or id(parent) in seen:
            return total + start  # a lost parent trained the epochs before
        trial = parent


def refit_best(
    hypermodel: Any,
    hp: Any,
    epochs: int,
    x: Any,
    y: Any,
    *,
    max_epochs: int,
    seed: int | None,
    **fit_kwargs: Any,
) -> Any:
    """Builds ``hp`` and trains it on ``x, y`` for ``epochs``; returns the model.

    The one retrain of a search's best configuration: :class:`kt_ext.SearchCV`
    refits it on all the rows it was given, :func:`kt_ext.compare.compare` on
    train + validation before its one test score. A kt_ext template gets
    ``schedule_epochs=max_epochs`` (the search's), so its learning-rate
    schedule follows the path it followed in the search. With a ``seed``,
    Python, NumPy and Keras are seeded from it for the build and the
    training, and the caller's random state is put back afterwards; ``None``
    draws from (and advances) the global state.

    Args:
        hypermodel: The search's hypermodel (``tuner.hypermodel``).
        hp: The configuration (``trial.hyperparameters``).
        epochs: Epochs to train, as :func:`configuration_epochs` counts them.
        x: Training inputs.
        y: Training targets.
        max_epochs: The search's ``max_epochs``.
        seed: The seed of the build and the training, or None.
        **fit_kwargs: More ``model.fit`` arguments (``sample_weight``,
            ``callbacks``, ``class_weight``, ...).

    Example:
        >>> import keras_tuner as kt
        >>> from kt_ext.hypermodels import MLPHyperModel
        >>> hypermodel = MLPHyperModel((4,), "binary")
        >>> model = refit_best(hypermodel, kt.HyperParameters(), 3, x, y,
        ...                    max_epochs=9, seed=0)  # doctest: +SKIP
    """
    from kt_ext.hypermodels import TemplateHyperModel

    kwargs: dict[str, Any] = {"verbose": 0, **fit_kwargs}
    if isinstance(hypermodel, TemplateHyperModel):
        kwargs["schedule_epochs"] = max_epochs
    with seeded(seed):
        model = hypermodel.build(hp)
        hypermodel.fit(hp, model, x, y, epochs=epochs, **kwargs)
    return model
