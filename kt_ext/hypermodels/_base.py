"""The shared base of kt_ext's hypermodel templates.

Structure (input shape, task, output size) is fixed in ``__init__``; every
tunable is declared in ``build(hp)`` (or, for ``batch_size``, in ``fit``) from
the template's :class:`~kt_ext.hypermodels._entries.Entry` table, after the
user's ``overrides`` have been validated once, at construction.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import keras_tuner
import numpy as np

from kt_ext._internal.checks import check_one_of, is_int, require
from kt_ext._internal.names import TASKS
from kt_ext.callbacks import SCHEDULE_NAMES, schedule_callback
from kt_ext.hypermodels._entries import (
    Declaration,
    Entry,
    at_least,
    fraction,
    one_of,
    positive,
    resolve_overrides,
)
from kt_ext.hypermodels._pipeline import fit_arguments

INITIALIZERS = (
    "glorot_uniform",
    "glorot_normal",
    "he_uniform",
    "he_normal",
    "lecun_normal",
)
OPTIMIZERS = ("adam", "adamw", "nadam", "rmsprop", "sgd")
REGULARIZERS = ("none", "l1", "l2", "l1_l2")
# Optimizers whose Keras class takes a `momentum` argument.
MOMENTUM_OPTIMIZERS = ("sgd", "rmsprop")


def _known_activation(value: Any) -> str | None:
    if not isinstance(value, str):
        return "must be the name of a Keras activation"
    try:
        keras.activations.get(value)
    except ValueError:
        return "must be the name of a Keras activation"
    return None


def _batch_size(value: Any) -> str | None:
    return None if is_int(value) and value >= 1 else "must be an int >= 1"


# The entries every template shares, in the order they are declared.
SHARED_ENTRIES: tuple[Entry, ...] = (
    Entry("num_layers", "int", 2, 1, 3, check=at_least(0)),
    Entry("units", "int", 64, 16, 256, sampling="log", check=at_least(1)),
    Entry(
        "activation",
        "choice",
        "relu",
        values=("relu", "elu", "gelu", "swish", "tanh"),
        check=_known_activation,
    ),
    Entry(
        "kernel_initializer",
        "choice",
        "glorot_uniform",
        values=INITIALIZERS,
        check=one_of(INITIALIZERS),
    ),
    Entry(
        "regularizer",
        "choice",
        "none",
        values=REGULARIZERS,
        optional=True,
        check=one_of(REGULARIZERS),
    ),
    Entry("reg_strength", "float", 1e-4, 1e-6, 1e-2, sampling="log", check=positive),
    Entry("dropout", "float", 0.0, 0.0, 0.5, optional=True, check=fraction),
    Entry("batch_norm", "bool", False, optional=True),
    Entry("optimizer", "choice", "adam", values=OPTIMIZERS, check=one_of(OPTIMIZERS)),
    Entry("momentum", "float", 0.9, 0.0, 0.99, optional=True, check=fraction),
    Entry("learning_rate", "float", 1e-3, 1e-4, 1e-1, sampling="log", check=positive),
    Entry(
        "lr_schedule",
        "choice",
        "constant",
        values=SCHEDULE_NAMES,
        optional=True,
        check=one_of(SCHEDULE_NAMES),
    ),
    Entry(
        "batch_size",
        "int",
        32,
        values=(16, 32, 64, 128),
        optional=True,
        check=_batch_size,
    ),
)


class TemplateHyperModel(keras_tuner.HyperModel):
    """Base of the templates: a dense head, compilation and a tunable ``fit``.

    Subclasses implement :meth:`_body`, which maps the input tensor to the
    features the dense head starts from, and may extend :meth:`_entries`.

    Example:
        >>> import keras_tuner as kt
        >>> from kt_ext.hypermodels import MLPHyperModel
        >>> hypermodel = MLPHyperModel(input_shape=(4,), task="binary")
        >>> isinstance(hypermodel, TemplateHyperModel)
        True
        >>> hypermodel.build(kt.HyperParameters()).output_shape
        (None, 1)
    """

    def __init__(
        self,
        *,
        input_shape: tuple[int, ...],
        task: str,
        num_outputs: int,
        overrides: Mapping[str, Any] | None = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        super().__init__(name=name, tunable=tunable)
        check_one_of("task", task, TASKS)
        require(
            "num_outputs",
            num_outputs,
            isinstance(num_outputs, int | np.integer) and num_outputs >= 1,
            "an int >= 1",
        )
        if task == "multiclass" and num_outputs < 2:
            raise ValueError(
                "`num_classes` must be >= 2 for a multiclass task, "
                f"got {num_outputs!r}."
            )
        self.input_shape = _checked_shape(input_shape)
        self.task = task
        self.num_outputs = int(num_outputs)
        self.declarations: dict[str, Declaration] = resolve_overrides(
            {entry.name: entry for entry in self._entries()}, overrides
        )
        self.overrides = dict(overrides or {})

    def _entries(self) -> tuple[Entry, ...]:
        """The template's tunable entries, in declaration order."""
        return SHARED_ENTRIES

    # -- building ---------------------------------------------------------

    def build(self, hp: keras_tuner.HyperParameters) -> keras.Model:
        """Builds and compiles one model for the values in ``hp``."""
        inputs = keras.Input(shape=self.input_shape)
        features = self._body(hp, inputs)
        outputs = self._head(hp, features)
        model = keras.Model(inputs, outputs, name=self.name)
        model.compile(
            optimizer=self._optimizer(hp),
            loss=self._loss(),
            metrics=self._metrics(),
        )
        # Declared with the model's entries so that the oracle sees it from the
        # first trial; `fit` applies it.
        self._declare(hp, "lr_schedule")
        return model

    def _body(self, hp: keras_tuner.HyperParameters, inputs: Any) -> Any:
        raise NotImplementedError

    def _declare(self, hp: keras_tuner.HyperParameters, name: str) -> Any:
        return self.declarations[name].declare(hp)

    def _head(self, hp: keras_tuner.HyperParameters, x: Any) -> Any:
        if len(x.shape) > 2:
            x = keras.layers.Flatten()(x)
        num_layers = self._declare(hp, "num_layers")
        units = self._declare(hp, "units")
        activation = self._declare(hp, "activation")
        initializer = self._declare(hp, "kernel_initializer")
        regularizer = self._regularizer(hp)
        dropout = self._declare(hp, "dropout")
        batch_norm = self._declare(hp, "batch_norm")
        for _ in range(num_layers):
            x = keras.layers.Dense(
                units,
                kernel_initializer=initializer,
                kernel_regularizer=regularizer,
                use_bias=not batch_norm,
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation(activation)(x)
            if dropout:
                x = keras.layers.Dropout(dropout)(x)
        output_activation = {
            "binary": "sigmoid",
            "multiclass": "softmax",
            "regression": None,
        }[self.task]
        return keras.layers.Dense(self.num_outputs, activation=output_activation)(x)

    def _regularizer(
        self, hp: keras_tuner.HyperParameters
    ) -> keras.regularizers.Regularizer | None:
        kind = self._declare(hp, "regularizer")
        active = self._active_values("regularizer", exclude=("none",))
        if kind is None or not active:
            return None
        with hp.conditional_scope("regularizer", active):
            strength = self._declare(hp, "reg_strength")
        if kind == "none":
            return None
        return {
            "l1": lambda: keras.regularizers.L1(strength),
            "l2": lambda: keras.regularizers.L2(strength),
            "l1_l2": lambda: keras.regularizers.L1L2(strength, strength),
        }[kind]()

    def _active_values(
        self,
        parent: str,
        *,
        exclude: tuple[Any, ...] = (),
        keep: tuple[Any, ...] | None = None,
    ) -> list[Any]:
        """The values of a categorical ``parent`` under which a child is active."""
        values = self.declarations[parent].possible_values() or ()
        return [
            value
            for value in values
            if value not in exclude and (keep is None or value in keep)
        ]

    def _optimizer(self, hp: keras_tuner.HyperParameters) -> keras.optimizers.Optimizer:
        name = self._declare(hp, "optimizer")
        learning_rate = self._declare(hp, "learning_rate")
        momentum = 0.0
        active = self._active_values("optimizer", keep=MOMENTUM_OPTIMIZERS)
        if active and not self.declarations["momentum"].is_off:
            with hp.conditional_scope("optimizer", active):
                momentum = self._declare(hp, "momentum")
        if name == "sgd":
            return keras.optimizers.SGD(learning_rate, momentum=momentum or 0.0)
        if name == "rmsprop":
            return keras.optimizers.RMSprop(learning_rate, momentum=momentum or 0.0)
        return {
            "adam": keras.optimizers.Adam,
            "adamw": keras.optimizers.AdamW,
            "nadam": keras.optimizers.Nadam,
        }[name](learning_rate)

    def _loss(self) -> str:
        return {
            "binary": "binary_crossentropy",
            "multiclass": "sparse_categorical_crossentropy",
            "regression": "mean_squared_error",
        }[self.task]

    def _metrics(self) -> list[str]:
        return ["mae"] if self.task == "regression" else ["accuracy"]

    # -- training ---------------------------------------------------------

    def fit(
        self, hp: keras_tuner.HyperParameters, model: keras.Model, *args, **kwargs
    ) -> Any:
        """Trains ``model``, tuning ``batch_size`` and applying ``lr_schedule``.

        A ``batch_size`` given to ``search()`` wins: the entry is then not
        tuned. The schedule callback scales the tuned learning rate; it spans
        ``schedule_epochs`` epochs when given (kt_ext's tuners pass the
        search's ``max_epochs``, so a continued trial and a retrain follow the
        learning-rate path of the trial that was scored), else ``epochs``.
        NumPy data is fed as a ``tf.data`` pipeline, which fits small models
        faster.
        """
        schedule_epochs = kwargs.pop("schedule_epochs", None) or kwargs.get("epochs")
        if "batch_size" not in kwargs:
            batch_size = self._declare(hp, "batch_size")
            if batch_size is not None:
                kwargs["batch_size"] = batch_size
        schedule = hp.values.get("lr_schedule")
        callback = schedule and schedule_callback(schedule, epochs=schedule_epochs)
        if callback is not None:
            kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), callback]
        args, kwargs = fit_arguments(args, kwargs)
        return model.fit(*args, **kwargs)


def _checked_shape(input_shape: Any) -> tuple[int, ...]:
    if isinstance(input_shape, int | np.integer):
        input_shape = (int(input_shape),)
    try:
        shape = tuple(int(size) for size in input_shape)
    except (TypeError, ValueError):
        shape = ()
    require(
        "input_shape",
        input_shape,
        bool(shape) and all(size >= 1 for size in shape),
        "a tuple of positive ints (one sample's shape)",
    )
    return shape
