"""Loading a trial's checkpoint into the model that continues it."""

from __future__ import annotations

import keras

__all__ = ["load_checkpoint"]


def load_checkpoint(model: keras.Model, path: str) -> None:
    """Loads the checkpoint at ``path`` into ``model``, optimizer state included.

    ``model`` is freshly built and compiled with its own (tuned) learning rate.
    Its optimizer is built first, so that the checkpoint's optimizer
    variables are loaded too (slots and ``iterations``; Keras skips them, with
    a warning, into an optimizer not yet built); then the learning rate is set
    back to the model's own: the checkpoint holds the rate its trial's
    schedule had reached, and a schedule callback takes the rate it finds
    when training starts as the one to schedule from.

    Example:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile(keras.optimizers.Adam(0.01), "mse")
        >>> load_checkpoint(model, "trial_0001/checkpoint.weights.h5")
        ... # doctest: +SKIP
    """
    optimizer = getattr(model, "optimizer", None)
    if optimizer is None or not model.built:
        model.load_weights(path)
        return
    rate = optimizer.learning_rate
    own_rate = float(rate.numpy()) if isinstance(rate, keras.Variable) else None
    if not optimizer.built:
        optimizer.build(model.trainable_variables)
    model.load_weights(path)
    if own_rate is not None:
        optimizer.learning_rate = own_rate
