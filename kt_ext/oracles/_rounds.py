"""Rounds of trials with growing epochs: the shared base of kt_ext's oracles.

A round trains every one of its trials for the same number of epochs
(``tuner/epochs``). Epochs grow by ``factor`` from ``min_epochs`` to
``max_epochs`` over the rounds (the *rungs*); a round may continue the best
trials of the previous round from their weights (``tuner/trial_id``,
``tuner/initial_epoch``, as Keras Tuner's Hyperband does) and adds fresh
configurations sampled inside the current :mod:`space <kt_ext.oracles._space>`.
When a round has ended, :meth:`RoundOracle._end_round` lets a subclass learn
from it (narrow ranges, prune values) before the next round is planned.

A trial whose loss or objective became NaN or infinite ends FAILED, with the
message ``diverged at epoch e``; such trials are never best and do not count
toward ``max_consecutive_failed_trials`` (a bad learning-rate region is not
broken code). Every trial's wall-clock seconds, from the moment it is handed
out to its end, are recorded in its ``kt_ext/wall_time`` metric.

The epoch budget counts epochs actually trained, times
``executions_per_trial`` and the folds of ``cv`` (:meth:`RoundOracle.set_folds`),
and is never exceeded (epochs that a worker presumed
dead goes on training are not counted). Everything lives in
``get_state`` as plain JSON, so a reloaded search continues where it was. In
Keras Tuner's distributed mode a worker silent for ``worker_timeout`` seconds
is released and its trial goes to the next worker that asks. A rerun on a
saved search must repeat its settings (see :mod:`kt_ext.oracles._resume`).

The oracle is composed of parts it holds and calls under its lock, each with
its own state: ``self._plan`` (:class:`~kt_ext.oracles._plan.RoundPlan`: the
rungs and the rounds), ``self._budget``
(:class:`~kt_ext.oracles._budget.EpochBudget`: the limit and the epochs
charged), ``self._journal`` (:class:`~kt_ext.oracles._persistence.StateJournal`:
snapshot and journal on disk), ``self._release``
(:class:`~kt_ext.oracles._workers.WorkerRelease`: who was heard from when) and
``self._promotion`` (:class:`~kt_ext.oracles._promotion.Promotion`: under
``promotion="async"``, it hands out trials without waiting for a round's
last one, and defines the rounds then); the strategies add ``self._sampler``
(:class:`~kt_ext.oracles._modelled.ModelSampler`: the model of good trials)
and RankPruning ``self._pruner``
(:class:`~kt_ext.oracles._trial_pruning.TrialPruner`: the epochs reported).
Its shared arguments are :class:`~kt_ext.oracles._settings.SearchSettings`.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.names import (
    diverged_message,
    is_bookkeeping,
    is_diverged,
)
from kt_ext._internal.seam_oracle import retry_queue, tried_hashes
from kt_ext.oracles._budget import EpochBudget, budget_error, planned_epochs
from kt_ext.oracles._modelled import ModelSampler
from kt_ext.oracles._persistence import (
    COMPLETED,
    FAILED,
    IDLE,
    RUNNING,
    STOPPED,
    StateJournal,
)
from kt_ext.oracles._plan import (
    Round,
    RoundPlan,
    hyperband_epoch_budget,
    rung_epochs,
)
from kt_ext.oracles._promotion import Promotion
from kt_ext.oracles._resume import (
    objective_metrics,
)
from kt_ext.oracles._round_state import (
    RoundState,
    add_wall_time,
    delegate,
    diverged_epoch,
)
from kt_ext.oracles._settings import PromotionName, SearchSettings, shares_settings
from kt_ext.oracles._space import (
    Space,
    entry_space,
    sample_values,
    values_key,
)
from kt_ext.oracles._workers import WorkerRelease

# Draws of an already-tried configuration before a duplicate is accepted.
_MAX_COLLISIONS = 20


__all__ = ["Round", "RoundOracle", "hyperband_epoch_budget", "rung_epochs"]


@shares_settings()
class RoundOracle(RoundState):
    """Base oracle: rounds with growing epochs inside a current search space.

    Subclasses override :meth:`_end_round` (learn from a finished round, e.g.
    narrow ``self.space``) and may override :meth:`_plan_round` (how many
    trials to continue and to sample in a round). Both are called under the
    oracle's lock. A subclass that sets ``self._sampler`` to a
    :class:`~kt_ext.oracles._modelled.ModelSampler` draws fresh trials from
    its model and ranks trials on their predicted final score.

    Args:
        objective: As in Keras Tuner.
        {search_settings}

    Example:
        >>> from kt_ext.testing import get_objective, make_oracle, run_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RoundOracle, objective, max_epochs=9, seed=1)
        >>> result = run_oracle(oracle, objective)  # a synthetic search
        >>> [round.epochs for round in oracle.rounds][:3]
        [1, 3, 9]
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
    ) -> None:
        settings = SearchSettings.of(locals())
        seed = settings.seed
        budget = settings.epoch_budget
        if budget is not None and budget < settings.min_epochs:
            # Executions (and folds) only multiply a trial's cost.
            raise budget_error(budget, settings.min_epochs, 1)
        # The parts, each with its own state; called under the oracle's lock.
        # The default budget grows with the folds of a cross-validated search.
        default = None
        if budget is None and settings.max_trials is None:
            default = budget = hyperband_epoch_budget(settings.max_epochs, factor)
        self._budget = EpochBudget(budget, default)
        self._plan = RoundPlan(settings.min_epochs, settings.max_epochs, factor)
        self._release = WorkerRelease(worker_timeout)
        self._promotion = Promotion(settings.promotion)
        self._journal = StateJournal(self._journal_plan)
        super().__init__(
            objective=objective,
            max_trials=settings.max_trials,
            hyperparameters=hyperparameters,
            allow_new_entries=allow_new_entries,
            tune_new_entries=tune_new_entries,
            seed=seed,
            max_retries_per_trial=max_retries_per_trial,
            max_consecutive_failed_trials=max_consecutive_failed_trials,
        )
        if seed is not None:
            # Keras Tuner treats 0 as "no seed"; here it is a seed.
            self.seed = seed
        self.space: Space = {}
        self._rng = np.random.default_rng(self.seed)
        # Settings left to their default, not compared on a rerun.
        self._unset_settings: set[str] = {"seed"} if seed is None else set()
        if promotion is None:
            self._unset_settings.add("promotion")
        # Names of the entries declared when the search started (not those
        # created mid-search); None until then.
        self._declared_entries: list[str] | None = None
        # Whether a tuner declared its hypermodel's entries (update_space)
        # before a reload: only then are entries it no longer declares known.
        self._space_declared = False
        # When each running trial was handed out (this process's clock).
        self._trial_clock: dict[str, float] = {}
        # A strategy that draws from a model of good trials, and ranks on
        # predicted final scores, holds that part here; None: uniform draws.
        self._sampler: ModelSampler | None = None

    #: Settings a rerun on a saved search must repeat, and where the state
    #: keeps each (a path of keys); subclasses add their knobs. A setting left
    #: to its default (``_unset_settings``) is not compared.
    _resume_settings: ClassVar[dict[str, tuple[str, ...]]] = {
        "objective": ("objective",),
        "max_epochs": ("max_epochs",),
        "min_epochs": ("min_epochs",),
        "factor": ("factor",),
        "executions_per_trial": ("executions_per_trial",),
        "seed": ("seed",),
        "promotion": ("promotion",),
    }

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        if self._sampler is not None:
            self._sampler.reset()

    promotion = delegate(
        "_promotion", "value", "How trials are promoted: 'sync' or 'async'."
    )

    def resolve_promotion(self, workers: int) -> str:
        """Resolves ``promotion=None`` for a search with ``workers`` workers.

        ``search(workers=N)`` calls it once before the search starts: ``None``
        becomes ``"async"`` for more than one worker, else ``"sync"``. An
        explicit value stays, as does a resumed search's saved value or that of
        a search this oracle has already started. Returns the value, which
        :attr:`promotion` then gives.

        Raises:
            ValueError: ``workers`` is not a positive int (naming it).

        Example:
            >>> RoundOracle("loss", max_epochs=9).resolve_promotion(4)
            'async'
            >>> RoundOracle("loss", max_epochs=9, promotion="sync").resolve_promotion(4)
            'sync'
        """
        return self._promotion.resolve(workers, started=bool(self.rounds))

    # With a sampler part: its settings.
    model_window = delegate(
        "_sampler", "window", "Recent completed trials the model fits.", True
    )
    model_gamma = delegate(
        "_sampler", "gamma", "Share of them counted as good by the model.", True
    )

    # -- what subclasses override ------------------------------------------

    def _plan_round(self, index: int) -> Round | None:
        """Plans round ``index``; ``None`` ends the search.

        The default continues the best ``1/factor`` of the previous round when
        this round trains longer, and spends about an equal share of the epoch
        budget on each rung; the first round has at least two fresh trials and
        at most as many as Hyperband's widest bracket.
        After the last rung, rounds of fresh trials at ``max_epochs`` follow
        while the budget lasts.
        """
        rungs = self._plan.rungs
        epochs = self._plan.epochs_of(index)
        carry: list[str] = []
        previous = self.rounds[index - 1] if index else None
        if previous is not None and previous.epochs < epochs:
            ranked = self._ranked(previous.trial_ids)
            keep = int(len(ranked) // self.factor)
            carry = [trial.trial_id for trial in ranked[:keep]]
        carry_cost = len(carry) * (epochs - (previous.epochs if previous else 0))
        if self.epoch_budget is None:
            share = self.max_trials / len(rungs) * epochs
        else:
            share = self.fold_budget / len(rungs)
        new = max(0, math.floor((share - carry_cost) / epochs))
        if index == 0:
            # No wider than Hyperband's widest bracket: many one-epoch trials
            # cost more in per-trial overhead than they teach.
            widest = math.ceil(self.factor ** (len(rungs) - 1))
            new = max(min(new, widest), 2)
        elif new == 0 and not carry:
            new = 1
        return Round(epochs=epochs, carry=carry, new=new)

    def _end_round(self, index: int, completed: list[trial_module.Trial]) -> None:
        """Learns from round ``index``'s completed trials with a finite score."""

    # -- Keras Tuner's oracle interface ------------------------------------

    def populate_space(self, trial_id: str) -> dict[str, Any]:
        """The next trial of the current round, or IDLE / STOPPED."""
        if self._declared_entries is None:
            self._declared_entries = self._entry_names()
        self._sync_space()
        if self._promotion.is_async:
            return self._promotion.populate(self, trial_id)
        while True:
            if not self.rounds:
                first = self._plan_round(0)
                if first is None:
                    return {"status": STOPPED}
                self._plan.start(first)
            current = self.rounds[-1]
            values = self._next_values(current)
            if values is not None:
                current.trial_ids.append(trial_id)
                self._budget.charge(trial_id, planned_epochs(values))
                return {"status": RUNNING, "values": values}
            if self._round_is_running(current):
                # Only in distributed mode: other workers still train this round.
                return {"status": IDLE}
            if not current.ended:
                self._end_round(self._plan.index, self._completed(current))
                current.ended = True
            upcoming = None if current.full else self._plan_round(len(self.rounds))
            if upcoming is None or not self._budget.affordable(
                self._cheapest(upcoming)
            ):
                # Keras Tuner saves only when a trial starts: keep what the last
                # round taught.
                self.save()
                return {"status": IDLE if self.ongoing_trials else STOPPED}
            self._plan.start(upcoming)

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> trial_module.Trial:
        """Creates a trial as Keras Tuner does, charging retries to the budget.

        Keras Tuner hands out a trial waiting for a retry before asking
        :meth:`populate_space`; its epochs count again, and a retry that the
        budget cannot pay for ends the trial as failed instead, and the next
        one waiting is considered.
        """
        self._release.hear(tuner_id)
        self.release_silent_workers()
        queue = retry_queue(self)
        while tuner_id not in self.ongoing_trials and queue:
            trial = self.trials[queue[-1]]
            planned = planned_epochs(trial.hyperparameters.values)
            if self._budget.charge_retry(trial.trial_id, planned):
                break
            queue.pop()
            trial.status = trial_module.TrialStatus.FAILED
            trial.message = "Not retried: the epoch budget is spent."
            self.end_order.append(trial.trial_id)
            self._save_trial(trial)
        trial = super().create_trial(tuner_id)
        if trial.status == RUNNING:
            self._trial_clock.setdefault(trial.trial_id, time.monotonic())
        return trial

    @keras_tuner.synchronized
    def end_trial(self, trial: trial_module.Trial) -> None:
        """Ends ``trial`` as Keras Tuner does; a diverged trial ends FAILED.

        A trial that reported a NaN or infinite loss or objective ends FAILED
        with the message ``diverged at epoch e`` (so it is never best, and is
        not retried), whatever status the tuner gave it. The trial's wall
        time is recorded in its ``kt_ext/wall_time`` metric. A worker presumed
        dead that finishes after all is taken at its word if no other worker
        has finished its trial yet; a late duplicate report is dropped.
        """
        self._release.hear_from(trial.trial_id, self.ongoing_trials)
        if not self._accepts_end(trial.trial_id):
            return  # a late duplicate report: the trial has ended already
        stored = self.trials[trial.trial_id]
        epoch = diverged_epoch(stored, self._divergence_metrics())
        if epoch is not None:
            trial.status = FAILED
            trial.message = diverged_message(epoch)
        add_wall_time(stored, self._trial_clock.pop(trial.trial_id, None))
        if not self._is_running(trial.trial_id):
            # A worker presumed dead finished first: its trial leaves the queue.
            retry_queue(self).remove(trial.trial_id)
            self._budget.interrupted.discard(trial.trial_id)
        super().end_trial(trial)

    def ignores_failure(self, trial: trial_module.Trial) -> bool:
        """A diverged trial does not count toward consecutive failures."""
        return is_diverged(trial.message)

    def get_best_trials(self, num_trials: int = 1) -> list[trial_module.Trial]:
        """The best completed trials with a finite score, best first.

        Ranked on the score each trial reached, never on a prediction: a
        learning-curve extrapolation (what :meth:`_ranked` may use to choose
        which trials continue) is a guess, and a recommendation must be what
        was measured. Unlike Keras Tuner, the list is not padded with failed
        or running trials: it may be shorter than ``num_trials``, or empty.
        """
        return self._by_score(list(self.trials))[:num_trials]

    def update_space(self, hyperparameters: keras_tuner.HyperParameters) -> None:
        """Adds new entries as Keras Tuner does (the tuner declares its space)."""
        self._space_declared = True
        super().update_space(hyperparameters)

    def score_trial(self, trial: trial_module.Trial) -> None:
        """Scores as Keras Tuner does; an infinite score counts as NaN (failed)."""
        super().score_trial(trial)
        if trial.score is not None and not math.isfinite(trial.score):
            trial.score = float("nan")

    def values_hash(self, values: Mapping[str, Any]) -> str:
        """A configuration's hash, without its bookkeeping entries."""
        return values_key(values)

    # -- rounds --------------------------------------------------------------

    def _next_values(self, current: Round) -> dict[str, Any] | None:
        created = len(current.trial_ids)
        if current.full or created >= current.size:
            return None
        if created < len(current.carry):
            values = self._continued(current.carry[created])
        else:
            values = self._sample()
            values["tuner/initial_epoch"] = 0
        values["tuner/epochs"] = current.epochs
        values["tuner/round"] = self._plan.index
        if not self._budget.affordable(self._budget.cost(values)):
            current.full = True
            return None
        return values

    def _continued(self, trial_id: str) -> dict[str, Any]:
        """The values that continue ``trial_id`` from its weights."""
        past = self.trials[trial_id].hyperparameters.values
        values = {name: v for name, v in past.items() if not is_bookkeeping(name)}
        values["tuner/trial_id"] = trial_id
        values["tuner/initial_epoch"] = past["tuner/epochs"]
        return values

    def _promotable(self, trial_id: str) -> bool:
        """Whether the strategy lets ``trial_id`` continue (once False, final)."""
        return True

    def _sample(self) -> dict[str, Any]:
        """A fresh configuration: from the sampler part if any, else uniform."""
        sampler = self._sampler
        if sampler is not None:
            ended = [current for current in self.rounds if current.ended]
            sampler.fit(
                self.hyperparameters,
                self.space,
                (len(ended), len(self.space)),
                (self._completed(current) for current in reversed(ended)),
                self._predictor(sampler),
                self.objective.direction,
                by_rung=self._promotion.is_async,
            )
            return sampler.draw(
                self.hyperparameters, self.space, self._rng, self._is_new
            )
        for _ in range(_MAX_COLLISIONS):
            values = sample_values(self.hyperparameters, self.space, self._rng)
            if self._is_new(values):
                break
        return values

    def _is_new(self, values: Mapping[str, Any]) -> bool:
        # Keras Tuner keeps the hashes of tried configurations (our
        # `_compute_values_hash`), so a draw costs the same at any trial count.
        return self.values_hash(values) not in tried_hashes(self)

    def _predictor(self, sampler: ModelSampler) -> Callable[[Any], float]:
        """A trial's final score as ``sampler`` predicts it."""
        return lambda trial: sampler.predicted(
            trial, self.trials, self.objective, self.max_epochs
        )

    def _round_is_running(self, current: Round) -> bool:
        busy = self._busy_trials()
        return any(trial_id in busy for trial_id in current.trial_ids)

    def _completed(self, current: Round) -> list[trial_module.Trial]:
        trials = (self.trials[trial_id] for trial_id in current.trial_ids)
        return [
            trial
            for trial in trials
            if trial.status == COMPLETED
            and trial.score is not None
            and math.isfinite(trial.score)
        ]

    def _ranked(self, trial_ids: list[str]) -> list[trial_module.Trial]:
        """Completed trials with a finite score, best first: best predicted
        first with a sampler part, else best score first."""
        ranked, sampler = self._by_score(trial_ids), self._sampler
        if sampler is None:
            return ranked
        direction = self.objective.direction
        return sampler.rank(ranked, self._predictor(sampler), direction)

    def _by_score(self, trial_ids: list[str]) -> list[trial_module.Trial]:
        """Completed trials with a finite score, best score first."""
        completed = self._completed(Round(0, [], 0, trial_ids=trial_ids))
        return sorted(
            completed,
            key=lambda trial: trial.score,
            reverse=self.objective.direction == "max",
        )

    def _entry_names(self) -> list[str]:
        return [
            hp.name for hp in self.hyperparameters.space if not is_bookkeeping(hp.name)
        ]

    def _divergence_metrics(self) -> list[str]:
        """The metrics whose NaN or inf means divergence: objective and loss."""
        return [*objective_metrics(self.objective), "loss"]

    def _sync_space(self) -> None:
        """Adds entries the hypermodel declared since the last trial."""
        for hp in self.hyperparameters.space:
            if hp.name not in self.space and not is_bookkeeping(hp.name):
                self.space[hp.name] = entry_space(hp)
