"""The coarse-to-fine tuner: a drop-in for ``kt.Hyperband``."""

from __future__ import annotations

from typing import Any

import keras_tuner

from kt_ext.oracles import CoarseToFineOracle
from kt_ext.oracles._settings import PromotionName, SearchSettings, shares_settings
from kt_ext.tuners._base import FidelityTuner, reject_hyperband_only


@shares_settings(defaults={"worker_timeout": 120.0})
class CoarseToFine(FidelityTuner):
    """Tuner of :class:`~kt_ext.oracles.CoarseToFineOracle`.

    Runs like ``kt.Hyperband`` (same ``max_epochs`` and ``factor``, trials
    continued from their weights), but narrows every range around the best
    trials after each round; see ``tuner.oracle.narrowing_history``.

    Args:
        hypermodel: A ``HyperModel`` or a ``model_builder(hp)`` function; may
            be ``None`` in a subclass that overrides ``run_trial``.
        objective: As in Keras Tuner, e.g. ``"val_accuracy"``.
        {search_settings}
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
        promotion: PromotionName | None = None,
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
            **SearchSettings.of(locals()).arguments(),
            initial_trials=initial_trials,
            final_trials=final_trials,
            top_fraction=top_fraction,
            margin=margin,
            min_width=min_width,
        )
        super().__init__(oracle=oracle, hypermodel=hypermodel, seed=seed, **kwargs)
