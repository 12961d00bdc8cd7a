"""Thin tuners over one shared fidelity-aware base."""

from __future__ import annotations

from kt_ext.tuners._base import FidelityTuner
from kt_ext.tuners._coarse_to_fine import CoarseToFine
from kt_ext.tuners._rank_pruning import RankPruning

__all__ = ["CoarseToFine", "FidelityTuner", "RankPruning"]
