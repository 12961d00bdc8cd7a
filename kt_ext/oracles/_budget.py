"""The epoch budget of kt_ext's round oracles: what a trial costs, what is left.

A trial costs its planned ``tuner/epochs - tuner/initial_epoch`` times
``executions_per_trial`` times the folds of ``cv`` (``models_per_trial``),
charged when it is handed out and refunded what it did not train.
:class:`EpochBudget` is a part that the oracle holds and calls, under its lock.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

__all__ = ["EpochBudget", "budget_error", "planned_epochs"]


def planned_epochs(values: Mapping[str, Any]) -> int:
    """The epochs a trial's values plan to train.

    Example:
        >>> planned_epochs({"tuner/epochs": 9, "tuner/initial_epoch": 3})
        6
    """
    return values["tuner/epochs"] - values.get("tuner/initial_epoch", 0)


def budget_error(
    epoch_budget: int, min_epochs: int, models: int, folds: int = 1
) -> ValueError:
    """The error for a budget that cannot pay for one trial of the first round.

    ``models`` is what one trial trains: ``executions_per_trial`` times ``folds``.

    Example:
        >>> str(budget_error(1, 3, 2)).startswith("`epoch_budget` must be at least 6")
        True
    """
    executions = models // folds
    cost = f"min_epochs={min_epochs} x executions_per_trial={executions}"
    if folds > 1:
        cost += f" x {folds} folds of cv"
    return ValueError(
        f"`epoch_budget` must be at least {min_epochs * models} (one trial of "
        f"the first round: {cost}), got {epoch_budget!r}."
    )


class EpochBudget:
    """Epochs a search may train, and the epochs each trial is charged.

    It owns the limit, the models each trial trains (executions times folds,
    with the fold split kept for the state) and the epochs charged per trial;
    nothing else. The oracle calls it under its lock.

    Args:
        epoch_budget: The limit in epochs, every model counted; ``None``: none.
        default_per_fold: When the budget was left to its default, that
            default for one fold (it grows with the folds); else ``None``.

    Example:
        >>> budget = EpochBudget(10)
        >>> budget.charge("0", 3)
        >>> budget.used, budget.affordable(7), budget.affordable(8)
        (3, True, False)
    """

    def __init__(
        self, epoch_budget: int | None, default_per_fold: int | None = None
    ) -> None:
        self.limit = epoch_budget
        self.default_per_fold = default_per_fold
        # Set by the tuner: each trial trains this many models per fold.
        self.executions_per_trial = 1
        # Set by the tuner's search(cv=...): folds, and the rows of each.
        self.cv_folds = 1
        self.fold_assignment: dict[str, Any] | None = None
        # Epochs each trial trained (planned ones while it runs), per model.
        self.trained: dict[str, int] = {}
        # Trials cut short (a crash, a dead worker): run again, charged once.
        self.interrupted: set[str] = set()

    @property
    def models_per_trial(self) -> int:
        """Models one trial trains: ``executions_per_trial`` times the folds."""
        return self.executions_per_trial * self.cv_folds

    @property
    def fold_budget(self) -> float | None:
        """The limit in one fold's epochs (what the rounds are planned in)."""
        return None if self.limit is None else self.limit / self.cv_folds

    @property
    def used(self) -> int:
        """Epochs trained or reserved by running trials, times the models."""
        return sum(self.trained.values()) * self.models_per_trial

    def cost(self, values: Mapping[str, Any]) -> int:
        """What a trial with ``values`` costs, every model counted."""
        return planned_epochs(values) * self.models_per_trial

    def affordable(self, cost: int) -> bool:
        """Whether ``cost`` more epochs stay within the limit."""
        return self.limit is None or self.used + cost <= self.limit

    def charge(self, trial_id: str, epochs: int) -> None:
        """Records that ``trial_id`` trains (or trained) ``epochs`` per model."""
        self.trained[trial_id] = epochs

    def charge_retry(self, trial_id: str, planned: int) -> bool:
        """Charges a retry of ``trial_id`` again; False if it cannot pay.

        A trial cut short by a crash or a dead worker was charged once
        already: its rerun is free (and no longer counts as cut short).
        """
        if trial_id in self.interrupted:
            self.interrupted.discard(trial_id)
            return True
        if not self.affordable(planned * self.models_per_trial):
            return False
        self.trained[trial_id] += planned
        return True

    def check(self, min_epochs: int) -> None:
        """Raises unless the limit pays for one trial of ``min_epochs``.

        Raises:
            ValueError: Naming ``epoch_budget`` and the smallest that works.
        """
        models = self.models_per_trial
        if self.limit is not None and self.limit < min_epochs * models:
            raise budget_error(self.limit, min_epochs, models, self.cv_folds)

    def set_folds(self, folds: int, assignment: dict[str, Any] | None) -> None:
        """Makes every trial train ``folds`` models; a default limit grows."""
        self.cv_folds = int(folds)
        self.fold_assignment = assignment
        if self.default_per_fold is not None:
            self.limit = self.default_per_fold * self.cv_folds

    def limit_for(self, state: Mapping[str, Any]) -> int | None:
        """The limit this budget would have with the folds of a saved ``state``."""
        if self.default_per_fold is None:
            return self.limit
        return self.default_per_fold * state.get("cv_folds", 1)

    def grew(self, state: Mapping[str, Any]) -> bool:
        """Whether the limit is above that of a saved ``state``."""
        saved = state.get("epoch_budget")
        return saved is not None and (self.limit is None or self.limit > saved)

    # -- state -----------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        """The budget's keys of the oracle's state (``max_trials`` goes between)."""
        return {
            "epoch_budget": self.limit,
            "executions_per_trial": self.executions_per_trial,
            "cv_folds": self.cv_folds,
            "cv": self.fold_assignment,
        }

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Restores from the oracle's state; the limit given now is kept.

        A resumed search keeps the budget it is given now, so it can be
        extended (the oracle's ``read_state`` refuses one below what was spent).
        """
        self.executions_per_trial = state["executions_per_trial"]
        self.set_folds(state.get("cv_folds", 1), state.get("cv"))
        self.trained = dict(state["epochs_trained"])

    @staticmethod
    def spent(state: Mapping[str, Any]) -> int:
        """Epochs a saved ``state`` charged, every model counted."""
        return (
            sum(state["epochs_trained"].values())
            * state["executions_per_trial"]
            * state.get("cv_folds", 1)
        )
