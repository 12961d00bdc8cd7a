"""Rank-correlation pruning: cut the search space where the data says so.

Rounds of trials are sampled from the current space with epochs growing by
``factor`` (see :class:`~kt_ext.oracles.RoundOracle`). After each round, the
Spearman rank correlation of every active hyperparameter with the objective is
computed over the completed trials of every round so far (the most recent
``evidence_window``), each scored by its rank percentile within its own round
so that rounds of different epochs count alike, and only over trials whose
value the current space still allows: numeric entries in Keras
Tuner's unit-cube view (so log ranges are judged in log space), each value of a
choice as a 0/1 indicator, conditional entries only over the trials where they
were active. Then:

- ``narrow``: an influential numeric entry loses the bad side of its range, up
  to just beyond the round's top trials;
- ``remove``: a choice value that goes with significantly worse scores is
  dropped (never the last one);
- ``freeze``: an entry without effect in ``freeze_rounds`` consecutive rounds
  is fixed at the value of the round's best trial.

Every decision is appended to :attr:`RankPruningOracle.pruning_log`; the
maths are the pure functions of :mod:`kt_ext.oracles._rank_rules`. While a
trial trains, its part ``self._pruner`` (a
:class:`~kt_ext.oracles._trial_pruning.TrialPruner`) ranks each epoch's metric
against the other trials' at that epoch and stops a losing trial.
"""

from __future__ import annotations

import copy
import math
from typing import Any, ClassVar

import keras_tuner
import numpy as np
from keras_tuner.engine import hyperparameters as hp_module
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.checks import check_int, check_number
from kt_ext._internal.names import stopped_early_message
from kt_ext.oracles import _journal
from kt_ext.oracles import _rank_rules as rules
from kt_ext.oracles._modelled import ModelSampler
from kt_ext.oracles._round_state import delegate
from kt_ext.oracles._rounds import COMPLETED, STOPPED, Round, RoundOracle
from kt_ext.oracles._sampling import round_percentiles, same_epochs
from kt_ext.oracles._settings import PromotionName, SearchSettings, shares_settings
from kt_ext.oracles._trial_pruning import TrialPruner

__all__ = ["RankPruningOracle"]


# The knobs of the space's pruning, as the state keeps them (under
# "rank_pruning", before the trial pruner's).
_SPACE_KNOBS = (
    "rho_threshold",
    "alpha",
    "freeze_rho",
    "freeze_p_value",
    "freeze_rounds",
    "min_trials",
    "top_fraction",
    "margin",
)


def _is_active(trial: trial_module.Trial, name: str) -> bool:
    hps = trial.hyperparameters
    return name in hps.values and hps.is_active(name)


def _inside(hp: hp_module.HyperParameter, entry: dict[str, Any], value: Any) -> bool:
    """Whether ``value`` is allowed by the current ``entry`` of ``hp``."""
    if "values" in entry:
        return value in entry["values"]
    return entry["min"] <= value <= entry["max"]


@shares_settings()
class RankPruningOracle(RoundOracle):
    """Rounds of trials; after each, Spearman correlations decide what to cut.

    Args:
        objective: As in Keras Tuner.
        {search_settings}
        rho_threshold: Smallest ``|rho|`` that makes an entry (or a choice
            value) influential. Default 0.3.
        alpha: Largest p-value that makes an entry influential (for a
            choice's values, Bonferroni-corrected for their number). Default
            0.05.
        freeze_rho: An entry is quiet in a round when ``|rho|`` is below this
            and the p-value at least ``freeze_p_value``. Default 0.2.
        freeze_p_value: See ``freeze_rho``. Default 0.1.
        freeze_rounds: Consecutive quiet rounds before an entry is frozen.
            Default 4 (freezing is the one cut that evidence of "no effect"
            from mostly short trials can get wrong).
        min_trials: Completed trials (where the entry is active) needed before
            any decision on an entry. Default 8.
        top_fraction: Share of a round's trials whose span a narrowed range
            keeps. Default 1/3.
        margin: Slack kept beyond the top trials when narrowing, in the
            unit-cube view. Default 0.1.
        prune_trials: Whether to stop losing trials early. The tuner must then
            report every epoch (``kt_ext.RankPruning`` does). Default True.
        prune_quantile: A trial is stopped when at least ``1 - prune_quantile``
            of its peers beat it at the same epoch. Default 0.1: a raw score
            at an early epoch favours fast starters, so only the clearly
            losing tenth is stopped (0.25 stopped slow configurations that end
            best: synthetic 1.11x -> 1.01x, lcbench 0.53x -> 0.51x Hyperband's
            median regret, 10 seeds).
        min_peers: Other trials needed at an epoch before any trial is stopped
            there. Default 5.

    Attributes:
        pruning_log: One dict per decision: ``{"round", "name", "rho",
            "p_value", "action", "before", "after"}``, ``action`` in
            ``narrow``, ``remove``, ``freeze``; ``before``/``after`` in the
            space format.

    Example:
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RankPruningOracle, objective, max_epochs=9, seed=1)
        >>> result = run_oracle(oracle, objective)
        >>> {entry["action"] for entry in oracle.pruning_log} <= {
        ...     "narrow", "remove", "freeze"}
        True
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
        hyperparameters: keras_tuner.HyperParameters | None = None,
        allow_new_entries: bool = True,
        tune_new_entries: bool = True,
        seed: int | None = None,
        max_retries_per_trial: int = 0,
        max_consecutive_failed_trials: int = 3,
        worker_timeout: float | None = None,
        promotion: PromotionName | None = None,
        rho_threshold: float = 0.3,
        alpha: float = 0.05,
        freeze_rho: float = 0.2,
        freeze_p_value: float = 0.1,
        freeze_rounds: int = 4,
        min_trials: int = 8,
        top_fraction: float = 1 / 3,
        margin: float = 0.1,
        prune_trials: bool = True,
        prune_quantile: float = 0.1,
        min_peers: int = 5,
    ) -> None:
        check_number("rho_threshold", rho_threshold, low=0.0, high=1.0, open_low=True)
        check_number("alpha", alpha, low=0.0, high=1.0, open_low=True)
        check_number("freeze_rho", freeze_rho, low=0.0, high=1.0, open_low=True)
        check_number("freeze_p_value", freeze_p_value, low=0.0, high=1.0, open_low=True)
        check_int("freeze_rounds", freeze_rounds, 1)
        check_int("min_trials", min_trials, 3)
        check_number("top_fraction", top_fraction, low=0.0, high=1.0, open_low=True)
        check_number("margin", margin, low=0.0, high=1.0)
        # Its own parts: the epochs reported (to stop trials), a model to draw.
        pruner = TrialPruner(prune_trials, prune_quantile, min_peers)
        super().__init__(
            objective=objective,
            **SearchSettings.of(locals()).arguments(),
        )
        self._pruner = pruner
        self._sampler = ModelSampler()
        self.rho_threshold = float(rho_threshold)
        self.alpha = float(alpha)
        self.freeze_rho = float(freeze_rho)
        self.freeze_p_value = float(freeze_p_value)
        self.freeze_rounds = int(freeze_rounds)
        self.min_trials = int(min_trials)
        self.top_fraction = float(top_fraction)
        self.margin = float(margin)
        self.pruning_log: list[dict[str, Any]] = []
        # Most recent completed trials that the correlations are computed over.
        self.evidence_window = 192
        # Consecutive quiet rounds per entry.
        self._quiet: dict[str, int] = {}

    # -- rounds ----------------------------------------------------------------

    def _plan_round(self, index: int) -> Round | None:
        """The base plan, continuing only trials the current space allows.

        Round 0 spends an equal share of the budget on ``min_epochs`` trials.
        A trial stopped early has not reached its ``tuner/epochs``, and one
        whose values a decision has since cut is outside the space: neither is
        continued, and the epochs its continuation would have trained go to
        fresh configurations instead.
        """
        planned = super()._plan_round(index)
        if planned is None:
            return planned
        if index == 0 and self.fold_budget is not None:
            rungs = self._plan.rungs
            share = int(self.fold_budget // (len(rungs) * planned.epochs))
            planned.new = max(planned.new, share)
        if not planned.carry:
            return planned
        carry = [tid for tid in planned.carry if self._promotable(tid)]
        dropped = len(planned.carry) - len(carry)
        if dropped:
            previous = self.rounds[index - 1].epochs
            freed = dropped * (planned.epochs - previous)
            planned.carry = carry
            planned.new += math.floor(freed / planned.epochs)
            if not carry:
                planned.new = max(planned.new, 1)
        return planned

    def _promotable(self, trial_id: str) -> bool:
        """Whether the trial trained its epochs and lies inside the space."""
        if trial_id in self._pruner.stopped_at:
            return False
        trial = self.trials[trial_id]
        hps = {hp.name: hp for hp in self.hyperparameters.space}
        return all(
            _inside(hps[name], entry, trial.hyperparameters.values[name])
            for name, entry in self.space.items()
            if name in hps and _is_active(trial, name)
        )

    def _end_round(self, index: int, completed: list[trial_module.Trial]) -> None:
        """Correlates every open entry with the scores so far, and cuts.

        The evidence pools the completed trials of this and earlier rounds (at
        most ``evidence_window``, the most recent first), each scored by its
        rank percentile within its own round, so that rounds of different
        epochs count alike; an entry is judged over the trials where it was
        active and its value lies inside the current space.
        """
        pooled = self._pooled(completed)
        hps = {hp.name: hp for hp in self.hyperparameters.space}
        for name in list(self.space):
            hp, entry = hps.get(name), self.space[name]
            if hp is None or len(entry.get("values", (0, 0))) < 2:
                continue
            active = [
                (values[name], goodness)
                for values, goodness in pooled
                if name in values and _inside(hp, entry, values[name])
            ]
            if len(active) < self.min_trials:
                continue
            values = [value for value, _ in active]
            goodness = [goodness for _, goodness in active]
            if "values" in entry:
                self._judge_choice(index, name, entry, values, goodness)
            else:
                self._judge_range(index, hp, entry, values, goodness)

    def _pooled(
        self, completed: list[trial_module.Trial]
    ) -> list[tuple[dict[str, Any], float]]:
        """``(active values, percentile in its round and rung)``, recent first."""
        rounds = [completed] + [
            self._completed(past) for past in reversed(self.rounds[:-1]) if past.ended
        ]
        pooled: list[tuple[dict[str, Any], float]] = []
        for group in (group for trials in rounds for group in same_epochs(trials)):
            if len(group) < 2:
                continue
            percentiles = round_percentiles(
                [trial.score for trial in group], self.objective.direction
            )
            for trial, percentile in zip(group, percentiles, strict=True):
                values = {
                    name: trial.hyperparameters.values[name]
                    for name in self.space
                    if _is_active(trial, name)
                }
                pooled.append((values, percentile))
            if len(pooled) >= self.evidence_window:
                break
        return pooled[: self.evidence_window]

    def _judge_range(
        self,
        index: int,
        hp: hp_module.HyperParameter,
        entry: dict[str, Any],
        values: list[Any],
        goodness: list[float],
    ) -> None:
        positions = [hp.value_to_prob(value) for value in values]
        evidence = rules.spearman(positions, goodness)
        if rules.is_influential(
            evidence, rho_threshold=self.rho_threshold, alpha=self.alpha
        ):
            self._quiet[hp.name] = 0
            bounds = (hp.value_to_prob(entry["min"]), hp.value_to_prob(entry["max"]))
            low, high = rules.narrowed_bounds(
                positions,
                goodness,
                evidence.rho,
                bounds,
                top_fraction=self.top_fraction,
                margin=self.margin,
            )
            after = dict(entry)
            if evidence.rho > 0:
                after["min"] = min(
                    max(hp.prob_to_value(low), entry["min"]), entry["max"]
                )
            else:
                after["max"] = max(
                    min(hp.prob_to_value(high), entry["max"]), entry["min"]
                )
            if after != entry:
                self._decide(index, hp.name, evidence, "narrow", after)
            return
        self._count_quiet(index, hp.name, evidence, values, goodness)

    def _judge_choice(
        self,
        index: int,
        name: str,
        entry: dict[str, Any],
        values: list[Any],
        goodness: list[float],
    ) -> None:
        choices = entry["values"]
        evidence = {
            position: rules.spearman(
                [float(value == choice) for value in values], goodness
            )
            for position, choice in enumerate(choices)
        }
        removed = rules.values_to_remove(
            evidence, rho_threshold=self.rho_threshold, alpha=self.alpha
        )
        if removed:
            self._quiet[name] = 0
            for position in removed:
                current = self.space[name]["values"]
                after = {"values": [v for v in current if v != choices[position]]}
                self._decide(index, name, evidence[position], "remove", after)
            return
        finite = [ev for ev in evidence.values() if math.isfinite(ev.rho)]
        strongest = (
            min(finite, key=lambda ev: ev.p_value)
            if len(finite) == len(evidence)
            else rules.Evidence(math.nan, math.nan, len(values))
        )
        self._count_quiet(index, name, strongest, values, goodness)

    def _count_quiet(
        self,
        index: int,
        name: str,
        evidence: rules.Evidence,
        values: list[Any],
        goodness: list[float],
    ) -> None:
        # Freezing claims "no effect": only on twice the evidence of a cut.
        quiet = evidence.n >= 2 * self.min_trials and rules.is_quiet(
            evidence, freeze_rho=self.freeze_rho, freeze_p_value=self.freeze_p_value
        )
        self._quiet[name] = self._quiet.get(name, 0) + 1 if quiet else 0
        if self._quiet[name] >= self.freeze_rounds:
            best = values[int(np.argmax(goodness))]
            self._decide(index, name, evidence, "freeze", {"values": [best]})

    def _decide(
        self,
        index: int,
        name: str,
        evidence: rules.Evidence,
        action: str,
        after: dict[str, Any],
    ) -> None:
        before = self.space[name]
        self.space = {**self.space, name: after}
        self.pruning_log.append(
            {
                "round": index,
                "name": name,
                "rho": evidence.rho,
                "p_value": evidence.p_value,
                "action": action,
                "before": copy.deepcopy(before),
                "after": copy.deepcopy(after),
            }
        )

    # -- trial pruning (a part: self._pruner) ----------------------------------

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
        if trial.status == STOPPED or name not in metrics:
            return trial
        last = trial.hyperparameters.values.get("tuner/epochs", 0) - 1
        value, direction = float(metrics[name]), self.objective.direction
        if self._pruner.report(
            trial_id, int(step), value, last_epoch=last, direction=direction
        ):
            trial = copy.copy(trial)
            trial.status = STOPPED
        return trial

    @keras_tuner.synchronized
    def end_trial(self, trial: trial_module.Trial) -> None:
        """Ends ``trial``, charging only the epochs a stopped trial trained.

        A stopped trial that completes gets the message ``stopped early at
        epoch e`` (``e`` counted from 1, as Keras prints it: the last epoch
        it trained); :attr:`stopped_trials` keeps the epoch in the state.
        """
        values = self.trials[trial.trial_id].hyperparameters.values
        start = values.get("tuner/initial_epoch", 0)
        trained = self._pruner.epochs_trained(trial.trial_id, start)
        if trained is not None:
            self.charge_epochs(trial.trial_id, trained)
            if trial.status == COMPLETED:
                trial.message = stopped_early_message(start + trained)
        super().end_trial(trial)

    def _forget_partial_run(self, trial_id: str) -> None:
        super()._forget_partial_run(trial_id)
        self._pruner.forget(trial_id)

    def _peer_values(self, step: str) -> rules.PeerValues:
        return self._pruner.peers(step)  # the means at epoch `step`, sorted

    @property
    def stopped_trials(self) -> dict[str, int]:
        """Trial id -> the epoch (0-based) at which it was stopped early."""
        return dict(self._pruner.stopped_at)

    prune_trials = delegate("_pruner", "prune_trials", "Whether to stop trials.", True)
    prune_quantile = delegate(
        "_pruner", "prune_quantile", "Bottom share of peers that stops.", True
    )
    min_peers = delegate("_pruner", "min_peers", "Peers needed to stop one.", True)
    _epoch_values = delegate("_pruner", "epoch_values", "Epoch -> trial -> values.")
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
            for knob in (*_SPACE_KNOBS, *TrialPruner.SETTINGS)
        },
    }

    # -- state -----------------------------------------------------------------

    def get_state(self) -> dict[str, Any]:
        state = super().get_state()
        # The pruner's keys, in the order they were always saved in.
        pruner = self._pruner.get_state()
        records = {key: pruner.pop(key) for key in ("epoch_values", "stopped_at")}
        state.update(
            {
                # At the top level, where the analysis reads it (DESIGN.md).
                "pruning_log": self.pruning_log,
                "rank_pruning": {
                    **{knob: getattr(self, knob) for knob in _SPACE_KNOBS},
                    **pruner,
                    "quiet": self._quiet,
                    **records,
                },
            }
        )
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        own = state["rank_pruning"]
        for knob in _SPACE_KNOBS:
            setattr(self, knob, own[knob])
        self._pruner.set_state(own)
        self.pruning_log = copy.deepcopy(state["pruning_log"])
        self._quiet = dict(own["quiet"])
