"""Coarse-to-fine search: sample widely, train briefly, narrow, repeat.

Round 0 samples configurations over the whole space and trains each for
``min_epochs``. After every round, each numeric range shrinks to the span of
the round's best trials in Keras Tuner's unit-cube view (so log ranges narrow
in log space), widened by a margin, and each choice keeps the values seen among
them. The next round trains longer (epochs grow by ``factor`` up to
``max_epochs``): it continues the best trials from their weights and samples
fresh configurations inside the narrowed space. Once at ``max_epochs``, rounds
of fresh trials keep narrowing until the epoch budget is spent.

The narrowing maths are the pure functions :func:`top_count`,
:func:`narrow_entry` and :func:`narrow_space`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import keras_tuner
from keras_tuner.engine import hyperparameters as hp_module
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.checks import check_int, check_number
from kt_ext._internal.names import is_bookkeeping
from kt_ext.oracles import _journal
from kt_ext.oracles._modelled import ModelSampler
from kt_ext.oracles._rounds import (
    Round,
    RoundOracle,
)
from kt_ext.oracles._settings import PromotionName, SearchSettings, shares_settings
from kt_ext.oracles._space import Space

__all__ = [
    "CoarseToFineOracle",
    "narrow_entry",
    "narrow_space",
    "top_count",
]


def top_count(completed: int, top_fraction: float) -> int:
    """How many of a round's ``completed`` trials count as its top.

    At least two when there are two (one point spans no range), at most all.

    Example:
        >>> top_count(9, 1 / 3), top_count(4, 1 / 3), top_count(1, 1 / 3)
        (3, 2, 1)
    """
    return min(completed, max(2, math.ceil(completed * top_fraction - 1e-9)))


def _is_active(hp: hp_module.HyperParameter, values: Mapping[str, Any]) -> bool:
    return hp.name in values and all(
        condition.is_active(values) for condition in hp.conditions
    )


def narrow_entry(
    hp: hp_module.HyperParameter,
    entry: Mapping[str, Any],
    seen: Sequence[Any],
    *,
    margin: float,
    min_width: float,
) -> dict[str, Any]:
    """The narrowed range or choices of one entry, given the top trials' values.

    A numeric range becomes the span of ``seen`` in ``hp``'s unit-cube view,
    widened on each side by ``margin`` times the current range's width, at
    least ``min_width`` wide, inside the original range of ``hp``; it always
    contains every value in ``seen``. Choices keep those of ``seen``, in their
    original order. With nothing seen, the entry is returned unchanged.

    Args:
        hp: The Keras Tuner hyperparameter (its range is the original one).
        entry: The current range ``{"min", "max", "sampling"}`` or choices
            ``{"values": [...]}``.
        seen: The entry's values in the top trials where it was active.
        margin: Widening on each side, as a fraction of the current width.
        min_width: Smallest width, as a fraction of the original range.

    Returns:
        A new entry in the format of ``entry``.

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Float("lr", 1e-5, 1e-1, sampling="log")
        >>> lr = hps.space[0]
        >>> entry = {"min": 1e-5, "max": 1e-1, "sampling": "log"}
        >>> new = narrow_entry(lr, entry, [1e-3, 1e-2], margin=0.0, min_width=0.0)
        >>> round(new["min"], 6), round(new["max"], 6)
        (0.001, 0.01)
    """
    if not seen:
        return dict(entry)
    if "values" in entry:
        kept = [value for value in entry["values"] if value in seen]
        return {"values": kept or [seen[0]]}
    probs = [hp.value_to_prob(value) for value in seen]
    width = hp.value_to_prob(entry["max"]) - hp.value_to_prob(entry["min"])
    low = min(probs) - margin * width
    high = max(probs) + margin * width
    if high - low < min_width:
        center = (low + high) / 2
        low, high = center - min_width / 2, center + min_width / 2
    # Shift a range that sticks out of the unit cube back inside it.
    low, high = low - max(0.0, high - 1.0), high - min(0.0, low)
    low, high = max(0.0, low), min(1.0, high)
    cast = type(hp.prob_to_value(0.5))
    minimum = max(hp.min_value, min(hp.prob_to_value(low), *seen))
    maximum = min(hp.max_value, max(hp.prob_to_value(high), *seen))
    return {"min": cast(minimum), "max": cast(maximum), "sampling": entry["sampling"]}


def narrow_space(
    hyperparameters: keras_tuner.HyperParameters,
    space: Mapping[str, Mapping[str, Any]],
    top_values: Sequence[Mapping[str, Any]],
    *,
    margin: float,
    min_width: float,
) -> Space:
    """A new space around the top trials' values (see :func:`narrow_entry`).

    Conditional entries narrow over the trials where they were active only;
    entries active in none of them, and ``tuner/...`` entries, stay as they
    are. Neither ``hyperparameters`` nor ``space`` is modified.

    Args:
        hyperparameters: The search's entries, with their original ranges.
        space: The current space.
        top_values: Values of the top trials.
        margin: See :func:`narrow_entry`.
        min_width: See :func:`narrow_entry`.

    Returns:
        The narrowed space.

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Choice("activation", ["relu", "tanh", "gelu"])
        >>> narrow_space(hps, {"activation": {"values": ["relu", "tanh", "gelu"]}},
        ...              [{"activation": "gelu"}, {"activation": "relu"}],
        ...              margin=0.1, min_width=0.05)
        {'activation': {'values': ['relu', 'gelu']}}
    """
    entries = {hp.name: hp for hp in hyperparameters.space}
    narrowed: Space = {}
    for name, entry in space.items():
        hp = entries.get(name)
        if hp is None or is_bookkeeping(name):
            narrowed[name] = dict(entry)
            continue
        seen = [values[name] for values in top_values if _is_active(hp, values)]
        narrowed[name] = narrow_entry(
            hp, entry, seen, margin=margin, min_width=min_width
        )
    return narrowed


@shares_settings()
class CoarseToFineOracle(RoundOracle):
    """Narrows every range around the best trials, round after round.

    Round 0 samples ``initial_trials`` configurations over the whole space
    and trains each for ``min_epochs``. After each round, the best
    ``top_fraction`` of its completed trials (at least two) define the next
    space (:func:`narrow_space`), recorded in :attr:`narrowing_history`. While
    epochs grow (by ``factor`` up to ``max_epochs``), a round continues the
    previous round's top trials from their weights and samples as many fresh
    configurations in the narrowed space; at ``max_epochs``, rounds of
    ``final_trials`` fresh configurations follow until the epoch budget is
    spent.

    Args:
        objective: As in Keras Tuner.
        {search_settings}
        initial_trials: Configurations in round 0; default: an equal share
            of the epoch budget per rung, all at ``min_epochs``; with
            ``max_trials`` only, ``factor**min(3, rungs - 1)`` (27 for
            ``factor=3`` and ``max_epochs >= 27``).
        final_trials: Fresh configurations per round at ``max_epochs``.
        top_fraction: Share of a round's completed trials that narrow the
            space.
        margin: Widening of each narrowed range on each side, as a fraction
            of its current width in the unit-cube view.
        min_width: Narrowest range, as a fraction of its original width in
            the unit-cube view.

    Example:
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=9,
        ...                      seed=0)
        >>> result = run_oracle(oracle, objective)
        >>> result.total_epochs <= oracle.epoch_budget
        True
        >>> oracle.narrowing_history[0]["round"]
        0
    """

    def __init__(
        self,
        objective: Any = None,
        *,
        max_epochs: int = 100,
        min_epochs: int = 1,
        factor: float = 3,
        epoch_budget: int | None = None,
        max_trials: int | None = None,
        initial_trials: int | None = None,
        final_trials: int = 3,
        top_fraction: float = 1 / 3,
        margin: float = 0.25,
        min_width: float = 0.25,
        hyperparameters: keras_tuner.HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        worker_timeout: float | None = None,
        promotion: PromotionName | None = None,
    ) -> None:
        super().__init__(
            objective=objective,
            **SearchSettings.of(locals()).arguments(),
        )
        # Its parts beyond the round oracle's: fresh trials from a model.
        self._sampler = ModelSampler()
        derived = initial_trials is None and self.epoch_budget is not None
        if initial_trials is None:
            # Derived from the budget, which a rerun may extend: not compared.
            self._unset_settings.add("initial_trials")
        rungs = len(self._plan.rungs)
        if initial_trials is None and self.epoch_budget is None:
            # Hyperband's widest bracket, for at most 4 rungs: 27 for factor 3
            # and max_epochs >= 27, 9 for max_epochs 9.
            initial_trials = max(2, math.ceil(factor ** min(3, rungs - 1)))
        elif initial_trials is None:
            # An equal share of the budget per rung, all on `min_epochs`
            # (recomputed in one fold's epochs by set_folds).
            initial_trials = self._budget_initial_trials()
        check_int("initial_trials", initial_trials, 2)
        check_int("final_trials", final_trials, 1)
        check_number("top_fraction", top_fraction, low=0.0, high=1.0, open_low=True)
        check_number("margin", margin, low=0.0, high=math.inf)
        check_number("min_width", min_width, low=0.0, high=1.0)
        self.initial_trials = int(initial_trials)
        self._derived_initial_trials = derived
        self.final_trials = int(final_trials)
        self.top_fraction = float(top_fraction)
        self.margin = float(margin)
        self.min_width = float(min_width)
        self.narrowing_history: list[dict[str, Any]] = []

    def _budget_initial_trials(self) -> int:
        rungs = len(self._plan.rungs)
        return max(2, int(self.fold_budget // (rungs * self.min_epochs)))

    def set_folds(self, folds: int, assignment: dict[str, Any] | None) -> None:
        """As :meth:`RoundOracle.set_folds`; a derived ``initial_trials`` follows."""
        super().set_folds(folds, assignment)
        if getattr(self, "_derived_initial_trials", False):
            self.initial_trials = self._budget_initial_trials()

    # -- rounds --------------------------------------------------------------

    def _plan_round(self, index: int) -> Round | None:
        """Round 0: ``initial_trials``; then carry the top, add as many fresh."""
        rungs = self._plan.rungs
        epochs = rungs[min(index, len(rungs) - 1)]
        if index == 0:
            return Round(epochs=epochs, carry=[], new=self.initial_trials)
        previous = self.rounds[index - 1]
        if previous.epochs < epochs:
            ranked = self._ranked(previous.trial_ids)
            top = ranked[: top_count(len(ranked), self.top_fraction)]
            carry = [trial.trial_id for trial in top]
            new = max(1, len(carry))
            if self.fold_budget is not None:
                # An equal share of the budget per rung: what continuing the
                # top leaves of it pays for fresh trials (from the model).
                share = self.fold_budget / len(rungs)
                cost = (epochs - previous.epochs) * len(carry)
                new = max(0, math.floor((share - cost) / epochs))
        else:
            carry, new = [], self.final_trials
        new = self._affordable_new(new, epochs, carry)
        if not carry and not new:
            return None
        return Round(epochs=epochs, carry=carry, new=new)

    def _affordable_new(self, new: int, epochs: int, carry: list[str]) -> int:
        if self.epoch_budget is None:
            return new
        cost = sum(
            (epochs - self.trials[trial_id].hyperparameters.values["tuner/epochs"])
            for trial_id in carry
        )
        left = self.epoch_budget - self.epochs_used
        return max(0, min(new, (left // self.models_per_trial - cost) // epochs))

    def _end_round(self, index: int, completed: list[trial_module.Trial]) -> None:
        """Narrows :attr:`space` around the round's top trials and records it."""
        ranked = self._ranked([trial.trial_id for trial in completed])
        top = ranked[: top_count(len(ranked), self.top_fraction)]
        self.space = narrow_space(
            self.hyperparameters,
            self.space,
            [trial.hyperparameters.values for trial in top],
            margin=self.margin,
            min_width=self.min_width,
        )
        current = self.rounds[index]
        self.narrowing_history.append(
            {
                "round": index,
                "epochs": current.epochs,
                "trial_ids": list(current.trial_ids),
                "top_trial_ids": [trial.trial_id for trial in top],
                "best_score": top[0].score if top else None,
                "space": {name: dict(entry) for name, entry in self.space.items()},
            }
        )

    _journal_plan: ClassVar[dict[tuple[str, ...], str]] = {
        **RoundOracle._journal_plan,
        ("narrowing_history",): _journal.APPEND,
    }

    _resume_settings: ClassVar[dict[str, tuple[str, ...]]] = {
        **RoundOracle._resume_settings,
        "initial_trials": ("initial_trials",),
        "final_trials": ("final_trials",),
        "top_fraction": ("top_fraction",),
        "margin": ("margin",),
        "min_width": ("min_width",),
    }

    # -- state -----------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        state.update(
            {
                "initial_trials": self.initial_trials,
                "final_trials": self.final_trials,
                "top_fraction": self.top_fraction,
                "margin": self.margin,
                "min_width": self.min_width,
                "narrowing_history": self.narrowing_history,
            }
        )
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self.initial_trials = state["initial_trials"]
        self.final_trials = state["final_trials"]
        self.top_fraction = state["top_fraction"]
        self.margin = state["margin"]
        self.min_width = state["min_width"]
        self.narrowing_history = list(state["narrowing_history"])
