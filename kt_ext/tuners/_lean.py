"""Cutting a trial's fixed cost without changing what the trial computes.

Three costs that Keras Tuner and Keras add to every trial, measured by
``benchmarks/trial_cost.py``:

- Keras (TensorFlow backend, no distribution strategy) creates the optimizer's
  slots and the compiled metrics' variables while it traces the first train
  and test steps, where each variable is lifted out of the graph, about ten
  times the cost of creating it eagerly. :func:`build_training_state` creates
  them before ``fit``, as Keras itself does under a distribution strategy.
- Keras Tuner's ``SaveBestEpoch`` writes a ``.weights.h5`` file at every epoch
  that improves the objective. ``BestEpochWeights`` (in the seam,
  :mod:`kt_ext._internal.seam_training`) keeps the best epoch's values in memory and
  writes the same file once, when the trial ends.
- Keras traces the train and test steps of every new model. A model of the
  same graph as an earlier one trains that earlier model instead, with the new
  one's state copied in (:class:`TracedModels`).

:class:`LeanTrials` is the tuner's one entry point to all of this.
"""

from __future__ import annotations

import collections
import contextlib
import json
from typing import Any

import keras

from kt_ext._internal.seam_training import (
    distribution_strategy,
    excludes_from_weight_decay,
    is_plain_model,
    is_preprocessing_layer,
    sublayers,
    symbolic_build,
)

# Models up to this many parameters are small: TracedModels keeps them, and
# the tuners leave their garbage to Python's own full collections (a large
# model's memory, on a GPU say, is freed before the next model is built).
SMALL_MODEL_PARAMETERS = 1_000_000


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
        model: A compiled model, after any checkpoint it starts from is
            loaded (its optimizer then is built already).
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
        or distribution_strategy(model) is not None
        or model.optimizer is None
    ):
        return False
    loaded = model.optimizer.built  # a checkpoint's state was loaded into it
    batch = _symbolic_batch(x, y)
    if batch is not None:
        # On data the model does not fit, fit() raises the error users know.
        with contextlib.suppress(Exception):
            symbolic_build(model, batch)
    if not model.optimizer.built:
        model.optimizer.build(model.trainable_variables)
    return not loaded


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


class LeanTrials:
    """What a tuner keeps between lean trials, and how one trains a model.

    Args:
        capacity: How many traced models to keep for reuse.

    Attributes:
        models: The :class:`TracedModels` kept for reuse.
        last_model_small: Whether the last model trained was small
            (:func:`is_small`): its garbage can wait for Python's own full
            collections.

    Example:
        >>> lean = LeanTrials()
        >>> history = lean.fit(hypermodel.fit, hp, model, (x, y), {}, plain_fit=True)
        ... # doctest: +SKIP
    """

    #: Models kept for reuse by default (times the folds of ``cv``).
    CAPACITY = 16

    def __init__(self, capacity: int = CAPACITY) -> None:
        self.models = TracedModels(capacity)
        self.last_model_small = False

    def fit(
        self,
        fit: Any,
        hp: Any,
        model: keras.Model,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        *,
        plain_fit: bool,
        slot: int | None = None,
    ) -> Any:
        """Trains ``model`` as ``fit(hp, model, *args, **kwargs)`` would.

        A kept model of the same graph trains in its stead (its steps are
        traced already), or else the optimizer and metric variables are
        created before ``fit`` traces its steps. A hypermodel's own ``fit``
        (``plain_fit=False``) may compile again or reshape the data: then no
        model is reused and only the optimizer is built early.

        ``slot`` keeps models apart that train side by side (the folds of
        a cross-validated trial): a kept model is reused in its own slot only.

        Returns:
            What ``fit`` returns.
        """
        self.last_model_small = is_small(model)
        x = args[0] if args else kwargs.get("x")
        y = args[1] if len(args) > 1 else kwargs.get("y")
        signature = graph_signature(model) if plain_fit else None
        model = self.models.adopt(model, signature, slot)
        if plain_fit:
            build_training_state(model, x, y)
        else:
            build_training_state(model)
        results = fit(hp, model, *args, **kwargs)
        self.models.keep(model, signature, slot)
        return results


class TracedModels:
    """Trained models, with their traced steps, by the graph they train.

    :meth:`adopt` hands back a kept model whose graph equals the new model's,
    with every value of the new model copied in (weights, dropout seeds, the
    optimizer's state, fresh or loaded, and the learning rate): training it
    computes exactly what training the new model would, without tracing its
    steps again. Only small models (``SMALL_MODEL_PARAMETERS``) whose graph
    :func:`graph_signature` can vouch for are kept.

    Args:
        capacity: How many models to keep; the least recently used goes first.

    Attributes:
        adopted: How many times :meth:`adopt` handed back a kept model.

    Example:
        >>> models = TracedModels()
        >>> signature = graph_signature(new_model)  # doctest: +SKIP
        >>> model = models.adopt(new_model, signature)  # doctest: +SKIP
        >>> model.fit(x, y)  # doctest: +SKIP
        >>> models.keep(model, signature)  # doctest: +SKIP
    """

    def __init__(self, capacity: int = 16) -> None:
        self.capacity = capacity
        self.adopted = 0
        self._models: collections.OrderedDict[str, keras.Model] = (
            collections.OrderedDict()
        )

    def adopt(
        self, model: keras.Model, signature: str | None, slot: int | None = None
    ) -> keras.Model:
        """A kept model of the same graph carrying ``model``'s state, or ``model``.

        ``model`` must be freshly built (and have any weights it starts from
        loaded), ``signature`` its :func:`graph_signature`; the kept model is
        taken out until :meth:`keep` returns it. Only a model kept in the same
        ``slot`` is handed back.
        """
        twin = self._models.pop(_key(signature, slot), None) if signature else None
        if twin is None or not _copy_state(model, twin):
            return model
        self.adopted += 1
        return twin

    def keep(
        self, model: keras.Model, signature: str | None, slot: int | None = None
    ) -> None:
        """Keeps a model that has trained, and so traced its steps.

        ``signature`` is the model's :func:`graph_signature` from before
        training, which its traced steps follow: a model that training changed
        (a callback that unfreezes a layer, say) is not kept.
        """
        if (
            signature is None
            or self.capacity < 1
            or not is_small(model)
            or graph_signature(model) != signature
        ):
            return
        key = _key(signature, slot)
        self._models.pop(key, None)
        self._models[key] = model
        while len(self._models) > self.capacity:
            self._models.popitem(last=False)

    def clear(self) -> None:
        """Drops every kept model."""
        self._models.clear()


def _key(signature: str | None, slot: int | None) -> str | None:
    return signature if slot is None or signature is None else f"{slot}:{signature}"


def graph_signature(model: keras.Model) -> str | None:
    """A text equal for two models exactly when Keras traces the same steps.

    It is the model's and its compile configuration (the learning rate left
    out when it is a variable) and the Keras settings that tracing reads.
    ``None`` for models whose configuration may not tell the whole graph:
    subclassed models, layers or objects not from Keras (a custom layer's
    ``call`` or a custom function is code, not configuration), ``Lambda``
    layers and lambdas, preprocessing layers (what ``adapt`` learns is in
    neither the configuration nor the variables), optimizers told to exclude
    variables from weight decay, other backends than TensorFlow, and
    distribution strategies.

    Names are part of the configuration: the tuners clear the Keras session
    before each build, so the same build gives the same names.

    Example:
        >>> def build(learning_rate):
        ...     keras.backend.clear_session()
        ...     model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        ...     model.compile(keras.optimizers.Adam(learning_rate), "mse")
        ...     return model
        >>> graph_signature(build(0.1)) == graph_signature(build(0.2))
        True
    """
    if (
        keras.backend.backend() != "tensorflow"
        or not is_plain_model(model)
        or not getattr(model, "compiled", False)
        or not model.built
        or distribution_strategy(model) is not None
        or model.optimizer is None
    ):
        return None
    for layer in sublayers(model):
        if (
            not _from_keras(type(layer))
            or isinstance(layer, keras.layers.Lambda)
            or is_preprocessing_layer(layer)
        ):
            return None
    optimizer = model.optimizer
    if not _from_keras(type(optimizer)) or excludes_from_weight_decay(optimizer):
        return None
    try:
        configuration = [
            model.get_config(),
            model.get_compile_config(),
            [keras.config.floatx(), keras.config.epsilon()],
            keras.config.image_data_format(),
        ]
        if isinstance(optimizer.learning_rate, keras.Variable):
            configuration[1]["optimizer"]["config"].pop("learning_rate", None)
        if not _only_keras_objects(configuration):
            return None
        return json.dumps(configuration, sort_keys=True)
    except Exception:  # a configuration Keras cannot give or JSON cannot hold
        return None


def is_small(model: keras.Model) -> bool:
    """Whether ``model`` is built and has at most ``SMALL_MODEL_PARAMETERS``.

    Frozen parameters count: they take memory all the same.

    Example:
        >>> is_small(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]))
        True
    """
    return model.built and model.count_params() <= SMALL_MODEL_PARAMETERS


def _from_keras(cls: type) -> bool:
    return cls.__module__.split(".")[0] == "keras"


def _only_keras_objects(config: Any) -> bool:
    """Whether every serialized object in ``config`` comes from Keras.

    Keras serializes a lambda as its code, without the globals it reads.
    """
    if isinstance(config, dict):
        if config.get("class_name") == "__lambda__":
            return False
        module = config.get("module")
        serialized = isinstance(module, str) and "class_name" in config
        if serialized and (
            module.split(".")[0] != "keras" or config.get("registered_name")
        ):
            return False
        return all(_only_keras_objects(value) for value in config.values())
    if isinstance(config, list | tuple):
        return all(_only_keras_objects(value) for value in config)
    return True


def _copy_state(source: keras.Model, target: keras.Model) -> bool:
    """Copies ``source``'s state into ``target``; False if they do not match.

    The state is the model's variables (weights and seed generators) and the
    optimizer's (as a loaded checkpoint left them, or built fresh for
    ``source``, as ``fit`` would build them).
    Metric variables are not copied: ``fit`` resets them at every epoch.
    """
    if not _same_shapes(source.variables, target.variables):
        return False  # before the optimizer is built, which would then stay so
    if not source.optimizer.built:
        source.optimizer.build(source.trainable_variables)
    if not _same_shapes(source.optimizer.variables, target.optimizer.variables):
        return False
    for value, variable in zip(
        [*source.variables, *source.optimizer.variables],
        [*target.variables, *target.optimizer.variables],
        strict=True,
    ):
        variable.assign(value.value)
    return True


def _same_shapes(sources: list[Any], targets: list[Any]) -> bool:
    return len(sources) == len(targets) and all(
        tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype
        for a, b in zip(sources, targets, strict=True)
    )
