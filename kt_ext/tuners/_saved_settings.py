"""What a rerun of a search on one of Keras Tuner's own oracles must repeat.

kt_ext's oracles compare a rerun's settings with the saved search's themselves
(``RoundOracle.read_state``). Keras Tuner's oracles restore the saved settings
silently instead: a rerun of a Hyperband search with another ``max_epochs``
trains with the saved one, while a template's learning-rate schedule and a
retrain use the new one. They keep neither the objective nor the search's
seed either. So :class:`~kt_ext.tuners.FidelityTuner` saves those in its state
file (``tuner0.json``) and, before anything is reloaded, compares them and the
oracle's own saved settings with the rerun's; a difference is a
:class:`~kt_ext.errors.ResumeError` naming each setting, before any training.
"""

from __future__ import annotations

import json
import os
from typing import Any

from kt_ext._internal.seam_oracle import state_path
from kt_ext.oracles import RoundOracle
from kt_ext.oracles._persistence import check_state_file
from kt_ext.oracles._resume import (
    objective_json,
    resume_error,
    setting_changes,
    space_changes,
)

__all__ = ["SavedSettings"]

#: Settings of Keras Tuner's oracles that their state keeps (Hyperband's,
#: Bayesian optimization's); an oracle without one is not compared on it.
ORACLE_SETTINGS = (
    "max_epochs",
    "min_epochs",
    "factor",
    "hyperband_iterations",
    "num_initial_points",
    "alpha",
    "beta",
)


class SavedSettings:
    """What :class:`~kt_ext.tuners.FidelityTuner` keeps of a search's settings.

    A mixin: it reads the tuner's ``_local_oracle`` (and its
    ``executions_per_trial``) and ``_search_seed``, and Keras Tuner's
    ``reload`` and ``get_state``/``set_state`` chain.
    """

    _search_seed: int | None = None
    #: ``search()``'s ``epochs`` for an oracle that does not set them per trial.
    _fit_epochs: int | None = None
    _saved_settings: dict[str, Any] | None = None

    def settings(self) -> dict[str, Any]:
        """The settings a rerun must repeat that Keras Tuner's oracles don't keep.

        Example:
            >>> tuner.settings()  # doctest: +SKIP
            {'objective': {'name': 'val_accuracy', 'direction': 'max'}, 'seed': 1, 'executions_per_trial': 1, 'epochs': None}
        """  # noqa: E501
        return {
            "objective": objective_json(self._local_oracle.objective),
            "seed": self._search_seed,
            "executions_per_trial": self._local_oracle.executions_per_trial,
            "epochs": self._fit_epochs,
        }

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state["settings"] = self.settings()
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self._saved_settings = state.get("settings")

    def reload(self) -> None:
        """Reloads the saved search, if the rerun's settings are the saved ones.

        Raises:
            ResumeError: A setting differs from the saved search's (kt_ext's
                oracles check their own settings on reload).
        """
        if not self.is_worker() and not isinstance(self._local_oracle, RoundOracle):
            self._check_stock_settings()
        super().reload()

    def _check_stock_settings(self) -> None:
        oracle = self._local_oracle
        oracle_path, tuner_path = state_path(oracle), self.tuner_state_path()
        if not os.path.exists(oracle_path):
            return
        check_state_file(oracle_path)
        with open(oracle_path, encoding="utf-8") as file:
            saved = json.load(file)
        with open(tuner_path, encoding="utf-8") as file:
            saved_settings = json.load(file).get("settings") or {}
        given = oracle.get_state()
        changes = setting_changes(
            saved, given, {name: (name,) for name in ORACLE_SETTINGS}
        )
        own = self.settings()
        unset = {"epochs"} | ({"seed"} if own["seed"] is None else set())
        changes += setting_changes(
            saved_settings, own, {name: (name,) for name in own}, unset
        )
        changes += space_changes(
            saved["hyperparameters"]["space"], given["hyperparameters"]["space"], None
        )
        if changes:
            raise resume_error(self.project_dir, changes)

    def check_fit_epochs(self, fit_kwargs: dict[str, Any]) -> None:
        """Keeps ``search()``'s ``epochs``; a resumed search must repeat them.

        Only for an oracle that does not set each trial's epochs itself (random
        search, Bayesian optimization): their trials train ``epochs``.

        Raises:
            ResumeError: The saved search's trials trained other ``epochs``.
        """
        if hasattr(self._local_oracle, "max_epochs"):
            return
        self._fit_epochs = fit_kwargs.get("epochs")
        saved = (self._saved_settings or {}).get("epochs")
        if saved is not None and self._fit_epochs != saved:
            changes = setting_changes(
                {"epochs": saved}, {"epochs": self._fit_epochs}, {"epochs": ("epochs",)}
            )
            raise resume_error(self.project_dir, changes)
