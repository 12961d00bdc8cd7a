"""Cutting a trial's fixed cost without changing what the trial computes.

Two costs that Keras Tuner and Keras add to every trial, measured by
``benchmarks/trial_cost.py``:

- Keras (TensorFlow backend, no distribution strategy) creates the optimizer's
  slots and the compiled metrics' variables while it traces the first train
  and test steps, where each variable is lifted out of the graph, about ten
  times the cost of creating it eagerly. :func:`build_training_state` creates
  them before ``fit``, as Keras itself does under a distribution strategy.
- Keras Tuner's ``SaveBestEpoch`` writes a ``.weights.h5`` file at every epoch
  that improves the objective. :class:`BestEpochWeights` keeps the best
  epoch's values in memory and writes the same file once, when the trial ends.
"""

from __future__ import annotations

import contextlib
from typing import Any

import keras
import numpy as np
from keras_tuner.src.engine import tuner_utils


def build_training_state(model: keras.Model, x: Any = None, y: Any = None) -> bool:
    """Creates the variables Keras would create while tracing the first steps.

    Builds the compiled loss and metrics (from the shapes of ``x`` and ``y``;
    skipped when they are not given) and the optimizer's slots, eagerly. Their
    values are what Keras would give them (zeros), and no random numbers are
    drawn, so training is unchanged.
    Does nothing unless the backend is TensorFlow, the model is built and
    compiled, and no distribution strategy is set (Keras then builds this state
    itself).

    Args:
        model: A compiled model, after any weights it starts from are loaded
            (an optimizer built before ``load_weights`` would load the saved
            optimizer state too).
        x: The training inputs exactly as ``fit`` will see them (arrays or a
            ``tf.data`` dataset of ``(x, y)`` batches); used for their shapes
            only.
        y: The training targets, or ``None`` when ``x`` is a dataset.

    Returns:
        Whether the optimizer was built here.

    Example:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> model.compile("adam", "mse")
        >>> build_training_state(model, np.zeros((4, 2)), np.zeros(4))
        True
    """
    if (
        keras.backend.backend() != "tensorflow"
        or not getattr(model, "compiled", False)
        or not model.built
        or getattr(model, "_distribute_strategy", None) is not None
        or model.optimizer is None
        or model.optimizer.built
    ):
        return False
    batch = _symbolic_batch(x, y)
    symbolic_build = getattr(model, "_symbolic_build", None)
    if batch is not None and symbolic_build is not None:
        # On data the model does not fit, fit() raises the error users know.
        with contextlib.suppress(Exception):
            symbolic_build(data_batch=batch)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return True


def _symbolic_batch(x: Any, y: Any) -> tuple[Any, Any] | None:
    """``(x, y)`` as ``KerasTensor`` batches of unknown size, or ``None``."""
    if x is None:
        return None
    element_spec = getattr(x, "element_spec", None)
    if element_spec is not None:  # a tf.data dataset of batches
        if not isinstance(element_spec, tuple) or len(element_spec) != 2:
            return None
        x, y = element_spec
        batched = True
    else:
        batched = False
    if x is None or y is None:
        return None

    def to_symbolic(value: Any) -> Any:
        shape = getattr(value, "shape", None)
        if shape is None or getattr(value, "dtype", None) is None:
            raise TypeError
        shape = tuple(shape)
        if not shape:
            raise TypeError
        dtype = keras.backend.standardize_dtype(value.dtype)
        return keras.KerasTensor(
            tuple(shape) if batched else (None, *shape[1:]), dtype=dtype
        )

    try:
        return keras.tree.map_structure(to_symbolic, (x, y))
    except (TypeError, ValueError):
        return None


class BestEpochWeights(tuner_utils.SaveBestEpoch):
    """Keras Tuner's ``SaveBestEpoch``, writing its checkpoint once.

    At each epoch that improves the objective it copies the model's and the
    optimizer's variables; :meth:`write` puts the best copy back in the model it
    came from and saves it where ``SaveBestEpoch`` would have, so the file is
    the one Keras Tuner writes. Call :meth:`write` before the trial is reported
    to the oracle: a completed trial then always has its checkpoint.

    Example:
        >>> import keras_tuner as kt
        >>> checkpoint = BestEpochWeights(
        ...     kt.Objective("val_loss", "min"), "/tmp/checkpoint.weights.h5")
        >>> model.fit(x, y, callbacks=[checkpoint])  # doctest: +SKIP
        >>> checkpoint.write()  # doctest: +SKIP
    """

    def __init__(self, objective: Any, filepath: str) -> None:
        super().__init__(objective=objective, filepath=filepath)
        self._best_model: keras.Model | None = None
        self._best_values: list[np.ndarray] = []

    def _save_model(self) -> None:
        self._best_model = self.model
        self._best_values = [
            np.array(variable.numpy(), copy=True)
            for variable in _state_variables(self.model)
        ]

    def write(self) -> None:
        """Writes the best epoch's checkpoint, if an epoch ended."""
        model = self._best_model
        if model is None:
            return
        for variable, value in zip(
            _state_variables(model), self._best_values, strict=True
        ):
            variable.assign(value)
        self.set_model(model)
        super()._save_model()
        self._best_model = None
        self._best_values = []


def _state_variables(model: keras.Model) -> list[Any]:
    """The variables ``save_weights`` writes: the model's and its optimizer's."""
    variables = list(model.weights)
    optimizer = getattr(model, "optimizer", None)
    if optimizer is not None and optimizer.built:
        variables.extend(optimizer.variables)
    return variables
