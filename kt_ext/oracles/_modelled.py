"""Rank by predicted final score; draw from a good/bad model (a part).

:class:`ModelSampler` is a part that the strategy oracles hold and call, under
their lock. It ranks a round's trials (which to continue, which narrow the
space, which count as good) by their learning curve's predicted value at
``max_epochs`` (:func:`~kt_ext.oracles._curve_fit.predict_final`) rather than
by the best value reached so far, and replaces a round oracle's uniform draw
inside the current space by :func:`~kt_ext.oracles._sampling.propose`: the
model is fitted once per ended round, on the completed trials of the most
recent rounds (at most ``window`` of them, so its cost does not grow with the
search), each scored by its rank percentile within its own round. It draws
with the oracle's one random generator, which the oracle hands it. It holds
nothing that is not derived from the trials and rounds in the oracle's state,
so a reloaded search rebuilds the same model.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

import keras_tuner
import numpy as np
from keras_tuner.engine import trial as trial_module

from kt_ext._internal.names import is_bookkeeping
from kt_ext.oracles import _sampling
from kt_ext.oracles._curve_fit import predict_final
from kt_ext.oracles._space import Space

__all__ = ["ModelSampler", "learning_curve"]

# Draws of an already-tried configuration before a duplicate is accepted.
_MAX_COLLISIONS = 20

# The model of good and bad trials, with the (rounds ended, entries) it fits.
_ModelCache = tuple[tuple[int, int], "list[_sampling.EntryModel] | None"]


#: The fewest trials of a rung the model is fitted on alone (``by_rung``):
#: what :func:`~kt_ext.oracles._sampling.fit_model` needs for a model.
RUNG_OBSERVATIONS = 6


def _most_trained(
    groups: list[list[trial_module.Trial]],
) -> list[list[trial_module.Trial]]:
    """The groups (one rung each) of the most trained rung with at least
    :data:`RUNG_OBSERVATIONS` trials among them; all if none has.

    Example:
        >>> from types import SimpleNamespace as T
        >>> def group(epochs, n):
        ...     return [T(hyperparameters=T(values={"tuner/epochs": epochs}))] * n
        >>> [len(g) for g in _most_trained([group(1, 9), group(3, 4), group(3, 2)])]
        [4, 2]
        >>> [len(g) for g in _most_trained([group(1, 9), group(9, 5)])]
        [9]
    """
    counts: dict[int, int] = {}
    for group in groups:
        epochs = group[0].hyperparameters.values["tuner/epochs"]
        counts[epochs] = counts.get(epochs, 0) + len(group)
    enough = [epochs for epochs, n in counts.items() if n >= RUNG_OBSERVATIONS]
    if not enough:
        return groups
    top = max(enough)
    return [g for g in groups if g[0].hyperparameters.values["tuner/epochs"] == top]


def learning_curve(
    trial: trial_module.Trial, trials: Mapping[str, trial_module.Trial], name: str
) -> list[float]:
    """The metric ``name`` after each epoch, with the epochs of trials continued.

    A continued trial's curve starts with its parent's (``tuner/trial_id``)
    up to its ``tuner/initial_epoch``; empty if an epoch was not reported.

    Example:
        >>> import keras_tuner
        >>> trial = trial_module.Trial(keras_tuner.HyperParameters(), "0")
        >>> for step, value in enumerate([0.5, 0.7]):
        ...     _ = trial.metrics.update("acc", value, step=step)
        >>> learning_curve(trial, {"0": trial}, "acc")
        [0.5, 0.7]
    """
    try:
        history = trial.metrics.get_history(name)
    except (KeyError, ValueError):
        return []
    steps = {int(obs.step): float(obs.mean()) for obs in history}
    values = trial.hyperparameters.values
    start = int(values.get("tuner/initial_epoch", 0))
    parent = values.get("tuner/trial_id")
    before: list[float] = []
    if start and parent in trials:
        before = learning_curve(trials[parent], trials, name)[:start]
        if len(before) < start:
            return []
    own = [steps.get(step) for step in range(start, max(steps, default=-1) + 1)]
    if any(value is None for value in own):
        return []  # not every epoch was reported
    return before + [float(value) for value in own if value is not None]


class ModelSampler:
    """Predicted final scores, and fresh draws from a model of good trials.

    It owns its two settings, the model fitted on the last ended round and the
    predictions made so far; the oracle hands it its trials, rounds, space
    and random generator at each call.

    Args:
        window: Most recent completed trials the model is fitted on.
        gamma: Share of them counted as good.

    Example:
        >>> import keras_tuner, numpy as np
        >>> hps = keras_tuner.HyperParameters()
        >>> _ = hps.Float("lr", 1e-4, 1e-1, sampling="log")
        >>> sampler = ModelSampler()
        >>> space = {"lr": {"min": 1e-4, "max": 1e-1, "sampling": "log"}}
        >>> sampler.fit(hps, space, (0, 1), [], lambda t: 0.0, "max")
        >>> values = sampler.draw(hps, space, np.random.default_rng(0),
        ...                       lambda values: True)
        >>> 1e-4 <= values["lr"] <= 1e-1
        True
    """

    def __init__(self, window: int = 64, gamma: float = 1 / 3) -> None:
        self.window = window
        self.gamma = gamma
        # The model, with the (rounds ended, entries) it was fitted for.
        self._model: _ModelCache | None = None
        # (trial id, score) -> the predicted final score.
        self._predictions: dict[tuple[str, float | None], float] = {}

    def predicted(
        self,
        trial: trial_module.Trial,
        trials: Mapping[str, trial_module.Trial],
        objective: Any,
        max_epochs: int,
    ) -> float:
        """``trial.score`` extrapolated to ``max_epochs`` along its curve."""
        key = (trial.trial_id, trial.score)
        if key not in self._predictions:
            curve = learning_curve(trial, trials, objective.name)
            self._predictions[key] = (
                predict_final(curve, max_epochs, objective.direction)
                if len(curve) >= 3
                else trial.score
            )
        return self._predictions[key]

    def rank(
        self,
        ranked: list[trial_module.Trial],
        predict: Callable[[trial_module.Trial], float],
        direction: str,
    ) -> list[trial_module.Trial]:
        """``ranked`` (completed trials), best predicted first."""
        sign = 1.0 if direction == "max" else -1.0
        return sorted(ranked, key=lambda trial: -sign * predict(trial))

    def fit(
        self,
        hyperparameters: keras_tuner.HyperParameters,
        space: Space,
        key: tuple[int, int],
        history: Iterable[list[trial_module.Trial]],
        predict: Callable[[trial_module.Trial], float],
        direction: str,
        *,
        by_rung: bool = False,
    ) -> None:
        """Fits the model, unless it was fitted for ``key`` already.

        Args:
            hyperparameters: The search's entries.
            space: The current space.
            key: Rounds ended and entries in ``space``: the model changes
                only with them.
            history: The completed trials of each ended round, most recent
                first (read only as far as ``window`` needs, and only when
                the model is fitted).
            predict: A trial's predicted final score.
            direction: ``"min"`` or ``"max"``.
            by_rung: Rounds mix rungs (``promotion="async"``): a score is
                only comparable within its rung, and the most trained rung
                the best evidence. Each round's trials are then ranked within
                their rung, and the model is fitted on the ``window`` most
                recent of the most trained rung with at least
                :data:`RUNG_OBSERVATIONS` trials in all rounds (as BOHB
                does; all rounds are read), else on all. Without it, on one
                worker's ``mlp`` searches (10 seeds), the rung-1 trials
                ranked last and the few promoted early first, and the model
                drew around those: regret 1.9x Hyperband's.
        """
        if self._model is not None and self._model[0] == key:
            return
        groups: list[list[trial_module.Trial]] = []
        seen = 0
        rounds = (
            (group for trials in history for group in _sampling.same_epochs(trials))
            if by_rung
            else history
        )
        for completed in rounds:
            if len(completed) < 2:
                continue
            groups.append(completed)
            seen += len(completed)
            if seen >= self.window and not by_rung:
                break
        if by_rung:
            groups = _most_trained(groups)
        observations: list[tuple[dict[str, Any], float]] = []
        for completed in groups:
            percentiles = _sampling.round_percentiles(
                [predict(trial) for trial in completed], direction
            )
            for trial, percentile in zip(completed, percentiles, strict=True):
                values = {
                    name: value
                    for name, value in trial.hyperparameters.values.items()
                    if not is_bookkeeping(name)
                    and trial.hyperparameters.is_active(name)
                }
                observations.append((values, percentile))
        model = _sampling.fit_model(
            hyperparameters, space, observations[: self.window], gamma=self.gamma
        )
        self._model = (key, model)

    def draw(
        self,
        hyperparameters: keras_tuner.HyperParameters,
        space: Space,
        rng: np.random.Generator,
        is_new: Callable[[dict[str, Any]], bool],
    ) -> dict[str, Any]:
        """A configuration from the model (uniform without one), new if it can.

        Draws again, up to 20 times, while ``is_new`` says it was tried.
        """
        model = None if self._model is None else self._model[1]
        for _ in range(_MAX_COLLISIONS):
            values = _sampling.propose(hyperparameters, space, model, rng)
            if is_new(values):
                break
        return values

    def reset(self) -> None:
        """Forgets the model (the state was reloaded); predictions stay."""
        self._model = None
