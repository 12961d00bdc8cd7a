"""The shape of a search in rounds: each round's epochs and the default budget.

Pure functions and a plain record, with no oracle: the epochs of each rung,
what one Keras Tuner Hyperband iteration trains, and :class:`Round`.
"""

from __future__ import annotations

import dataclasses
import math
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
