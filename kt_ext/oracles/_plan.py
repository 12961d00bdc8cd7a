"""The shape of a search in rounds: each round's epochs and the default budget.

Pure functions and a plain record, with no oracle: the epochs of each rung,
what one Keras Tuner Hyperband iteration trains, and :class:`Round`; and
:class:`RoundPlan`, the part of an oracle that holds its rounds.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any


def rung_epochs(min_epochs: int, max_epochs: int, factor: float) -> list[int]:
    """The epochs of each round: ``min_epochs`` growing by ``factor`` to the max.

    Example:
        >>> rung_epochs(1, 27, 3)
        [1, 3, 9, 27]
        >>> rung_epochs(2, 10, 3)
        [2, 6, 10]
    """
    epochs = [min_epochs]
    while epochs[-1] < max_epochs:
        epochs.append(min(max_epochs, math.ceil(epochs[-1] * factor)))
    return epochs


def hyperband_epoch_budget(max_epochs: int, factor: float) -> int:
    """Epochs that one iteration of Keras Tuner 1.4's Hyperband trains.

    Uses the bracket sizes and epochs of ``keras_tuner.oracles.HyperbandOracle``
    (``min_epochs=1``), counting a continued trial's epochs from its
    ``tuner/initial_epoch``.

    Example:
        >>> hyperband_epoch_budget(27, 3)
        375
    """
    brackets = 0
    epochs: float = max_epochs
    while epochs >= 1:
        epochs /= factor
        brackets += 1
    end_size = math.ceil(1 + math.log(max_epochs, factor))
    total = 0
    for bracket in range(brackets):
        for round_num in range(bracket + 1):
            size = math.ceil(end_size / (bracket + 1) * factor ** (bracket - round_num))
            top = math.ceil(max_epochs / factor ** (bracket - round_num))
            start = (
                math.ceil(max_epochs / factor ** (bracket - round_num + 1))
                if round_num
                else 0
            )
            total += size * (top - start)
    return total


@dataclasses.dataclass
class Round:
    """One round: its epochs, the trials it continues, and what it created.

    Attributes:
        epochs: ``tuner/epochs`` of every trial in the round.
        carry: Trial ids of the previous round to continue from their weights.
        new: How many fresh configurations to sample.
        trial_ids: The trials created so far, carried ones first.
        full: Set when the budget cannot pay for the rest of the round.
        ended: Set once :meth:`RoundOracle._end_round` has run for it.
    """

    epochs: int
    carry: list[str]
    new: int
    trial_ids: list[str] = dataclasses.field(default_factory=list)
    full: bool = False
    ended: bool = False

    @property
    def size(self) -> int:
        """How many trials the round plans."""
        return len(self.carry) + self.new

    def to_json(self) -> dict[str, Any]:
        """The round as plain JSON (``dataclasses.asdict`` deep-copies: slow)."""
        return {
            "epochs": self.epochs,
            "carry": list(self.carry),
            "new": self.new,
            "trial_ids": list(self.trial_ids),
            "full": self.full,
            "ended": self.ended,
        }


class RoundPlan:
    """The rounds of a search: their epochs (the rungs) and what each holds.

    It owns the shape of the epochs (``min_epochs`` growing by ``factor`` to
    ``max_epochs``) and the list of :class:`Round`; which trials a round
    continues and how many it samples is the strategy's choice (the oracle's
    ``_plan_round``). The oracle calls it under its lock.

    Args:
        min_epochs: Epochs of the first round's trials.
        max_epochs: Epochs of the longest trial.
        factor: Epochs grow by this factor from one round to the next.

    Example:
        >>> plan = RoundPlan(1, 9, 3)
        >>> plan.rungs, plan.epochs_of(5)
        ([1, 3, 9], 9)
        >>> plan.start(Round(epochs=1, carry=[], new=4))
        >>> plan.index, plan.get_state()["rounds"][0]["new"]
        (0, 4)
    """

    def __init__(self, min_epochs: int, max_epochs: int, factor: float) -> None:
        self.min_epochs = min_epochs
        self.max_epochs = max_epochs
        self.factor = factor
        self.rounds: list[Round] = []
        # The rounds before the last, and their JSON (see `rounds_json`).
        self._settled: tuple[list[Round], list[dict[str, Any]]] = ([], [])

    @property
    def rungs(self) -> list[int]:
        """The epochs of each rung (see :func:`rung_epochs`)."""
        return rung_epochs(self.min_epochs, self.max_epochs, self.factor)

    def epochs_of(self, index: int) -> int:
        """The epochs of round ``index``: its rung's, or the last rung's."""
        rungs = self.rungs
        return rungs[min(index, len(rungs) - 1)]

    @property
    def index(self) -> int:
        """The index of the current (last) round; -1 before the first."""
        return len(self.rounds) - 1

    def start(self, upcoming: Round) -> None:
        """Makes ``upcoming`` the current round."""
        self.rounds.append(upcoming)

    def rounds_json(self) -> list[dict[str, Any]]:
        """The rounds as JSON; that of ended rounds before the last is kept.

        A round changes only while it is the last (its trials, ``full``) or
        until it has ended (``ended``: under asynchronous promotions a round
        ends after the next has opened): the others are converted once, so
        this costs the same at any trial count. The dicts of earlier rounds
        are shared between calls: do not modify.
        """
        rounds, dicts = self._settled
        settled = len(self.rounds) - 1
        if len(rounds) > max(0, settled) or (
            rounds and rounds[-1] is not self.rounds[len(rounds) - 1]
        ):
            rounds.clear()
            dicts.clear()
        while len(rounds) < settled and self.rounds[len(rounds)].ended:
            done = self.rounds[len(rounds)]
            rounds.append(done)
            dicts.append(done.to_json())
        return dicts + [r.to_json() for r in self.rounds[len(rounds) :]]

    def get_state(self) -> dict[str, Any]:
        """The plan's keys of the oracle's state."""
        return {
            "max_epochs": self.max_epochs,
            "min_epochs": self.min_epochs,
            "factor": self.factor,
            "rounds": self.rounds_json(),
        }

    def set_state(self, state: Mapping[str, Any], *, reopen: bool) -> None:
        """Restores from the oracle's state.

        Args:
            state: The oracle's state.
            reopen: Whether the last round may take more trials again (a
                rerun with a larger budget may pay for what it could not).
        """
        self.max_epochs = state["max_epochs"]
        self.min_epochs = state["min_epochs"]
        self.factor = state["factor"]
        self.rounds = [Round(**r) for r in state["rounds"]]
        if self.rounds and reopen:
            self.rounds[-1].full = False
