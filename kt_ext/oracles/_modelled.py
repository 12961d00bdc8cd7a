"""Rank by predicted final score; draw from a good/bad model (RoundOracle mixin).

:class:`ModelSampling` ranks a round's trials (which to continue, which
narrow the space, which count as good) by their learning curve's predicted
value at ``max_epochs`` (:func:`~kt_ext.oracles._curve_fit.predict_final`)
rather than by the best value reached so far, and

replaces a round oracle's uniform draw inside the
current space by :func:`~kt_ext.oracles._sampling.propose`: the model is fitted
once per ended round, on the completed trials of the most recent rounds (at
most ``model_window`` of them, so its cost does not grow with the search),
each scored by its rank percentile within its own round. It holds nothing that
is not derived from the trials and rounds in the oracle's state, so a reloaded
search rebuilds the same model.
"""

from __future__ import annotations

from typing import Any

from kt_ext._internal.names import is_bookkeeping
from kt_ext._internal.seam_oracle import tried_hashes
from kt_ext.oracles import _sampling
from kt_ext.oracles._curve_fit import predict_final

# Draws of an already-tried configuration before a duplicate is accepted.
_MAX_COLLISIONS = 20


class ModelSampling:
    """Mixin for :class:`~kt_ext.oracles.RoundOracle`: model-based fresh draws.

    Attributes:
        model_window: Most recent completed trials the model is fitted on.
        model_gamma: Share of them counted as good.
    """

    model_window = 64
    model_gamma = 1 / 3

    def _observations(self) -> list[tuple[dict[str, Any], float]]:
        """``(values, percentile in its round)`` of recent completed trials."""
        observations: list[tuple[dict[str, Any], float]] = []
        for current in reversed(self.rounds):  # type: ignore[attr-defined]
            if not current.ended:
                continue
            completed = self._completed(current)  # type: ignore[attr-defined]
            if len(completed) < 2:
                continue
            percentiles = _sampling.round_percentiles(
                [self._predicted(trial) for trial in completed],
                self.objective.direction,  # type: ignore[attr-defined]
            )
            for trial, percentile in zip(completed, percentiles, strict=True):
                values = {
                    name: value
                    for name, value in trial.hyperparameters.values.items()
                    if not is_bookkeeping(name)
                    and trial.hyperparameters.is_active(name)
                }
                observations.append((values, percentile))
            if len(observations) >= self.model_window:
                break
        return observations[: self.model_window]

    def _curve(self, trial: Any) -> list[float]:
        """The objective after each epoch, with the epochs of trials continued."""
        name = self.objective.name  # type: ignore[attr-defined]
        try:
            history = trial.metrics.get_history(name)
        except (KeyError, ValueError):
            return []
        steps = {int(obs.step): float(obs.mean()) for obs in history}
        values = trial.hyperparameters.values
        start = int(values.get("tuner/initial_epoch", 0))
        parent = values.get("tuner/trial_id")
        before = []
        if start and parent in self.trials:  # type: ignore[attr-defined]
            before = self._curve(self.trials[parent])[:start]  # type: ignore[attr-defined]
            if len(before) < start:
                return []
        own = [steps.get(step) for step in range(start, max(steps, default=-1) + 1)]
        if any(value is None for value in own):
            return []  # not every epoch was reported
        return before + own  # type: ignore[operator]

    def _predicted(self, trial: Any) -> float:
        """``trial.score`` extrapolated to ``max_epochs`` along its curve."""
        cache = self.__dict__.setdefault("_predicted_cache", {})
        key = (trial.trial_id, trial.score)
        if key not in cache:
            curve = self._curve(trial)
            cache[key] = (
                predict_final(
                    curve,
                    self.max_epochs,  # type: ignore[attr-defined]
                    self.objective.direction,  # type: ignore[attr-defined]
                )
                if len(curve) >= 3
                else trial.score
            )
        return cache[key]

    def _ranked(self, trial_ids: list[str]) -> list[Any]:
        """Completed trials with a finite score, best predicted first."""
        ranked = super()._ranked(trial_ids)  # type: ignore[misc]
        sign = 1.0 if self.objective.direction == "max" else -1.0  # type: ignore[attr-defined]
        return sorted(ranked, key=lambda trial: -sign * self._predicted(trial))

    def _model(self) -> list[_sampling.EntryModel] | None:
        rounds = self.rounds  # type: ignore[attr-defined]
        key = (sum(1 for r in rounds if r.ended), len(self.space))  # type: ignore[attr-defined]
        cached = getattr(self, "_model_cache", None)
        if cached is None or cached[0] != key:
            model = _sampling.fit_model(
                self.hyperparameters,  # type: ignore[attr-defined]
                self.space,  # type: ignore[attr-defined]
                self._observations(),
                gamma=self.model_gamma,
            )
            cached = self._model_cache = (key, model)
        return cached[1]

    def _sample(self) -> dict[str, Any]:
        model = self._model()
        for _ in range(_MAX_COLLISIONS):
            values = _sampling.propose(
                self.hyperparameters,  # type: ignore[attr-defined]
                self.space,  # type: ignore[attr-defined]
                model,
                self._rng,  # type: ignore[attr-defined]
            )
            if self.values_hash(values) not in tried_hashes(self):  # type: ignore[attr-defined]
                break
        return values

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)  # type: ignore[misc]
        self._model_cache = None
