"""The coarse-to-fine tuner: a drop-in for ``kt.Hyperband``."""

from __future__ import annotations

from typing import Any

import keras_tuner

from kt_ext.oracles import CoarseToFineOracle
from kt_ext.tuners._base import FidelityTuner, reject_hyperband_only


class CoarseToFine(FidelityTuner):
    """Tuner of :class:`~kt_ext.oracles.CoarseToFineOracle`.

    Runs like ``kt.Hyperband`` (same ``max_epochs`` and ``factor``, trials
    continued from their weights), but narrows every range around the best
    trials after each round; see ``tuner.oracle.narrowing_history``.

    Args:
        hypermodel: A ``HyperModel`` or a ``model_builder(hp)`` function; may
            be ``None`` in a subclass that overrides ``run_trial``.
        objective: As in Keras Tuner, e.g. ``"val_accuracy"``.
        max_epochs: Epochs of the longest trial. Default 100.
        min_epochs: Epochs of the first round's trials. Default 1.
        factor: Epochs grow by this factor between rounds. Default 3.
        epoch_budget: Epochs to train in all (times
            ``executions_per_trial`` and the folds of ``search(cv=...)``);
            default: about one Hyperband iteration (times the folds).
        max_trials: Trials to run at most.
        seed: Random seed; ``0`` is a seed like any other.
        hyperparameters: As in Keras Tuner.
        tune_new_entries: As in Keras Tuner.
        allow_new_entries: As in Keras Tuner.
        max_retries_per_trial: As in Keras Tuner.
        max_consecutive_failed_trials: As in Keras Tuner.
        worker_timeout: Seconds of silence after which a distributed worker
            counts as dead (default 120; ``None``: wait forever); see
            :class:`~kt_ext.oracles.RoundOracle`.
        initial_trials: See :class:`~kt_ext.oracles.CoarseToFineOracle`.
        final_trials: See :class:`~kt_ext.oracles.CoarseToFineOracle`.
        top_fraction: See :class:`~kt_ext.oracles.CoarseToFineOracle`.
        margin: See :class:`~kt_ext.oracles.CoarseToFineOracle`.
        min_width: See :class:`~kt_ext.oracles.CoarseToFineOracle`.
        **kwargs: ``keras_tuner.Tuner`` arguments (``directory``,
            ``project_name``, ``overwrite``, ``executions_per_trial``, ...).

    Raises:
        TypeError: For ``hyperband_iterations`` (use ``epoch_budget``).

    Example:
        >>> import kt_ext
        >>> def model_builder(hp):  # doctest: +SKIP
        ...     ...
        >>> tuner = kt_ext.CoarseToFine(model_builder, objective="val_accuracy",
        ...                             max_epochs=30, factor=3)  # doctest: +SKIP
        >>> tuner.search(x, y, validation_data=(x_val, y_val))  # doctest: +SKIP
        >>> tuner.oracle.narrowing_history[-1]["space"]  # doctest: +SKIP
    """

    def __init__(
        self,
        hypermodel: Any = None,
        objective: Any = None,
        *,
        max_epochs: int = 100,
        min_epochs: int = 1,
        factor: float = 3,
        epoch_budget: int | None = None,
        max_trials: int | None = None,
        seed: int | None = None,
        hyperparameters: keras_tuner.HyperParameters | None = None,
        tune_new_entries: bool = True,
        allow_new_entries: bool = True,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        worker_timeout: float | None = 120.0,
        initial_trials: int | None = None,
        final_trials: int = 3,
        top_fraction: float = 1 / 3,
        margin: float = 0.25,
        min_width: float = 0.25,
        **kwargs: Any,
    ) -> None:
        reject_hyperband_only(type(self).__name__, kwargs)
        oracle = CoarseToFineOracle(
            objective=objective,
            max_epochs=max_epochs,
            min_epochs=min_epochs,
            factor=factor,
            epoch_budget=epoch_budget,
            max_trials=max_trials,
            initial_trials=initial_trials,
            final_trials=final_trials,
            top_fraction=top_fraction,
            margin=margin,
            min_width=min_width,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
            worker_timeout=worker_timeout,
        )
        super().__init__(oracle=oracle, hypermodel=hypermodel, seed=seed, **kwargs)
