"""Feeding in-memory arrays to ``fit`` as a ``tf.data`` pipeline.

Keras 3 re-slices NumPy arrays on every epoch and traces its train and test
steps twice per model (a full batch, then the smaller last one). A search fits
many small models for few epochs, so both costs add up; a pipeline with an
unknown batch dimension is traced once and iterates cheaply. Measured by
``benchmarks/trial_cost.py``.
"""

from __future__ import annotations

from typing import Any

import keras
import numpy as np

# fit() arguments that the pipeline does not reproduce: keep Keras' own path.
_UNSUPPORTED = ("sample_weight", "class_weight", "validation_split", "steps_per_epoch")
_DEFAULT_BATCH_SIZE = 32


def fit_arguments(args: tuple[Any, ...], kwargs: dict[str, Any]) -> tuple:
    """``fit``'s arguments with NumPy ``x``/``y`` (and validation) as pipelines.

    Returns the arguments unchanged unless the backend is TensorFlow, ``x`` and
    ``y`` are NumPy arrays and no argument the pipeline cannot honour is given.
    The training pipeline reshuffles every epoch unless ``shuffle=False``, as
    Keras does.

    Example:
        >>> args, kwargs = fit_arguments(
        ...     (np.zeros((8, 2)), np.zeros(8)), {"batch_size": 4, "epochs": 1})
        >>> "batch_size" in kwargs
        False
    """
    kwargs = dict(kwargs)
    x = args[0] if args else kwargs.get("x")
    y = args[1] if len(args) > 1 else kwargs.get("y")
    if (
        keras.backend.backend() != "tensorflow"
        or not isinstance(x, np.ndarray)
        or not isinstance(y, np.ndarray)
        or len(args) > 2
        or any(kwargs.get(name) is not None for name in _UNSUPPORTED)
    ):
        return args, kwargs
    import tensorflow as tf

    batch_size = kwargs.pop("batch_size", None) or _DEFAULT_BATCH_SIZE
    shuffle = kwargs.pop("shuffle", True)
    kwargs.pop("x", None)
    kwargs.pop("y", None)
    train = tf.data.Dataset.from_tensor_slices((x, y))
    if shuffle:
        train = train.shuffle(len(x), reshuffle_each_iteration=True)
    validation = kwargs.get("validation_data")
    if (
        isinstance(validation, tuple)
        and len(validation) == 2
        and all(isinstance(part, np.ndarray) for part in validation)
    ):
        size = kwargs.pop("validation_batch_size", None) or batch_size
        kwargs["validation_data"] = (
            tf.data.Dataset.from_tensor_slices(validation)
            .batch(size)
            .prefetch(tf.data.AUTOTUNE)
        )
    # The pipeline shuffles; Keras would only warn that it cannot.
    kwargs["shuffle"] = False
    return (train.batch(batch_size).prefetch(tf.data.AUTOTUNE),), kwargs
