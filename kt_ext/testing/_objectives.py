"""Synthetic multi-fidelity objectives with known optima.

Each objective maps a configuration and an epoch count to the score a model
would reach after that many epochs: a saturating learning curve from a start
score to a configuration's final score, with Gaussian noise that depends only
on (seed, configuration, epoch). No model is trained.
"""

from __future__ import annotations

import math
import numbers
import os
import signal
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, ClassVar

import keras_tuner

from kt_ext.testing._curves import (
    final_score,
    learning_curve,
    learning_rate_tau,
    log_bowl,
    stable_normal,
)


class SyntheticObjective:
    """Base class of the synthetic objectives.

    A subclass declares its search space in `_declare` and maps the active
    values to a penalty (0 at the optimum) and a curve time constant in
    `_penalty_and_tau`. The score after `epoch` epochs is
    `learning_curve(epoch, start_score, final, tau)` plus
    `noise * stable_normal(seed, active values, epoch)`, where
    `final = final_score(penalty, start_score, best_score)`.

    Attributes:
        name: Registry name.
        metric: Name of the metric reported to the oracle.
        direction: "max" or "min".
        start_score: Noise-free score before training.
        best_score: Noise-free asymptotic score of the optimum.
        optimum: Values of the optimum (entries in `inert` are left out).
        inert: Entries that do not change the noise-free score.

    Args:
        seed: Seed of the noise.
        noise: Standard deviation of the additive Gaussian noise.
        diverge_above: If given, a configuration whose `learning_rate` is above
            it diverges: every epoch scores NaN. Off by default.

    Example:
        >>> objective = MLPObjective(seed=1, noise=0.0)
        >>> objective.final_score(objective.optimum) == objective.best_score
        True
    """

    name: ClassVar[str]
    metric: ClassVar[str]
    direction: ClassVar[str]
    start_score: ClassVar[float]
    best_score: ClassVar[float]
    optimum: ClassVar[Mapping[str, Any]]
    inert: ClassVar[tuple[str, ...]] = ()
    seed: int
    noise: float
    diverge_above: float | None
    _space: keras_tuner.HyperParameters

    def __init__(
        self,
        *,
        seed: int = 0,
        noise: float = 0.01,
        diverge_above: float | None = None,
    ) -> None:
        if isinstance(seed, bool) or not isinstance(seed, numbers.Integral):
            raise TypeError(f"`seed` must be an int, got {seed!r}.")
        if not isinstance(noise, numbers.Real) or not 0 <= noise < math.inf:
            raise ValueError(f"`noise` must be a finite number >= 0, got {noise!r}.")
        if diverge_above is not None and not (
            isinstance(diverge_above, numbers.Real) and diverge_above > 0
        ):
            raise ValueError(
                f"`diverge_above` must be None or a number > 0, got {diverge_above!r}."
            )
        self.seed = int(seed)
        self.noise = float(noise)
        self.diverge_above = diverge_above
        self._space = self.hyperparameters()

    def __repr__(self) -> str:
        return (
            f"{type(self).__name__}(seed={self.seed}, noise={self.noise}, "
            f"diverge_above={self.diverge_above})"
        )

    @property
    def objective(self) -> keras_tuner.Objective:
        """The Keras Tuner objective to create oracles with.

        Example:
            >>> LearningRateObjective().objective.direction
            'max'
        """
        return keras_tuner.Objective(self.metric, self.direction)

    def hyperparameters(self) -> keras_tuner.HyperParameters:
        """A fresh search space.

        Returns:
            A new `keras_tuner.HyperParameters` holding every entry.

        Example:
            >>> "learning_rate" in LearningRateObjective().hyperparameters()
            True
        """
        hp = keras_tuner.HyperParameters()
        self._declare(hp)
        return hp

    def active_values(self, values: Mapping[str, Any]) -> dict[str, Any]:
        """The entries that count, in declaration order.

        `tuner/...` bookkeeping and unknown keys are dropped, so are
        conditional entries whose condition does not hold; a missing entry
        takes its default.

        Args:
            values: Hyperparameter values, e.g. `trial.hyperparameters.values`.

        Returns:
            A new dict of the active values.

        Example:
            >>> MLPObjective().active_values({"regularizer": "none"}).keys() >= {
            ...     "reg_strength"
            ... }
            False
        """
        active: dict[str, Any] = {}
        for entry in self._space.space:
            if all(condition.is_active(active) for condition in entry.conditions):
                active[entry.name] = values.get(entry.name, entry.default)
        return active

    def final_score(self, values: Mapping[str, Any]) -> float:
        """Noise-free score of a configuration after infinitely many epochs.

        Args:
            values: Hyperparameter values.

        Returns:
            The asymptotic score; NaN for a diverging configuration.

        Example:
            >>> objective = LearningRateObjective()
            >>> objective.final_score(objective.optimum) == objective.best_score
            True
        """
        active = self.active_values(values)
        if self._diverges(active):
            return math.nan
        penalty, _ = self._penalty_and_tau(active)
        return final_score(penalty, self.start_score, self.best_score)

    def noise_free(self, values: Mapping[str, Any], epoch: int) -> float:
        """Score of a configuration after `epoch` epochs, without the noise.

        What a benchmark scores a recommendation by: the learning curve that
        `evaluate` adds noise to.

        Args:
            values: Hyperparameter values (`tuner/...` keys are ignored).
            epoch: Epochs trained, from 1.

        Returns:
            The noise-free score; NaN for a diverging configuration.

        Raises:
            ValueError: If `epoch` is not a positive int.

        Example:
            >>> noisy = MLPObjective(seed=1, noise=0.05)
            >>> quiet = MLPObjective(seed=2, noise=0.0)
            >>> values = {"learning_rate": 1e-3}
            >>> noisy.noise_free(values, 27) == quiet.evaluate(values, 27)
            True
        """
        return self._noise_free(self.active_values(values), _check_epoch(epoch))

    def evaluate(self, values: Mapping[str, Any], epoch: int) -> float:
        """Score of a configuration after `epoch` epochs.

        The noise depends only on (seed, active values, epoch): a trial that
        continues an earlier one, or a re-run, sees the same curve.

        Args:
            values: Hyperparameter values (`tuner/...` keys are ignored).
            epoch: Epochs trained, from 1.

        Returns:
            The noisy score; NaN for a diverging configuration.

        Raises:
            ValueError: If `epoch` is not a positive int.

        Example:
            >>> objective = LearningRateObjective(noise=0.0)
            >>> a = objective.evaluate({"learning_rate": 1e-3}, 1)
            >>> b = objective.evaluate({"learning_rate": 1e-3}, 5)
            >>> a < b
            True
        """
        epoch = _check_epoch(epoch)
        active = self.active_values(values)
        score = self._noise_free(active, epoch)
        if self.noise and math.isfinite(score):
            score += self.noise * stable_normal(self.seed, active, epoch)
        return score

    def _noise_free(self, active: Mapping[str, Any], epoch: int) -> float:
        if self._diverges(active):
            return math.nan
        penalty, tau = self._penalty_and_tau(active)
        final = final_score(penalty, self.start_score, self.best_score)
        return learning_curve(epoch, self.start_score, final, tau)

    def _diverges(self, active: Mapping[str, Any]) -> bool:
        return (
            self.diverge_above is not None
            and active["learning_rate"] > self.diverge_above
        )

    def _declare(self, hp: keras_tuner.HyperParameters) -> None:
        raise NotImplementedError

    def _penalty_and_tau(self, active: Mapping[str, Any]) -> tuple[float, float]:
        raise NotImplementedError


def _check_epoch(epoch: Any) -> int:
    if isinstance(epoch, bool) or not isinstance(epoch, numbers.Integral) or epoch < 1:
        raise ValueError(f"`epoch` must be an int >= 1, got {epoch!r}.")
    return int(epoch)


class LearningRateObjective(SyntheticObjective):
    """Only the learning rate matters: `units`, `dropout`, `activation` are inert.

    Validation accuracy (max) from 0.1 (chance) up to 0.95 at a learning rate
    of 3e-3; higher rates learn faster but end lower. Made for tests that
    expect uninfluential entries to be frozen.

    Example:
        >>> objective = LearningRateObjective(noise=0.0)
        >>> objective.evaluate({"learning_rate": 3e-3, "units": 16}, 9) == (
        ...     objective.evaluate({"learning_rate": 3e-3, "units": 256}, 9)
        ... )
        True
    """

    name = "lr_only"
    metric = "val_accuracy"
    direction = "max"
    start_score = 0.1
    best_score = 0.95
    optimum: ClassVar[Mapping[str, Any]] = MappingProxyType({"learning_rate": 3e-3})
    inert = ("units", "dropout", "activation")

    def _declare(self, hp: keras_tuner.HyperParameters) -> None:
        hp.Float("learning_rate", 1e-5, 1e-1, sampling="log", default=1e-3)
        hp.Int("units", 16, 256, step=16, default=64)
        hp.Float("dropout", 0.0, 0.5, default=0.2)
        hp.Choice("activation", ["relu", "tanh", "gelu"], default="relu")

    def _penalty_and_tau(self, active: Mapping[str, Any]) -> tuple[float, float]:
        learning_rate = active["learning_rate"]
        best_rate = self.optimum["learning_rate"]
        return (
            log_bowl(learning_rate, best_rate, 2.0, 0.8),
            learning_rate_tau(learning_rate, best_rate, 3.0),
        )


_OPTIMIZER_BEST_RATE = {"adam": 3e-3, "rmsprop": 1e-3, "sgd": 3e-2}
_OPTIMIZER_PENALTY = {"adam": 0.0, "rmsprop": 0.015, "sgd": 0.25}
_OPTIMIZER_SLOWDOWN = {"adam": 1.0, "rmsprop": 1.2, "sgd": 2.5}
# regularizer -> (penalty of the kind, best strength or None)
_REGULARIZER = {"none": (0.015, None), "l1": (0.01, 1e-5), "l2": (0.0, 1e-4)}


class MLPObjective(SyntheticObjective):
    """A mixed space like a real MLP's, with a conditional entry.

    Validation loss (min) from 2.3 down to 0.25 at the optimum: adam,
    learning rate 3e-3, 128 units, 2 layers, dropout 0.1, l2 regularization of
    strength 1e-4. `reg_strength` is active only when `regularizer` is not
    "none"; "sgd" is clearly bad; high dropout is bad; each optimizer has its
    own best learning rate; deeper, more dropout, sgd and lower learning rates
    learn more slowly.

    Example:
        >>> objective = MLPObjective(noise=0.0)
        >>> objective.final_score({**objective.optimum, "optimizer": "sgd"}) > 0.6
        True
    """

    name = "mlp"
    metric = "val_loss"
    direction = "min"
    start_score = 2.3
    best_score = 0.25
    optimum: ClassVar[Mapping[str, Any]] = MappingProxyType(
        {
            "learning_rate": 3e-3,
            "units": 128,
            "num_layers": 2,
            "dropout": 0.1,
            "optimizer": "adam",
            "regularizer": "l2",
            "reg_strength": 1e-4,
        }
    )

    def _declare(self, hp: keras_tuner.HyperParameters) -> None:
        hp.Float("learning_rate", 1e-5, 1e-1, sampling="log", default=1e-3)
        hp.Int("units", 16, 512, sampling="log", default=64)
        hp.Int("num_layers", 1, 4, default=1)
        hp.Float("dropout", 0.0, 0.6, default=0.2)
        hp.Choice("optimizer", ["adam", "rmsprop", "sgd"], default="adam")
        hp.Choice("regularizer", ["none", "l1", "l2"], default="none")
        with hp.conditional_scope("regularizer", ["l1", "l2"]):
            hp.Float("reg_strength", 1e-6, 1e-2, sampling="log", default=1e-5)

    def _penalty_and_tau(self, active: Mapping[str, Any]) -> tuple[float, float]:
        optimizer = active["optimizer"]
        best_rate = _OPTIMIZER_BEST_RATE[optimizer]
        kind_penalty, best_strength = _REGULARIZER[active["regularizer"]]
        penalty = (
            log_bowl(active["learning_rate"], best_rate, 4.0, 1.7)
            + 0.01 * math.log2(active["units"] / 128) ** 2
            + 0.015 * (active["num_layers"] - 2) ** 2
            + 0.3 * (active["dropout"] - 0.1) ** 2
            + _OPTIMIZER_PENALTY[optimizer]
            + kind_penalty
        )
        if best_strength is not None:
            penalty += log_bowl(active["reg_strength"], best_strength, 6.0, 2.0)
        tau = (
            learning_rate_tau(active["learning_rate"], best_rate, 3.0)
            * (1.0 + 0.25 * (active["num_layers"] - 1))
            * (1.0 + active["dropout"])
            * _OPTIMIZER_SLOWDOWN[optimizer]
        )
        return penalty, tau


OBJECTIVES: dict[str, type[SyntheticObjective]] = {
    LearningRateObjective.name: LearningRateObjective,
    MLPObjective.name: MLPObjective,
}


def get_objective(name: str, **kwargs: Any) -> SyntheticObjective:
    """Create a registered objective by name.

    Args:
        name: A key of `OBJECTIVES` ("lr_only", "mlp").
        **kwargs: Passed to the objective (`seed`, `noise`, `diverge_above`).

    Returns:
        A new objective.

    Raises:
        ValueError: If `name` is not registered.

    Example:
        >>> get_objective("mlp", seed=3).metric
        'val_loss'
    """
    if name not in OBJECTIVES:
        raise ValueError(f"`name` must be one of {sorted(OBJECTIVES)}, got {name!r}.")
    return OBJECTIVES[name](**kwargs)


def die_after(objective: SyntheticObjective, evaluations: int) -> SyntheticObjective:
    """Makes the process kill itself (SIGKILL) at ``objective``'s Nth evaluation.

    For crash tests: the search stops mid-trial as after ``kill -9``, with no
    chance to clean up. ``evaluations=0`` never kills. Returns ``objective``,
    whose ``evaluate`` is wrapped in place.

    Example:
        >>> objective = die_after(get_objective("lr_only"), 0)
        >>> 0.0 <= objective.evaluate({"learning_rate": 1e-3}, 1) <= 1.0
        True
    """
    if isinstance(evaluations, bool) or not isinstance(evaluations, int):
        raise TypeError(f"`evaluations` must be an int, got {evaluations!r}.")
    if evaluations < 0:
        raise ValueError(f"`evaluations` must be >= 0, got {evaluations!r}.")
    evaluate, count = objective.evaluate, [0]

    def evaluate_then_maybe_die(values: Mapping[str, Any], epoch: int) -> float:
        count[0] += 1
        if count[0] == evaluations:
            os.kill(os.getpid(), signal.SIGKILL)
        return evaluate(values, epoch)

    objective.evaluate = evaluate_then_maybe_die  # type: ignore[method-assign]
    return objective
