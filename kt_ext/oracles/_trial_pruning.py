"""Stopping a losing trial early: RankPruning's ranking of peers at an epoch.

:class:`TrialPruning` records every epoch's score of every trial, ranks a
trial among its peers at the same epoch (by bisection) and answers STOPPED to
a trial in the bottom ``prune_quantile``; such a trial ends COMPLETED with
"stopped early at epoch e" and is charged only the epochs it trained.
"""

from __future__ import annotations

import copy
import math
from typing import ClassVar

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.names import stopped_early_message
from kt_ext.oracles import _journal
from kt_ext.oracles import _rank_rules as rules
from kt_ext.oracles._rounds import COMPLETED, STOPPED, RoundOracle


class TrialPruning(RoundOracle):
    """The trial-pruning half of :class:`~kt_ext.oracles.RankPruningOracle`.

    The attributes it reads (``prune_trials``, ``prune_quantile``,
    ``min_peers`` and the per-epoch records) are declared and saved by that
    class.
    """

    # -- trial pruning ---------------------------------------------------------

    @keras_tuner.synchronized
    def update_trial(
        self, trial_id: str, metrics: dict[str, float], step: int = 0
    ) -> trial_module.Trial:
        """Records an epoch's metrics; answers STOPPED for a losing trial.

        The returned trial is a copy with status STOPPED when the trial ranks
        in the bottom ``prune_quantile`` of its peers at this epoch (or its
        metric is not finite), from that epoch on; the stored trial keeps
        running until the tuner ends it.
        """
        trial = super().update_trial(trial_id, metrics, step=step)
        name = self.objective.name
        if trial.status == STOPPED or not self.prune_trials or name not in metrics:
            return trial
        step = int(step)
        peers = self._epoch_values.setdefault(str(step), {})
        peers.setdefault(trial_id, []).append(float(metrics[name]))
        last = trial.hyperparameters.values.get("tuner/epochs", 0) - 1
        # Only the first execution of a trial decides, so that every execution
        # stops at the same epoch and the charged epochs stay exact.
        first_execution = len(peers[trial_id]) == 1
        ranks = self._peer_values(str(step))
        value = float(np.mean(peers[trial_id]))
        ranks.set(trial_id, value)
        if trial_id not in self._stopped_at and step < last and first_execution:
            # As rules.should_stop over the other trials' finite means, in
            # O(log n): the trial itself is among the finite ones, never better.
            finite = ranks.finite_count() - (1 if math.isfinite(value) else 0)
            better = ranks.better_than(value, self.objective.direction)
            if rules.stop_by_rank(
                value,
                better,
                finite,
                quantile=self.prune_quantile,
                min_peers=self.min_peers,
            ):
                self._stopped_at[trial_id] = step
        if step < self._stopped_at.get(trial_id, math.inf):
            return trial
        answer = copy.copy(trial)
        answer.status = STOPPED
        return answer

    def _peer_values(self, step: str) -> rules.PeerValues:
        """The means reported at ``step``, sorted (built once from the state)."""
        cache = self._peer_cache
        if step not in cache:
            ranks = cache[step] = rules.PeerValues()
            for trial_id, reported in self._epoch_values.get(step, {}).items():
                ranks.set(trial_id, float(np.mean(reported)))
        return cache[step]

    @keras_tuner.synchronized
    def end_trial(self, trial: trial_module.Trial) -> None:
        """Ends ``trial``, charging only the epochs a stopped trial trained.

        A stopped trial that completes gets the message ``stopped early at
        epoch e`` (``e`` counted from 1, as Keras prints it: the last epoch
        it trained); :attr:`stopped_trials` keeps the epoch in the state.
        """
        stopped = self._stopped_at.get(trial.trial_id)
        if stopped is not None:
            values = self.trials[trial.trial_id].hyperparameters.values
            start = values.get("tuner/initial_epoch", 0)
            self.charge_epochs(trial.trial_id, stopped + 1 - start)
            if trial.status == COMPLETED:
                trial.message = stopped_early_message(stopped + 1)
        super().end_trial(trial)

    def _forget_partial_run(self, trial_id: str) -> None:
        super()._forget_partial_run(trial_id)
        for step, peers in self._epoch_values.items():
            if peers.pop(trial_id, None) is not None:
                self._peer_cache.pop(step, None)
        self._stopped_at.pop(trial_id, None)

    @property
    def stopped_trials(self) -> dict[str, int]:
        """Trial id -> the epoch (0-based) at which it was stopped early."""
        return dict(self._stopped_at)

    _journal_plan: ClassVar[dict[tuple[str, ...], str]] = {
        **RoundOracle._journal_plan,
        ("pruning_log",): _journal.APPEND,
        ("rank_pruning", "epoch_values"): _journal.PER_TRIAL_NESTED,
        ("rank_pruning", "stopped_at"): _journal.PER_TRIAL,
    }

    _resume_settings: ClassVar[dict[str, tuple[str, ...]]] = {
        **RoundOracle._resume_settings,
        **{
            knob: ("rank_pruning", knob)
            for knob in (
                "rho_threshold",
                "alpha",
                "freeze_rho",
                "freeze_p_value",
                "freeze_rounds",
                "min_trials",
                "top_fraction",
                "margin",
                "prune_trials",
                "prune_quantile",
                "min_peers",
            )
        },
    }
