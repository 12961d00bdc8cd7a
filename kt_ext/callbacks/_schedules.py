"""Learning-rate schedules that scale the tuned learning rate.

A schedule is a pure function ``(epoch, base_lr) -> lr``: ``epoch`` is the
0-based, absolute epoch index and ``base_lr`` is the optimizer's learning rate
when training starts (the tuned value). The callbacks wrap a schedule, set the
optimizer's rate at the start of every epoch and write it to the epoch logs as
``learning_rate``, as Keras's ``LearningRateScheduler`` does.
"""

from __future__ import annotations

import math
from typing import Any

import keras

from kt_ext._internal.checks import is_finite_number, is_int, require

SCHEDULE_NAMES = ("constant", "hold_exp", "step", "warmup_cosine")


def _check_epoch_and_rate(epoch: Any, base_lr: Any) -> None:
    require("epoch", epoch, is_int(epoch) and epoch >= 0, "a non-negative int")
    require(
        "base_lr",
        base_lr,
        is_finite_number(base_lr) and base_lr > 0,
        "a positive number",
    )


def hold_then_exponential_decay(
    epoch: int, base_lr: float, *, hold_epochs: int = 5, decay: float = 0.1
) -> float:
    """Keeps the rate for a while, then multiplies it by ``exp(-decay)`` each epoch.

    The rate is ``base_lr`` for ``epoch < hold_epochs`` and
    ``base_lr * exp(-decay * (epoch - hold_epochs + 1))`` from then on, so the
    first decayed epoch (``epoch == hold_epochs``) already trains at
    ``base_lr * exp(-decay)``.

    Args:
        epoch: 0-based epoch index.
        base_lr: The learning rate when training starts (the tuned value).
        hold_epochs: Number of epochs trained at ``base_lr``.
        decay: Exponential decay rate per epoch after the hold; 0 keeps the rate.

    Returns:
        The learning rate for ``epoch``.

    Raises:
        ValueError: If an argument is out of range.

    Example:
        >>> round(hold_then_exponential_decay(6, 0.01, hold_epochs=5, decay=0.1), 6)
        0.008187
    """
    _check_epoch_and_rate(epoch, base_lr)
    require(
        "hold_epochs",
        hold_epochs,
        is_int(hold_epochs) and hold_epochs >= 0,
        "a non-negative int",
    )
    require(
        "decay", decay, is_finite_number(decay) and decay >= 0, "a non-negative number"
    )
    if epoch < hold_epochs:
        return float(base_lr)
    return base_lr * math.exp(-decay * (epoch - hold_epochs + 1))


def step_decay(
    epoch: int, base_lr: float, *, drop_every: int = 10, factor: float = 0.5
) -> float:
    """Multiplies the rate by ``factor`` every ``drop_every`` epochs.

    The rate is ``base_lr * factor ** (epoch // drop_every)``.

    Args:
        epoch: 0-based epoch index.
        base_lr: The learning rate when training starts (the tuned value).
        drop_every: Number of epochs between two drops.
        factor: Multiplier applied at each drop, in (0, 1].

    Returns:
        The learning rate for ``epoch``.

    Raises:
        ValueError: If an argument is out of range.

    Example:
        >>> step_decay(25, 0.01, drop_every=10, factor=0.5)
        0.0025
    """
    _check_epoch_and_rate(epoch, base_lr)
    require(
        "drop_every",
        drop_every,
        is_int(drop_every) and drop_every > 0,
        "a positive int",
    )
    require(
        "factor",
        factor,
        is_finite_number(factor) and 0 < factor <= 1,
        "a number in (0, 1]",
    )
    return base_lr * factor ** (epoch // drop_every)


def warmup_cosine_decay(
    epoch: int,
    base_lr: float,
    *,
    warmup_epochs: int = 2,
    total_epochs: int,
    min_fraction: float = 0.0,
) -> float:
    """Warms the rate up linearly, then decays it along a cosine.

    During the warmup (``epoch < warmup_epochs``) the rate is
    ``base_lr * (epoch + 1) / (warmup_epochs + 1)``, climbing towards
    ``base_lr``, which epoch ``warmup_epochs`` reaches. A half cosine then takes it
    down to ``min_fraction * base_lr`` at epoch ``total_epochs``; later epochs stay
    at that minimum. With ``warmup_epochs=0`` the decay starts at once.

    Args:
        epoch: 0-based epoch index.
        base_lr: The learning rate when training starts (the tuned value).
        warmup_epochs: Number of warmup epochs, below ``total_epochs``.
        total_epochs: Epoch at which the rate reaches its minimum.
        min_fraction: The minimum as a fraction of ``base_lr``, in [0, 1].

    Returns:
        The learning rate for ``epoch``.

    Raises:
        ValueError: If an argument is out of range.

    Example:
        >>> [round(warmup_cosine_decay(e, 0.3, warmup_epochs=2, total_epochs=4), 3)
        ...  for e in range(5)]
        [0.1, 0.2, 0.3, 0.15, 0.0]
    """
    _check_epoch_and_rate(epoch, base_lr)
    require(
        "warmup_epochs",
        warmup_epochs,
        is_int(warmup_epochs) and warmup_epochs >= 0,
        "a non-negative int",
    )
    require(
        "total_epochs",
        total_epochs,
        is_int(total_epochs) and total_epochs > warmup_epochs,
        f"an int greater than `warmup_epochs` ({warmup_epochs})",
    )
    require(
        "min_fraction",
        min_fraction,
        is_finite_number(min_fraction) and 0 <= min_fraction <= 1,
        "a number in [0, 1]",
    )
    if epoch < warmup_epochs:
        return base_lr * (epoch + 1) / (warmup_epochs + 1)
    progress = min(1.0, (epoch - warmup_epochs) / (total_epochs - warmup_epochs))
    cosine = 0.5 * (1.0 + math.cos(math.pi * progress))
    return base_lr * (min_fraction + (1.0 - min_fraction) * cosine)


def _current_lr(optimizer: keras.optimizers.Optimizer) -> float:
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


class _ScheduleCallback(keras.callbacks.Callback):
    """Sets the optimizer's rate to ``self.schedule(epoch, base_lr)`` each epoch.

    Subclasses store their arguments as attributes, name them in
    ``_config_names`` and implement ``schedule``.
    """

    _config_names: tuple[str, ...] = ()

    def __init__(self, verbose: int = 0) -> None:
        super().__init__()
        self.verbose = verbose
        self.base_lr: float | None = None
        self._last_lr: float | None = None

    def schedule(self, epoch: int, base_lr: float) -> float:
        """Returns the learning rate for ``epoch``, given the tuned ``base_lr``."""
        raise NotImplementedError

    def get_config(self) -> dict[str, Any]:
        """Returns the constructor arguments."""
        names = (*self._config_names, "verbose")
        return {name: getattr(self, name) for name in names}

    def __deepcopy__(self, memo: dict[int, Any]) -> _ScheduleCallback:
        # Keras Tuner deep-copies callbacks for every trial; copying the attached
        # model as well would be slow or fail, so only the configuration is copied.
        return type(self)(**self.get_config())

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        current = _current_lr(self.model.optimizer)
        # A further fit of the same model (say with `initial_epoch`) finds the rate
        # this callback set last; keeping the earlier base continues the curve.
        if current != self._last_lr:
            self.base_lr = current

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.model.optimizer.learning_rate = self.schedule(epoch, self.base_lr)
        self._last_lr = _current_lr(self.model.optimizer)
        if self.verbose:
            print(f"\nEpoch {epoch + 1}: learning rate set to {self._last_lr:.6g}.")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if logs is not None:
            logs["learning_rate"] = _current_lr(self.model.optimizer)


class HoldThenExponentialDecay(_ScheduleCallback):
    """Keeps the tuned rate for ``hold_epochs`` epochs, then decays it exponentially.

    See :func:`hold_then_exponential_decay`; ``base_lr`` is the optimizer's rate
    when training starts.

    Args:
        hold_epochs: Number of epochs trained at the tuned rate.
        decay: Exponential decay rate per epoch after the hold.
        verbose: 1 prints the rate set at each epoch.

    Example:
        >>> callback = HoldThenExponentialDecay(hold_epochs=3, decay=0.2)
        >>> model.fit(x, y, epochs=10, callbacks=[callback])  # doctest: +SKIP
    """

    _config_names = ("hold_epochs", "decay")

    def __init__(
        self, hold_epochs: int = 5, decay: float = 0.1, verbose: int = 0
    ) -> None:
        # Checks the arguments now, before any training.
        hold_then_exponential_decay(0, 1.0, hold_epochs=hold_epochs, decay=decay)
        super().__init__(verbose)
        self.hold_epochs = hold_epochs
        self.decay = decay

    def schedule(self, epoch: int, base_lr: float) -> float:
        return hold_then_exponential_decay(
            epoch, base_lr, hold_epochs=self.hold_epochs, decay=self.decay
        )


class StepDecay(_ScheduleCallback):
    """Multiplies the tuned rate by ``factor`` every ``drop_every`` epochs.

    See :func:`step_decay`; ``base_lr`` is the optimizer's rate when training
    starts.

    Args:
        drop_every: Number of epochs between two drops.
        factor: Multiplier applied at each drop, in (0, 1].
        verbose: 1 prints the rate set at each epoch.

    Example:
        >>> callback = StepDecay(drop_every=5, factor=0.5)
        >>> model.fit(x, y, epochs=20, callbacks=[callback])  # doctest: +SKIP
    """

    _config_names = ("drop_every", "factor")

    def __init__(
        self, drop_every: int = 10, factor: float = 0.5, verbose: int = 0
    ) -> None:
        # Checks the arguments now, before any training.
        step_decay(0, 1.0, drop_every=drop_every, factor=factor)
        super().__init__(verbose)
        self.drop_every = drop_every
        self.factor = factor

    def schedule(self, epoch: int, base_lr: float) -> float:
        return step_decay(
            epoch, base_lr, drop_every=self.drop_every, factor=self.factor
        )


class WarmupCosineDecay(_ScheduleCallback):
    """Warms the tuned rate up linearly, then decays it along a cosine.

    See :func:`warmup_cosine_decay`; ``base_lr`` is the optimizer's rate when
    training starts.

    Args:
        warmup_epochs: Number of warmup epochs.
        total_epochs: Epoch at which the rate reaches its minimum. ``None`` takes
            the ``epochs`` of each fit; a fit too short for the warmup then gets
            a shorter one (``epochs - 1`` epochs), so that varying trial lengths
            in a search all work.
        min_fraction: The minimum as a fraction of the tuned rate, in [0, 1].
        verbose: 1 prints the rate set at each epoch.

    Example:
        >>> callback = WarmupCosineDecay(warmup_epochs=2, min_fraction=0.01)
        >>> model.fit(x, y, epochs=30, callbacks=[callback])  # doctest: +SKIP
    """

    _config_names = ("warmup_epochs", "total_epochs", "min_fraction")

    def __init__(
        self,
        warmup_epochs: int = 2,
        total_epochs: int | None = None,
        min_fraction: float = 0.0,
        verbose: int = 0,
    ) -> None:
        # Checks the arguments now, before any training.
        warmup_cosine_decay(
            0,
            1.0,
            warmup_epochs=warmup_epochs,
            total_epochs=warmup_epochs + 1 if total_epochs is None else total_epochs,
            min_fraction=min_fraction,
        )
        super().__init__(verbose)
        self.warmup_epochs = warmup_epochs
        self.total_epochs = total_epochs
        self.min_fraction = min_fraction

    def schedule(self, epoch: int, base_lr: float) -> float:
        total = (
            self.params["epochs"] if self.total_epochs is None else self.total_epochs
        )
        return warmup_cosine_decay(
            epoch,
            base_lr,
            warmup_epochs=min(self.warmup_epochs, total - 1),
            total_epochs=total,
            min_fraction=self.min_fraction,
        )


def schedule_callback(
    name: str, *, epochs: int | None = None
) -> keras.callbacks.Callback | None:
    """Builds the schedule callback named by a ``lr_schedule`` hyperparameter value.

    With ``epochs`` (the trial's training length) the defaults scale to it:
    ``"hold_exp"`` holds a third of the epochs, then decays to a tenth of the
    tuned rate by the last epoch; ``"step"`` halves the rate every third of the
    epochs; ``"warmup_cosine"`` warms up for a tenth of the epochs and reaches
    its minimum (0) after the last one. Without ``epochs`` the classes' own
    defaults are used (``"warmup_cosine"`` then follows each fit's ``epochs``).

    Args:
        name: One of :data:`SCHEDULE_NAMES`.
        epochs: Number of epochs the model will train, if known.

    Returns:
        A new callback, or ``None`` for ``"constant"``.

    Raises:
        ValueError: If ``name`` is unknown or ``epochs`` is not a positive int.

    Example:
        >>> schedule_callback("step", epochs=30).drop_every
        10
        >>> schedule_callback("constant") is None
        True
    """
    require("name", name, name in SCHEDULE_NAMES, f"one of {SCHEDULE_NAMES}")
    if name == "constant":
        return None
    if epochs is None:
        defaults = {
            "hold_exp": HoldThenExponentialDecay,
            "step": StepDecay,
            "warmup_cosine": WarmupCosineDecay,
        }
        return defaults[name]()
    require("epochs", epochs, is_int(epochs) and epochs > 0, "a positive int")
    third = max(1, epochs // 3)
    if name == "hold_exp":
        return HoldThenExponentialDecay(
            hold_epochs=third, decay=math.log(10) / max(1, epochs - third)
        )
    if name == "step":
        return StepDecay(drop_every=third, factor=0.5)
    return WarmupCosineDecay(warmup_epochs=epochs // 10, total_epochs=epochs)
