"""The rank-pruning tuner: a drop-in for ``kt.Hyperband``."""

from __future__ import annotations

from typing import Any

import keras_tuner
from keras_tuner.engine import trial as trial_module

from kt_ext.oracles import RankPruningOracle
from kt_ext.oracles._settings import PromotionName, SearchSettings, shares_settings
from kt_ext.tuners._base import FidelityTuner, reject_hyperband_only


@shares_settings(defaults={"worker_timeout": 120.0})
class RankPruning(FidelityTuner):
    """Tuner of :class:`~kt_ext.oracles.RankPruningOracle`.

    Runs like ``kt.Hyperband`` (same ``max_epochs`` and ``factor``, trials
    continued from their weights), and after every round cuts the search space
    where Spearman rank correlations say so; see ``tuner.oracle.pruning_log``.
    With ``prune_trials`` (the default), every epoch's metrics are reported to
    the oracle, and a trial that ranks low against its peers at the same epoch
    stops training there: it ends COMPLETED with what it reached.

    Args:
        hypermodel: A ``HyperModel`` or a ``model_builder(hp)`` function; may
            be ``None`` in a subclass that overrides ``run_trial``.
        objective: As in Keras Tuner, e.g. ``"val_accuracy"``.
        {search_settings}
        rho_threshold: See :class:`~kt_ext.oracles.RankPruningOracle`.
        alpha: See :class:`~kt_ext.oracles.RankPruningOracle`.
        freeze_rho: See :class:`~kt_ext.oracles.RankPruningOracle`.
        freeze_p_value: See :class:`~kt_ext.oracles.RankPruningOracle`.
        freeze_rounds: See :class:`~kt_ext.oracles.RankPruningOracle`.
        min_trials: See :class:`~kt_ext.oracles.RankPruningOracle`.
        top_fraction: See :class:`~kt_ext.oracles.RankPruningOracle`.
        margin: See :class:`~kt_ext.oracles.RankPruningOracle`.
        prune_trials: Stop losing trials early. Default True.
        prune_quantile: See :class:`~kt_ext.oracles.RankPruningOracle`.
        min_peers: See :class:`~kt_ext.oracles.RankPruningOracle`.
        **kwargs: ``keras_tuner.Tuner`` arguments (``directory``,
            ``project_name``, ``overwrite``, ``executions_per_trial``, ...).

    Raises:
        TypeError: For ``hyperband_iterations`` (use ``epoch_budget``).

    Example:
        >>> import kt_ext
        >>> def model_builder(hp):  # doctest: +SKIP
        ...     ...
        >>> tuner = kt_ext.RankPruning(model_builder, objective="val_accuracy",
        ...                            max_epochs=30, factor=3)  # doctest: +SKIP
        >>> tuner.search(x, y, validation_data=(x_val, y_val))  # doctest: +SKIP
        >>> tuner.oracle.pruning_log  # doctest: +SKIP
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
        rho_threshold: float = 0.3,
        alpha: float = 0.05,
        freeze_rho: float = 0.2,
        freeze_p_value: float = 0.1,
        freeze_rounds: int = 4,
        min_trials: int = 8,
        top_fraction: float = 1 / 3,
        margin: float = 0.1,
        prune_trials: bool = True,
        prune_quantile: float = 0.1,
        min_peers: int = 5,
        **kwargs: Any,
    ) -> None:
        reject_hyperband_only(type(self).__name__, kwargs)
        oracle = RankPruningOracle(
            objective=objective,
            **SearchSettings.of(locals()).arguments(),
            rho_threshold=rho_threshold,
            alpha=alpha,
            freeze_rho=freeze_rho,
            freeze_p_value=freeze_p_value,
            freeze_rounds=freeze_rounds,
            min_trials=min_trials,
            top_fraction=top_fraction,
            margin=margin,
            prune_trials=prune_trials,
            prune_quantile=prune_quantile,
            min_peers=min_peers,
        )
        super().__init__(oracle, hypermodel, seed=seed, **kwargs)

    @property
    def prune_trials(self) -> bool:
        """Whether losing trials stop early: the oracle's setting, saved with it.

        One source of truth: a rerun cannot change it (the oracle refuses),
        and the tuner never reports otherwise than the oracle expects.
        """
        return self._local_oracle.prune_trials

    def on_epoch_end(
        self,
        trial: trial_module.Trial,
        model: Any,
        epoch: int,
        logs: dict[str, Any] | None = None,
    ) -> None:
        """Reports the epoch to the oracle; stops training if it says STOPPED.

        Called by Keras Tuner's per-trial callback after every epoch (``epoch``
        counts from 0 across ``initial_epoch``, as Keras does).
        """
        super().on_epoch_end(trial, model, epoch, logs=logs)
        name = self.oracle.objective.name
        if not self.prune_trials or not logs or name not in logs:
            return
        metrics = {key: float(value) for key, value in logs.items()}
        reported = self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
        if reported.status == trial_module.TrialStatus.STOPPED:
            model.stop_training = True

    def reports_each_epoch(self) -> bool:
        """With ``prune_trials`` the oracle already holds every epoch's metrics.

        They are averaged over executions at each epoch, which is what Keras
        Tuner's final report would sum up; that report is then skipped,
        without the deprecation warning Keras Tuner gives for per-epoch
        reports.
        """
        return self.prune_trials
