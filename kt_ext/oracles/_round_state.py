"""A round oracle's state as JSON, and the check that a rerun is the same search.

:class:`RoundState` holds what :class:`~kt_ext.oracles.RoundOracle` saves
(rounds, space, epochs trained, the random generator) and refuses, before
anything is loaded, a rerun whose settings differ from the saved search's.
Two small helpers go with it: the error for a budget that cannot pay for one
trial, and the epoch at which a trial diverged.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.seam_oracle import project_dir
from kt_ext.oracles._plan import Round, hyperband_epoch_budget
from kt_ext.oracles._resume import (
    bound_changes,
    objective_json,
    resume_error,
    setting_changes,
    space_changes,
)
from kt_ext.oracles._workers import WorkerRelease


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


def diverged_epoch(trial: trial_module.Trial, names: list[str]) -> int | None:
    """The first epoch (1-based) at which a metric in ``names`` was NaN or inf.

    Epochs are reported as Keras counts them (``step`` 0 is epoch 1); None if
    every value reported is finite.

    Example:
        >>> import keras_tuner
        >>> trial = trial_module.Trial(keras_tuner.HyperParameters(), "0")
        >>> _ = trial.metrics.update("loss", 0.5, step=0)
        >>> _ = trial.metrics.update("loss", float("nan"), step=1)
        >>> diverged_epoch(trial, ["val_loss", "loss"])
        2
    """
    first = None
    for name in names:
        if not trial.metrics.exists(name):
            continue
        for observation in trial.metrics.get_history(name):
            if not all(math.isfinite(value) for value in observation.value):
                epoch = int(observation.step) + 1
                first = epoch if first is None else min(first, epoch)
                break
    return first


class RoundState(WorkerRelease):
    """The state of a :class:`~kt_ext.oracles.RoundOracle` (a mixin of it)."""

    # -- state -----------------------------------------------------------------

    def _rounds_json(self) -> list[dict[str, Any]]:
        """The rounds as JSON; that of rounds before the last is kept.

        Only the last round changes (its trials, ``full``, ``ended``): the
        others are converted once, so this costs the same at any trial count.
        The dicts of earlier rounds are shared between calls: do not modify.
        """
        rounds, dicts = self._settled_rounds
        settled = len(self.rounds) - 1
        if len(rounds) > max(0, settled) or (
            rounds and rounds[-1] is not self.rounds[len(rounds) - 1]
        ):
            rounds.clear()
            dicts.clear()
        while len(rounds) < settled:
            done = self.rounds[len(rounds)]
            rounds.append(done)
            dicts.append(done.to_json())
        return dicts + [r.to_json() for r in self.rounds[len(rounds) :]]

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state.update(
            {
                "objective": objective_json(self.objective),
                "seed": self.seed,
                "max_epochs": self.max_epochs,
                "min_epochs": self.min_epochs,
                "factor": self.factor,
                "epoch_budget": self.epoch_budget,
                "max_trials": self.max_trials,
                "executions_per_trial": self.executions_per_trial,
                "cv_folds": self.cv_folds,
                "cv": self.fold_assignment,
                "declared_entries": self._declared_entries,
                "space": self.space,
                "rounds": self._rounds_json(),
                "epochs_trained": self.epochs_trained,
                "rng": self._rng.bit_generator.state,
            }
        )
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.seed = state["seed"]
        self.max_epochs = state["max_epochs"]
        self.min_epochs = state["min_epochs"]
        self.factor = state["factor"]
        # A resumed search keeps the budget and max_trials it is given now, so
        # it can be extended (see `read_state`).
        self.executions_per_trial = state["executions_per_trial"]
        # The folds of a cross-validated search: search(cv=...) checks that a
        # rerun gives the same cv, and uses the saved split.
        self.fold_assignment = state.get("cv")
        self.set_folds(state.get("cv_folds", 1), self.fold_assignment)
        self._declared_entries = state.get("declared_entries")
        self.space = state["space"]
        self.rounds = [Round(**r) for r in state["rounds"]]
        saved_budget = state.get("epoch_budget")
        grew = saved_budget is not None and (
            self.epoch_budget is None or self.epoch_budget > saved_budget
        )
        if self.rounds and grew:
            # A rerun with a larger budget may pay for what the saved search's
            # last round could not.
            self.rounds[-1].full = False
        self.epochs_trained = dict(state["epochs_trained"])
        self._rng = np.random.default_rng()
        self._rng.bit_generator.state = state["rng"]

    def read_state(self) -> dict[str, Any]:
        """The saved state, if this oracle's settings are the saved search's.

        Raises:
            ValueError: A setting of ``_resume_settings``, or a declared entry
                of the search space, differs from the saved search's, or
                ``epoch_budget`` / ``max_trials`` is below what it already
                spent. The message names each, with its saved and its given
                value. Nothing is read into the oracle, nothing is written.
        """
        state = super().read_state()
        given = self.get_state()
        saved_declared = state.get("declared_entries")
        changes = setting_changes(
            state, given, self._resume_settings, self._unset_settings
        )
        changes += space_changes(
            state["hyperparameters"]["space"],
            given["hyperparameters"]["space"],
            saved_declared if self._space_declared else None,
        )
        budget = self.epoch_budget
        if self._default_budget:
            # The default grows with the saved search's folds (set_folds).
            budget = hyperband_epoch_budget(self.max_epochs, self.factor) * state.get(
                "cv_folds", 1
            )
        changes += bound_changes(
            state,
            epoch_budget=budget,
            max_trials=self.max_trials,
            epochs_spent=sum(state["epochs_trained"].values())
            * state["executions_per_trial"]
            * state.get("cv_folds", 1),
            trials_run=len(state["start_order"]),
        )
        if changes:
            raise resume_error(project_dir(self), changes)
        if saved_declared is None and self._space_declared:
            # Saved by an older kt_ext: what is declared now was declared then.
            state["declared_entries"] = self._entry_names()
        return state
