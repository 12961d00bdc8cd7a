"""The seam to the internals a trial trains through: Keras Tuner's tuner,
Keras and TensorFlow. What their upgrades could break in training is here:

- every import of a private module of Keras Tuner's tuner, of Keras
  (``keras.src``) and of TensorFlow (``tensorflow.python``);
- a named function for each read of a private attribute of a Keras model or
  optimizer (:func:`sublayers`, :func:`distribution_strategy`, ...) and for
  TensorFlow's gradient registry;
- every copied or overridden private ``Tuner`` method body, in
  :class:`TunerSeam`, which kt_ext's tuners derive from, and
  :class:`BestEpochWeights`.

The oracle's side is in :mod:`kt_ext._internal.seam_oracle`. :data:`UPSTREAM` lists
what this module copies or relies on; ``tests/test_seam.py`` hashes the Keras
Tuner bodies for each keras-tuner version in the declared range and checks
that the Keras and TensorFlow names still exist and behave as relied on.
"""

from __future__ import annotations

import contextlib
import copy
import gc
import sys
from typing import Any, TypeAlias

import keras
import keras_tuner
import numpy as np
from keras_tuner import errors
from keras_tuner.engine import trial as trial_module
from keras_tuner.src import utils as _utils
from keras_tuner.src.backend import config as _backend_config
from keras_tuner.src.engine import tuner as _tuner_module
from keras_tuner.src.engine import tuner_utils as _tuner_utils

from kt_ext._internal.checkpoints import load_checkpoint

__all__ = [
    "UPSTREAM",
    "BestEpochWeights",
    "SaveBestEpoch",
    "TrialDiverged",
    "TunerSeam",
    "custom_gradient_names",
    "distribution_strategy",
    "excludes_from_weight_decay",
    "forget_custom_gradients",
    "in_order",
    "is_plain_model",
    "is_preprocessing_layer",
    "sublayers",
    "symbolic_build",
]

#: Private functions and names of Keras Tuner, Keras and TensorFlow that
#: kt_ext's training relies on, and what in kt_ext to re-check when one changes.
UPSTREAM: dict[str, str] = {
    "keras_tuner.src.engine.base_tuner.BaseTuner._run_and_update_trial": (
        "TunerSeam._run_and_update_trial (a copy that skips a second report)"
    ),
    "keras_tuner.src.engine.base_tuner.BaseTuner._try_run_and_update_trial": (
        "TunerSeam._try_run_and_update_trial (wrapped with a heartbeat)"
    ),
    "keras_tuner.src.engine.base_tuner.BaseTuner._get_tuner_fname": (
        "TunerSeam.tuner_state_path (the file a reload reads)"
    ),
    "keras_tuner.src.engine.base_tuner.BaseTuner._populate_initial_space": (
        "TunerSeam.declare_space (the declared entries a rerun is checked on)"
    ),
    "keras_tuner.src.engine.base_tuner.BaseTuner.reload": (
        "FidelityTuner.reload (checks the tuner's file, declares the space, "
        "then reloads: the oracle first)"
    ),
    "keras_tuner.src.engine.tuner.Tuner.run_trial": "TunerSeam.run_trial (a copy)",
    "keras_tuner.src.engine.tuner.Tuner._build_and_fit_model": (
        "TunerSeam._build_and_fit_model (a copy)"
    ),
    "keras_tuner.src.engine.tuner.Tuner._try_build": "TunerSeam._try_build (a copy)",
    "keras_tuner.src.engine.tuner.Tuner._build_hypermodel": (
        "TunerSeam._build_hypermodel (extended: loads the parent's checkpoint); "
        "TunerSeam.build_unchecked (the dry step)"
    ),
    "keras_tuner.src.engine.tuner.Tuner._get_checkpoint_fname": (
        "TunerSeam.checkpoint_path, BestEpochWeights (the file Keras Tuner loads)"
    ),
    "keras_tuner.src.engine.tuner_utils.SaveBestEpoch": (
        "BestEpochWeights (a subclass that overrides _save_model)"
    ),
    "keras.src.models.functional.Functional": "is_plain_model (lean trials)",
    "keras.src.layers.preprocessing": "is_preprocessing_layer (model reuse)",
    "keras.Model._distribute_strategy": "distribution_strategy (lean trials)",
    "keras.Model._flatten_layers": "sublayers (graph_signature)",
    "keras.Model._symbolic_build": "symbolic_build (build_training_state)",
    "keras.optimizers.Optimizer._exclude_from_weight_decay": (
        "excludes_from_weight_decay (graph_signature)"
    ),
    "keras.callbacks.CallbackList._async_train": (
        "in_order (cross-validated folds call their callbacks on the trial's thread)"
    ),
    "tensorflow.python.framework.ops._gradient_registry": (
        "custom_gradient_names / forget_custom_gradients (flat memory)"
    ),
}

SaveBestEpoch: TypeAlias = _tuner_utils.SaveBestEpoch


# -- the Tuner's private methods that kt_ext overrides --------------------------


class TunerSeam(keras_tuner.Tuner):
    """``keras_tuner.Tuner`` with the private method bodies kt_ext copies.

    Subclasses fill in public hooks: :meth:`fit_model` (train a built model),
    :meth:`fits_as_given` (whether the hypermodel trains with ``model.fit``
    unchanged), :meth:`before_build` (between trials), :meth:`new_checkpoint`
    (the callback that keeps the best epoch), :meth:`reports_each_epoch` and
    :meth:`trial_guard` (a context around each trial).
    """

    # -- hooks ------------------------------------------------------------

    def fit_model(
        self, hp: keras_tuner.HyperParameters, model: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Trains ``model`` for one execution of a trial (hook)."""
        return self.hypermodel.fit(hp, model, *args, **kwargs)

    def fits_as_given(self) -> bool:
        """Whether the hypermodel trains with ``model.fit``, unchanged (hook)."""
        return type(self.hypermodel).fit is keras_tuner.HyperModel.fit

    def before_build(self) -> None:
        """Frees the previous trial's model before the next is built (hook)."""
        keras.backend.clear_session()
        gc.collect()

    def new_checkpoint(self, trial: trial_module.Trial) -> Any:
        """The callback that saves the trial's best epoch (hook)."""
        return SaveBestEpoch(
            objective=self.oracle.objective,
            filepath=self._get_checkpoint_fname(trial.trial_id),
        )

    def after_executions(self, trial: trial_module.Trial, checkpoint: Any) -> None:
        """Called when every execution of ``trial`` has trained (hook)."""

    def reports_each_epoch(self) -> bool:
        """Whether the oracle already holds each epoch's metrics (hook)."""
        return False

    def trial_guard(
        self, trial: trial_module.Trial
    ) -> contextlib.AbstractContextManager:
        """A context around each trial's run (hook)."""
        return contextlib.nullcontext()

    def checkpoint_path(self, trial_id: str) -> str:
        """The file of ``trial_id``'s best weights."""
        return self._get_checkpoint_fname(trial_id)

    def is_worker(self) -> bool:
        """Whether this tuner is a worker of Keras Tuner's distributed mode."""
        return self._is_worker()

    def tuner_state_path(self) -> str:
        """The tuner's own state file, ``<tuner_id>.json`` (``tuner0.json``)."""
        return self._get_tuner_fname()

    def build_model(
        self, hp: keras_tuner.HyperParameters, weights: str | None = None
    ) -> Any:
        """Builds and checks a trial's model, as Keras Tuner does before ``fit``;
        a continued trial starts from ``weights`` if given, else its parent's."""
        self._weights_to_load = weights
        try:
            return self._try_build(hp)
        finally:
            self._weights_to_load = None

    def build_unchecked(self, hp: keras_tuner.HyperParameters) -> Any:
        """Builds a model for ``hp`` as a trial does, in the tuner's
        distribution strategy and with its compile overrides, but without
        freeing the previous model or checking the result (the dry step)."""
        return self._build_hypermodel(hp)

    def save_build_config(self, trial_id: str, model: Any) -> None:
        """Saves the model's build configuration, as Keras Tuner does per trial."""
        if _backend_config.multi_backend():
            _utils.save_json(
                self._get_build_config_fname(trial_id), model.get_build_config()
            )

    def copy_callbacks(
        self, callbacks: list[Any], trial: trial_module.Trial, execution: int
    ) -> list[Any]:
        """Copies of ``callbacks`` for one execution (or fold) of a trial."""
        copied = self._deepcopy_callbacks(callbacks)
        self._configure_tensorboard_dir(copied, trial, execution)
        return copied

    def declare_space(self) -> None:
        """Declares the hypermodel's entries to the oracle, as a new search does.

        Keras Tuner does it only when it does not reload a saved search.
        """
        self._populate_initial_space()

    # -- copies of Keras Tuner's bodies -------------------------------------

    def run_trial(self, trial: trial_module.Trial, *args: Any, **kwargs: Any) -> Any:
        """Keras Tuner's ``Tuner.run_trial``, with :meth:`new_checkpoint`."""
        checkpoint = self.new_checkpoint(trial)
        original_callbacks = kwargs.pop("callbacks", [])
        histories = []
        for execution in range(self.executions_per_trial):
            copied_kwargs = copy.copy(kwargs)
            callbacks = self.copy_callbacks(original_callbacks, trial, execution)
            callbacks.append(_tuner_utils.TunerCallback(self, trial))
            callbacks.append(checkpoint)
            copied_kwargs["callbacks"] = callbacks
            histories.append(self._build_and_fit_model(trial, *args, **copied_kwargs))
        self.after_executions(trial, checkpoint)
        return histories

    def _build_and_fit_model(
        self, trial: trial_module.Trial, *args: Any, **kwargs: Any
    ) -> Any:
        hp = trial.hyperparameters
        model = self._try_build(hp)
        results = self.fit_model(hp, model, *args, **kwargs)
        self.save_build_config(trial.trial_id, model)
        _tuner_utils.validate_trial_results(
            results, self.oracle.objective, "HyperModel.fit()"
        )
        return results

    def _try_build(self, hp: keras_tuner.HyperParameters) -> Any:
        self.before_build()
        model = self._build_hypermodel(hp)
        if not isinstance(model, keras.Model):
            raise errors.FatalTypeError(
                "The hypermodel must return a keras.Model, got "
                f"{model!r} of type {type(model)}."
            )
        if self.fits_as_given() and not model.compiled:
            # A hypermodel whose own fit() compiles may return it uncompiled.
            raise errors.FatalTypeError(
                "The hypermodel must return a compiled keras.Model, got "
                f"{model!r}: call model.compile(...) in build()."
            )
        size = _tuner_module.maybe_compute_model_size(model)
        if self.max_model_size and size > self.max_model_size:
            raise errors.FailedTrialError(
                f"Oversized model: {size} parameters. Skip model."
            )
        return model

    def _build_hypermodel(self, hp: keras_tuner.HyperParameters) -> Any:
        # Keras Tuner's, plus: a continued trial starts from its parent's best
        # weights (as Hyperband's tuner does) and optimizer state.
        model = super()._build_hypermodel(hp)
        parent = hp.values.get("tuner/trial_id")
        if parent is not None:
            if _backend_config.multi_backend() and not model.built:
                model.build_from_config(
                    _utils.load_json(self._get_build_config_fname(parent))
                )
            weights = getattr(self, "_weights_to_load", None)
            load_checkpoint(model, weights or self._get_checkpoint_fname(parent))
        return model

    def _try_run_and_update_trial(
        self, trial: trial_module.Trial, *fit_args: Any, **fit_kwargs: Any
    ) -> None:
        with self.trial_guard(trial):
            super()._try_run_and_update_trial(trial, *fit_args, **fit_kwargs)

    def _run_and_update_trial(
        self, trial: trial_module.Trial, *fit_args: Any, **fit_kwargs: Any
    ) -> None:
        # Keras Tuner's, but a trial whose epochs the oracle already holds (see
        # `reports_each_epoch`) is not reported again, and gets no warning; and
        # a diverged trial, which the subclass's `on_trial_end` marks FAILED
        # with its message, is not printed as a traceback by Keras Tuner.
        try:
            results = self.run_trial(trial, *fit_args, **fit_kwargs)
        except TrialDiverged:
            return
        objective = self.oracle.objective
        if self.reports_each_epoch() and self.oracle.get_trial(
            trial.trial_id
        ).metrics.exists(objective.name):
            return
        _tuner_utils.validate_trial_results(results, objective, "Tuner.run_trial()")
        self.oracle.update_trial(
            trial.trial_id,
            _tuner_utils.convert_to_metrics_dict(results, objective),
            step=_tuner_utils.get_best_step(results, objective),
        )


class TrialDiverged(errors.FailedTrialError):
    """A trial's loss or objective became NaN or infinite, and it stopped.

    An expected end, not an error: the tuner's ``on_trial_end`` must mark the
    trial FAILED with a message saying where it diverged.
    """


class BestEpochWeights(SaveBestEpoch):
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


# Preprocessing layers keep what `adapt` learns outside variables and config.
_PREPROCESSING = "keras.src.layers.preprocessing."


def is_plain_model(model: Any) -> bool:
    """Whether ``model`` is exactly a ``Sequential`` or functional model.

    Subclassed models are not: their ``call`` is code, not configuration.

    Example:
        >>> is_plain_model(keras.Sequential([keras.Input((2,))]))
        True
    """
    from keras.src.models.functional import Functional

    return type(model) in (keras.Sequential, Functional)


def is_preprocessing_layer(layer: Any) -> bool:
    """Whether ``layer`` is one of Keras's preprocessing layers.

    Example:
        >>> is_preprocessing_layer(keras.layers.Normalization())
        True
    """
    return type(layer).__module__.startswith(_PREPROCESSING)


def distribution_strategy(model: Any) -> Any:
    """The distribution strategy ``model`` was built under, or ``None``.

    Example:
        >>> distribution_strategy(keras.Sequential()) is None
        True
    """
    return getattr(model, "_distribute_strategy", None)


def in_order(callbacks: keras.callbacks.CallbackList) -> None:
    """Makes ``callbacks`` call every hook on the calling thread (Keras may
    hand batch-end hooks to a thread pool).

    Example:
        >>> callbacks = keras.callbacks.CallbackList([keras.callbacks.History()])
        >>> in_order(callbacks)
    """
    callbacks._async_train = False
    callbacks._async_test = False
    callbacks._async_predict = False


def sublayers(model: keras.Model) -> list[Any]:
    """Every layer inside ``model``, nested ones included, without the model.

    Example:
        >>> inner = keras.Sequential([keras.layers.Dense(2)], name="inner")
        >>> model = keras.Sequential([inner, keras.layers.Dense(1)])
        >>> [layer.name == "inner" for layer in sublayers(model)]
        [True, False, False]
    """
    return list(model._flatten_layers(include_self=False))


def excludes_from_weight_decay(optimizer: Any) -> bool:
    """Whether ``optimizer`` was told to exclude variables from weight decay.

    Example:
        >>> excludes_from_weight_decay(keras.optimizers.AdamW())
        False
    """
    return bool(
        getattr(optimizer, "_exclude_from_weight_decay", None)
        or getattr(optimizer, "_exclude_from_weight_decay_pattern", None)
    )


def symbolic_build(model: keras.Model, batch: tuple[Any, Any]) -> bool:
    """Builds the compiled loss and metrics from a symbolic ``(x, y)`` batch.

    Returns:
        False when this Keras has no such build (nothing is done).
    """
    build = getattr(model, "_symbolic_build", None)
    if build is None:
        return False
    build(data_batch=batch)
    return True


# TensorFlow registers a gradient function under a new name each time a graph
# with a custom gradient is traced, and never unregisters it; Keras' optimizers
# trace one (`all_reduce` under the default strategy) in every train function,
# so every trained model's graphs would stay alive through the registry. Only
# those, recognised by the module of the gradient they wrap, are dropped: a
# user's own custom gradient may be looked up again through a cached trace.
_CUSTOM_GRADIENT_PREFIX = "CustomGradient-"
_ALL_REDUCE_MODULE = "tensorflow.python.distribute."


def _gradient_registry() -> dict[str, Any]:
    # Never loaded for this: a search on the JAX or PyTorch backend has no
    # TensorFlow graphs unless the user's data loaded TensorFlow.
    if "tensorflow" not in sys.modules:
        return {}
    from tensorflow.python.framework import ops

    registry = getattr(getattr(ops, "_gradient_registry", None), "_registry", None)
    return registry if isinstance(registry, dict) else {}


def _wraps_all_reduce(function: Any, depth: int = 0) -> bool:
    """Whether ``function`` or a function in its closures is TF's all_reduce's."""
    module = getattr(function, "__module__", None) or ""
    if module.startswith(_ALL_REDUCE_MODULE):
        return True
    if depth == 3:
        return False
    for cell in getattr(function, "__closure__", None) or ():
        try:
            inner = cell.cell_contents
        except ValueError:  # an empty cell
            continue
        if callable(inner) and _wraps_all_reduce(inner, depth + 1):
            return True
    return False


def custom_gradient_names() -> frozenset[str]:
    """Names of the custom gradients TensorFlow has registered so far.

    Example:
        >>> isinstance(custom_gradient_names(), frozenset)
        True
    """
    registry = _gradient_registry()
    return frozenset(n for n in registry if n.startswith(_CUSTOM_GRADIENT_PREFIX))


def forget_custom_gradients(keep: frozenset[str]) -> int:
    """Unregisters TF's all_reduce gradients registered since ``keep`` was taken.

    Call it between trials, once the models trained since are gone: their
    train functions' graphs are then freed (about 5 MiB and 8,000 Python
    objects per tiny model otherwise, in a search of hundreds of trials). That
    gradient is only looked up while the train step is traced. Other custom
    gradients (a user's) stay registered.

    Returns:
        How many were unregistered.

    Example:
        >>> forget_custom_gradients(custom_gradient_names())
        0
    """
    registry = _gradient_registry()
    names = [
        name
        for name, entry in registry.items()
        if name.startswith(_CUSTOM_GRADIENT_PREFIX)
        and name not in keep
        and isinstance(entry, dict)
        and _wraps_all_reduce(entry.get("type"))
    ]
    for name in names:
        del registry[name]
    return len(names)
