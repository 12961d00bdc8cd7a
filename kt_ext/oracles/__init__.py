"""Search strategies as Keras Tuner oracles.

:class:`RoundOracle` is the shared base: rounds of trials with growing epochs
inside a current search space, an epoch budget, and JSON state.
:class:`CoarseToFineOracle` and :class:`RankPruningOracle` derive from it and
add their own rules. What each private module owns:

- the parts an oracle holds and calls: ``_plan`` (``RoundPlan``: rungs and
  rounds), ``_budget`` (``EpochBudget``: epochs charged at hand-out, and
  re-charged at what a stopped trial trained), ``_persistence``
  (``StateJournal``: saves), ``_workers`` (``WorkerRelease``: silent
  workers), ``_modelled`` (``ModelSampler``: model-based draws),
  ``_trial_pruning`` (``TrialPruner``: RankPruning's per-epoch stops),
  ``_promotion`` (``Promotion``: ``promotion="sync"|"async"``, and the
  asynchronous search's rungs and rounds);
- the oracle's own plumbing: ``_round_state`` (Keras Tuner state, reload,
  worker requests), ``_rounds`` (the round logic), ``_settings`` (the shared
  constructor arguments, written once), ``_resume`` and ``_state_version``
  (what a rerun may change);
- pure functions: ``_space`` (the current space as JSON), ``_sampling``
  (TPE-like draws), ``_curve_fit`` (learning-curve extrapolation),
  ``_rank_rules`` (Spearman narrowing and the stopping rule), ``_journal``
  (the state file's change lines).
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
