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
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from typing import Any, ClassVar

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.checks import check_int, check_number
from kt_ext._internal.names import (
    WALL_TIME_METRIC,
    diverged_message,
    is_bookkeeping,
    is_diverged,
)
from kt_ext._internal.seam_oracle import retry_queue, tried_hashes
from kt_ext.oracles._budget import EpochBudget, planned_epochs
from kt_ext.oracles._persistence import (
    COMPLETED,
    FAILED,
    IDLE,
    RUNNING,
    STOPPED,
)
from kt_ext.oracles._plan import Round, hyperband_epoch_budget, rung_epochs
from kt_ext.oracles._resume import (
    objective_metrics,
)
from kt_ext.oracles._round_state import RoundState, budget_error, diverged_epoch
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


class RoundOracle(EpochBudget, RoundState, WorkerRelease):
    """Base oracle: rounds with growing epochs inside a current search space.

    Subclasses override :meth:`_end_round` (learn from a finished round, e.g.
    narrow ``self.space``) and may override :meth:`_plan_round` (how many
    trials to continue and to sample in a round). Both are called under the
    oracle's lock.

    Args:
        objective: As in Keras Tuner.
        max_epochs: Epochs of the longest trial.
        min_epochs: Epochs of the first round's trials.
        factor: Epochs grow by this factor from one round to the next.
        epoch_budget: Epochs to train in all, every model counted (a trial
            of ``e`` epochs costs ``e`` times ``executions_per_trial`` times
            the folds of ``cv``). Default when neither this nor
            ``max_trials`` is given: what one Hyperband iteration with the
            same ``max_epochs`` and ``factor`` trains (times the folds).
        max_trials: Trials to run at most.
        hyperparameters: As in Keras Tuner.
        allow_new_entries: As in Keras Tuner.
        tune_new_entries: As in Keras Tuner.
        seed: Random seed; ``0`` is a seed like any other.
        max_retries_per_trial: As in Keras Tuner.
        max_consecutive_failed_trials: As in Keras Tuner.
        worker_timeout: In Keras Tuner's distributed mode, seconds after which
            a worker that has not been heard from counts as dead: its trial goes
            to the next worker that asks (without using up a retry), and the
            chief no longer waits for it. Only for workers that send heartbeats
            while they train, as kt_ext's tuners do (every ``worker_timeout /
            4`` seconds, at most every 10 s; their default is 120 s): a stock
            ``keras_tuner.Tuner`` is silent for whole trials. ``None`` (the
            oracle's default) waits forever, as Keras Tuner does.

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
    ) -> None:
        check_int("max_epochs", max_epochs, 1)
        check_int("min_epochs", min_epochs, 1)
        if min_epochs > max_epochs:
            raise ValueError(
                f"`min_epochs` must be <= `max_epochs` ({max_epochs}), "
                f"got {min_epochs!r}."
            )
        if isinstance(factor, bool) or not isinstance(factor, int | float):
            raise TypeError(f"`factor` must be a number, got {factor!r}.")
        if not factor > 1:
            raise ValueError(f"`factor` must be > 1, got {factor!r}.")
        if epoch_budget is not None:
            check_int("epoch_budget", epoch_budget, 1)
            if epoch_budget < min_epochs:
                # Executions (and folds) only multiply a trial's cost.
                raise budget_error(epoch_budget, min_epochs, 1)
        if max_trials is not None:
            check_int("max_trials", max_trials, 1)
        if seed is not None:
            check_int("seed", seed, 0)
            seed = int(seed)  # numpy ints do not serialize to JSON
        if worker_timeout is not None:
            check_number(
                "worker_timeout", worker_timeout, low=0, high=math.inf, open_low=True
            )
        super().__init__(
            objective=objective,
            max_trials=None if max_trials is None else int(max_trials),
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
        self.max_epochs = int(max_epochs)
        self.min_epochs = int(min_epochs)
        self.factor = factor
        # The default budget grows with the folds of a cross-validated search.
        self._default_budget = epoch_budget is None and max_trials is None
        if self._default_budget:
            epoch_budget = hyperband_epoch_budget(self.max_epochs, factor)
        self.epoch_budget = None if epoch_budget is None else int(epoch_budget)
        # Set by the tuner: each trial trains this many models per fold.
        self.executions_per_trial = 1
        # Set by the tuner's search(cv=...): folds, and the rows of each.
        self.cv_folds = 1
        self.fold_assignment: dict[str, Any] | None = None
        self.space: Space = {}
        self.rounds: list[Round] = []
        # Epochs each trial trained (planned ones while it runs), per model.
        self.epochs_trained: dict[str, int] = {}
        self._rng = np.random.default_rng(self.seed)
        self.worker_timeout = worker_timeout
        # The rounds before the last, and their JSON (see `_rounds_json`).
        self._settled_rounds: tuple[list[Round], list[dict[str, Any]]] = ([], [])
        # Settings left to their default, not compared on a rerun.
        self._unset_settings: set[str] = {"seed"} if seed is None else set()
        # Names of the entries declared when the search started (not those
        # created mid-search); None until then.
        self._declared_entries: list[str] | None = None
        # Whether a tuner declared its hypermodel's entries (update_space)
        # before a reload: only then are entries it no longer declares known.
        self._space_declared = False
        # When each running trial was handed out (this process's clock).
        self._trial_clock: dict[str, float] = {}

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
    }

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
        rungs = rung_epochs(self.min_epochs, self.max_epochs, self.factor)
        epochs = rungs[min(index, len(rungs) - 1)]
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
        while True:
            if not self.rounds:
                first = self._plan_round(0)
                if first is None:
                    return {"status": STOPPED}
                self.rounds.append(first)
            current = self.rounds[-1]
            values = self._next_values(current)
            if values is not None:
                current.trial_ids.append(trial_id)
                self.epochs_trained[trial_id] = planned_epochs(values)
                return {"status": RUNNING, "values": values}
            if self._round_is_running(current):
                # Only in distributed mode: other workers still train this round.
                return {"status": IDLE}
            if not current.ended:
                self._end_round(len(self.rounds) - 1, self._completed(current))
                current.ended = True
            upcoming = None if current.full else self._plan_round(len(self.rounds))
            if upcoming is None or not self._affordable(self._cheapest(upcoming)):
                # Keras Tuner saves only when a trial starts: keep what the last
                # round taught.
                self.save()
                return {"status": IDLE if self.ongoing_trials else STOPPED}
            self.rounds.append(upcoming)

    @keras_tuner.synchronized
    def create_trial(self, tuner_id: str) -> trial_module.Trial:
        """Creates a trial as Keras Tuner does, charging retries to the budget.

        Keras Tuner hands out a trial waiting for a retry before asking
        :meth:`populate_space`; its epochs count again, and a retry that the
        budget cannot pay for ends the trial as failed instead, and the next
        one waiting is considered.
        """
        self._heard[tuner_id] = time.monotonic()
        self.release_silent_workers()
        queue = retry_queue(self)
        while tuner_id not in self.ongoing_trials and queue:
            trial = self.trials[queue[-1]]
            planned = planned_epochs(trial.hyperparameters.values)
            if trial.trial_id in self._interrupted:
                # Cut short by a crash, not failed: already charged once.
                self._interrupted.discard(trial.trial_id)
                break
            if self._affordable(planned * self.models_per_trial):
                self.epochs_trained[trial.trial_id] += planned
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
        time is recorded in its ``kt_ext/wall_time`` metric.
        """
        if self._accepts_end(trial.trial_id):
            stored = self.trials[trial.trial_id]
            epoch = diverged_epoch(stored, self._divergence_metrics())
            if epoch is not None:
                trial.status = FAILED
                trial.message = diverged_message(epoch)
            self._record_wall_time(stored)
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
            past = self.trials[current.carry[created]]
            values = {
                name: value
                for name, value in past.hyperparameters.values.items()
                if not is_bookkeeping(name)
            }
            values["tuner/trial_id"] = past.trial_id
            values["tuner/initial_epoch"] = past.hyperparameters.values["tuner/epochs"]
        else:
            values = self._sample()
            values["tuner/initial_epoch"] = 0
        values["tuner/epochs"] = current.epochs
        values["tuner/round"] = len(self.rounds) - 1
        if not self._affordable(self._cost(values)):
            current.full = True
            return None
        return values

    def _sample(self) -> dict[str, Any]:
        # Keras Tuner keeps the hashes of tried configurations (our
        # `_compute_values_hash`), so a draw costs the same at any trial count.
        for _ in range(_MAX_COLLISIONS):
            values = sample_values(self.hyperparameters, self.space, self._rng)
            if self.values_hash(values) not in tried_hashes(self):
                break
        return values

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
        """Completed trials with a finite score, best first (subclasses may
        rank on a prediction instead)."""
        return self._by_score(trial_ids)

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

    def _record_wall_time(self, trial: trial_module.Trial) -> None:
        """Records the seconds since ``trial`` was handed out (plus earlier runs)."""
        started = self._trial_clock.pop(trial.trial_id, None)
        if started is None:
            return
        metrics = trial.metrics
        earlier, step = 0.0, 0
        if metrics.exists(WALL_TIME_METRIC):
            earlier = metrics.get_last_value(WALL_TIME_METRIC) or 0.0
            step = len(metrics.get_history(WALL_TIME_METRIC))
        else:
            metrics.register(WALL_TIME_METRIC, direction="min")
        seconds = time.monotonic() - started
        metrics.update(WALL_TIME_METRIC, float(earlier) + seconds, step=step)

    def _sync_space(self) -> None:
        """Adds entries the hypermodel declared since the last trial."""
        for hp in self.hyperparameters.space:
            if hp.name not in self.space and not is_bookkeeping(hp.name):
                self.space[hp.name] = entry_space(hp)
