"""Search strategies as Keras Tuner oracles.

:class:`RoundOracle` is the shared base: rounds of trials with growing epochs
inside a current search space, an epoch budget, and JSON state.
"""

from __future__ import annotations

from kt_ext.oracles._coarse_to_fine import CoarseToFineOracle
from kt_ext.oracles._rank_pruning import RankPruningOracle
from kt_ext.oracles._rounds import RoundOracle, hyperband_epoch_budget, rung_epochs

__all__ = [
    "CoarseToFineOracle",
    "RankPruningOracle",
    "RoundOracle",
    "hyperband_epoch_budget",
    "rung_epochs",
]
