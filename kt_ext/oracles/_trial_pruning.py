"""Stopping a losing trial early: RankPruning's ranking of peers at an epoch.

:class:`TrialPruner` is a part that :class:`~kt_ext.oracles.RankPruningOracle`
holds and calls under its lock. It records every epoch's score of every trial,
ranks a trial among its peers at the same epoch (by bisection) and says when
a trial in the bottom ``prune_quantile`` is to stop; the oracle answers such a
trial STOPPED, and ends it COMPLETED with "stopped early at epoch e", charged
only the epochs it trained.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from kt_ext._internal.checks import check_int, check_number
from kt_ext.oracles import _rank_rules as rules

__all__ = ["TrialPruner"]


class TrialPruner:
    """Every epoch's objective of every trial, and the trials stopped early.

    It owns its three settings, the values reported at each epoch and the
    epoch at which each stopped trial was stopped; nothing else. The oracle
    calls it under its lock.

    Args:
        prune_trials: Whether to stop losing trials at all.
        prune_quantile: A trial is stopped when at least ``1 - prune_quantile``
            of its peers beat it at the same epoch.
        min_peers: Other trials needed at an epoch before any trial is
            stopped there.

    Raises:
        TypeError: ``prune_trials`` is not a bool.
        ValueError: ``prune_quantile`` is not in (0, 1] or ``min_peers`` is
            below 1; the message names the argument and the value.

    Example:
        >>> pruner = TrialPruner(prune_quantile=0.5, min_peers=2)
        >>> [pruner.report(tid, 0, v, last_epoch=2, direction="max")
        ...  for tid, v in [("a", 0.9), ("b", 0.8), ("c", 0.1)]]
        [False, False, True]
        >>> pruner.stopped_at
        {'c': 0}
    """

    #: The settings a rerun on a saved search must repeat (keys of the state).
    SETTINGS = ("prune_trials", "prune_quantile", "min_peers")

    def __init__(
        self,
        prune_trials: bool = True,
        prune_quantile: float = 0.1,
        min_peers: int = 5,
    ) -> None:
        if not isinstance(prune_trials, bool):
            raise TypeError(f"`prune_trials` must be a bool, got {prune_trials!r}.")
        check_number("prune_quantile", prune_quantile, low=0.0, high=1.0, open_low=True)
        check_int("min_peers", min_peers, 1)
        self.prune_trials = prune_trials
        self.prune_quantile = float(prune_quantile)
        self.min_peers = int(min_peers)
        # Epoch (as str) -> trial id -> the objective reported at that epoch
        # (one value per execution).
        self.epoch_values: dict[str, dict[str, list[float]]] = {}
        # Trial id -> the epoch (0-based) at which it was stopped.
        self.stopped_at: dict[str, int] = {}
        # Epoch (as str) -> the means in `epoch_values`, sorted; not state.
        self._peers: dict[str, rules.PeerValues] = {}

    def report(
        self,
        trial_id: str,
        step: int,
        value: float,
        *,
        last_epoch: int,
        direction: str,
    ) -> bool:
        """Records ``trial_id``'s objective at epoch ``step``; whether it stops.

        Only the first execution of a trial decides, so that every execution
        stops at the same epoch and the charged epochs stay exact; a trial is
        never stopped at its ``last_epoch``. Once stopped, a trial is stopped
        at every later epoch too.

        Args:
            trial_id: The trial reporting.
            step: The epoch (0-based).
            value: The objective at that epoch.
            last_epoch: The trial's last epoch (0-based).
            direction: ``"min"`` or ``"max"``.

        Returns:
            Whether the trial is to stop (nothing is recorded when
            ``prune_trials`` is False).
        """
        if not self.prune_trials:
            return False
        peers = self.epoch_values.setdefault(str(step), {})
        peers.setdefault(trial_id, []).append(value)
        first_execution = len(peers[trial_id]) == 1
        ranks = self.peers(str(step))
        mean = float(np.mean(peers[trial_id]))
        ranks.set(trial_id, mean)
        if trial_id not in self.stopped_at and step < last_epoch and first_execution:
            # As rules.should_stop over the other trials' finite means, in
            # O(log n): the trial itself is among the finite ones, never better.
            finite = ranks.finite_count() - (1 if math.isfinite(mean) else 0)
            better = ranks.better_than(mean, direction)
            if rules.stop_by_rank(
                mean,
                better,
                finite,
                quantile=self.prune_quantile,
                min_peers=self.min_peers,
            ):
                self.stopped_at[trial_id] = step
        return step >= self.stopped_at.get(trial_id, math.inf)

    def peers(self, step: str) -> rules.PeerValues:
        """The means reported at ``step``, sorted (built once from the state)."""
        if step not in self._peers:
            ranks = self._peers[step] = rules.PeerValues()
            for trial_id, reported in self.epoch_values.get(step, {}).items():
                ranks.set(trial_id, float(np.mean(reported)))
        return self._peers[step]

    def epochs_trained(self, trial_id: str, initial_epoch: int) -> int | None:
        """Epochs a stopped trial trained from ``initial_epoch``, else None."""
        stopped = self.stopped_at.get(trial_id)
        return None if stopped is None else stopped + 1 - initial_epoch

    def forget(self, trial_id: str) -> None:
        """Drops what a run of ``trial_id`` reported (it is run again)."""
        for step, peers in self.epoch_values.items():
            if peers.pop(trial_id, None) is not None:
                self._peers.pop(step, None)
        self.stopped_at.pop(trial_id, None)

    def get_state(self) -> dict[str, Any]:
        """The settings and the records, as JSON (keys of ``rank_pruning``)."""
        return {
            "prune_trials": self.prune_trials,
            "prune_quantile": self.prune_quantile,
            "min_peers": self.min_peers,
            "epoch_values": self.epoch_values,
            "stopped_at": self.stopped_at,
        }

    def set_state(self, state: dict[str, Any]) -> None:
        """Reads what :meth:`get_state` wrote (other keys are ignored)."""
        self.prune_trials = state["prune_trials"]
        self.prune_quantile = state["prune_quantile"]
        self.min_peers = state["min_peers"]
        self.epoch_values = {
            step: {tid: list(values) for tid, values in by_trial.items()}
            for step, by_trial in state["epoch_values"].items()
        }
        self.stopped_at = dict(state["stopped_at"])
        self._peers = {}
