"""The epoch budget of kt_ext's round oracles: what a trial costs, what is left.

A trial costs its planned ``tuner/epochs - tuner/initial_epoch`` times
``executions_per_trial`` times the folds of ``cv`` (``models_per_trial``),
charged when it is handed out and refunded what it did not train.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kt_ext.oracles._plan import Round, hyperband_epoch_budget
from kt_ext.oracles._round_state import budget_error

__all__ = ["EpochBudget", "planned_epochs"]


def planned_epochs(values: Mapping[str, Any]) -> int:
    """The epochs a trial's values plan to train.

    Example:
        >>> planned_epochs({"tuner/epochs": 9, "tuner/initial_epoch": 3})
        6
    """
    return values["tuner/epochs"] - values.get("tuner/initial_epoch", 0)


class EpochBudget:
    """The budget half of :class:`~kt_ext.oracles.RoundOracle` (a mixin).

    It reads the oracle's ``epoch_budget``, ``min_epochs``, ``max_epochs``,
    ``factor``, ``executions_per_trial``, ``cv_folds``, ``trials`` and
    ``epochs_trained``.
    """

    def check_epoch_budget(self) -> None:
        """Raises unless ``epoch_budget`` pays for one trial of the first round.

        The tuner calls it once it has set ``executions_per_trial``.

        Raises:
            ValueError: Naming ``epoch_budget`` and the smallest that works.
        """
        models = self.models_per_trial
        if self.epoch_budget is not None and (
            self.epoch_budget < self.min_epochs * models
        ):
            raise budget_error(
                self.epoch_budget, self.min_epochs, models, self.cv_folds
            )

    def set_folds(self, folds: int, assignment: dict[str, Any] | None) -> None:
        """Makes every trial train ``folds`` models (one per fold of ``cv``).

        The tuner calls it in ``search(cv=...)`` before any trial; a default
        epoch budget (neither ``epoch_budget`` nor ``max_trials`` given)
        grows by ``folds``. ``assignment``
        (:class:`kt_ext.model_selection._split.FoldAssignment` as JSON) is kept
        in the state, for resumed runs and workers.
        """
        self.cv_folds = int(folds)
        self.fold_assignment = assignment
        if self._default_budget:
            self.epoch_budget = (
                hyperband_epoch_budget(self.max_epochs, self.factor) * self.cv_folds
            )

    @property
    def models_per_trial(self) -> int:
        """Models one trial trains: ``executions_per_trial`` times the folds."""
        return self.executions_per_trial * self.cv_folds

    @property
    def fold_budget(self) -> float | None:
        """The epoch budget in one fold's epochs (what the rounds are planned in)."""
        return None if self.epoch_budget is None else self.epoch_budget / self.cv_folds

    def _cost(self, values: Mapping[str, Any]) -> int:
        return planned_epochs(values) * self.models_per_trial

    def _cheapest(self, upcoming: Round) -> int:
        if upcoming.carry:
            past = self.trials[upcoming.carry[0]].hyperparameters.values
            return (upcoming.epochs - past["tuner/epochs"]) * self.models_per_trial
        return upcoming.epochs * self.models_per_trial

    @property
    def epochs_used(self) -> int:
        """Epochs trained or reserved by running trials, times executions and folds."""
        return sum(self.epochs_trained.values()) * self.models_per_trial

    def _affordable(self, cost: int) -> bool:
        if self.epoch_budget is None:
            return True
        return self.epochs_used + cost <= self.epoch_budget

    def charge_epochs(self, trial_id: str, epochs_trained: int) -> None:
        """Records that ``trial_id`` trained fewer epochs than planned."""
        self.epochs_trained[trial_id] = epochs_trained
        self._touch(trial_id)
