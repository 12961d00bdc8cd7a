"""A cross-validated trial: one model per fold, trained epoch by epoch in turn.

Each fold's model trains on that fold's training rows and is validated on its
validation rows, by the hypermodel's own ``fit`` (so a tuned batch size, a
learning-rate schedule and the user's callbacks behave as without ``cv``).
The hypermodel's ``fit`` runs once per fold with ``model.fit`` captured
(:func:`capture_fit`): what it asked for (data, batch size, its callbacks)
is then trained one epoch at a time, ``model.fit(initial_epoch=e,
epochs=e + 1)``, fold after fold, all on the trial's thread. Each fold's
callbacks live for the whole trial (:class:`FoldCallbacks`): they begin and
end training once, see every batch and epoch as in one ``fit``, and get
their fold's epoch logs as its epoch ends (a schedule adds
``learning_rate``; a callback may stop training, or raise, and then no other
fold trains on). When every fold has ended epoch ``e``:

1. the trial's logs are the mean over folds of every metric, ``<metric>_std``
   (NumPy's standard deviation over folds) and ``<metric>_fold<i>``
   (:func:`fold_logs`);
2. callbacks that read logs to stop training (``EarlyStopping``,
   :data:`MERGED_LOGS`) get the trial's logs, so their copies in every fold
   decide alike;
3. the oracle ranks, narrows and prunes on the trial's logs. A fold that
   diverges makes the mean NaN, so the trial diverged; the trial stops after
   the epoch at which the oracle or any fold's callbacks stop training, so
   every fold trains the same epochs, all charged to the budget.

Each fold keeps its own checkpoint, written at the best epoch of the mean
curve (:func:`fold_checkpoint_path`; fold 0's is the trial's usual checkpoint,
so ``get_best_models`` gives fold 0's model), and a continued trial's fold
``i`` starts from its parent's fold ``i`` weights: no fold ever trains on
another fold's validation rows. The folds' rows are sliced once per
``search()`` (:func:`slice_folds`).

Why no threads. Before, each fold's ``fit`` ran in a thread of its own that
paused at every epoch end. Keras 3 keeps its global state per thread (dtype
policy, global ``SeedGenerator``, distribution), as TensorFlow keeps
``tf.device``: none of what the caller set applied inside a fold. A Ctrl-C
landing while the threads took turns left threads parked for ever with their
models; a hypermodel's ``EarlyStopping`` ran after the hand-off, one turn
late; fold progress bars interleaved. Keeping threads would have meant
copying every piece of thread-local state into each fold through private
Keras and TensorFlow names, and a hand-off that survives a second interrupt.
One ``fit`` per epoch costs Keras's per-call set-up (data and validation
iterators), measured on a ``cv=3`` search of a tiny MLP (breast_cancer, all
569 rows, ``MLPHyperModel`` with 1 layer of 4 units and batch size 64;
``CoarseToFine(max_epochs=3, epoch_budget=72, seed=0)``: 17 trials, 69
model-epochs), interleaved runs on one shared 2-core machine: threads 77.7 s
and 104.4 s, one fit per epoch 84.9 s and 97.7 s, the same within the
machine's noise (building and tracing the models dominates). As the
callbacks begin and end once per trial, the hypermodel's ``fit`` must call
``model.fit`` once, on the model it is given; it gets back a ``History`` that
fills as the fold trains. An optimizer with ``use_ema=True`` swaps in its
moving averages at the end of every ``fit`` call, so at every epoch here.
"""

from __future__ import annotations

import dataclasses
import inspect
import os
from collections.abc import Callable, Sequence
from contextlib import ExitStack
from typing import Any, cast

import keras
import numpy as np
from keras_tuner import errors

from kt_ext._internal.seam_training import in_order
from kt_ext.model_selection._split import FoldAssignment, take_rows
from kt_ext.tuners._progress import fold_epoch_line

__all__ = [
    "MERGED_LOGS",
    "FoldCallbacks",
    "FoldRows",
    "capture_fit",
    "fold_checkpoint_path",
    "fold_logs",
    "run_folds",
    "slice_folds",
]

#: Callbacks that get the trial's logs (the mean over folds), not their fold's.
MERGED_LOGS: tuple[type[keras.callbacks.Callback], ...] = (
    keras.callbacks.EarlyStopping,
)


def fold_logs(per_fold: Sequence[dict[str, Any]]) -> dict[str, float]:
    """One epoch's logs of every fold as one: mean, ``_std`` and ``_fold<i>``.

    Only metrics every fold logged are kept.

    Example:
        >>> fold_logs([{"val_loss": 1.0}, {"val_loss": 3.0}])
        {'val_loss': 2.0, 'val_loss_std': 1.0, 'val_loss_fold0': 1.0, 'val_loss_fold1': 3.0}
    """  # noqa: E501
    names = [name for name in per_fold[0] if all(name in logs for logs in per_fold)]
    merged: dict[str, float] = {}
    for name in names:
        values = np.array([float(logs[name]) for logs in per_fold])
        merged[name] = float(values.mean())
        merged[f"{name}_std"] = float(values.std())
        for index, value in enumerate(values):
            merged[f"{name}_fold{index}"] = float(value)
    return merged


def fold_checkpoint_path(path: str, fold: int) -> str:
    """Fold ``fold``'s checkpoint file, given the trial's (which is fold 0's).

    Example:
        >>> fold_checkpoint_path("t/trial_01/checkpoint.weights.h5", 2)
        't/trial_01/checkpoint_fold2.weights.h5'
    """
    if fold == 0:
        return path
    folder, name = os.path.split(path)
    stem, dot, rest = name.partition(".")
    return os.path.join(folder, f"{stem}_fold{fold}{dot}{rest}")


@dataclasses.dataclass(frozen=True)
class FoldRows:
    """One fold's rows: ``train`` is ``(x, y)``, ``validation`` is ``(x, y)``
    or ``(x, y, sample_weight)``; ``sample_weight`` is the training rows'."""

    train: tuple[Any, Any]
    validation: tuple[Any, ...]
    sample_weight: Any = None


def slice_folds(
    assignment: FoldAssignment, x: Any, y: Any, sample_weight: Any = None
) -> list[FoldRows]:
    """Each fold's rows of ``x``, ``y`` and ``sample_weight``.

    Example:
        >>> folds = FoldAssignment.split(2, np.zeros((4, 1)), np.array([0, 1, 0, 1]), 0)
        >>> [len(rows.train[0]) for rows in slice_folds(folds, np.zeros((4, 1)),
        ...     np.array([0, 1, 0, 1]))]
        [2, 2]
    """
    folds = []
    for train, test in assignment.splits:
        validation: tuple[Any, ...] = (take_rows(x, test), take_rows(y, test))
        weights = None
        if sample_weight is not None:
            # Weighted validation too, as Keras's validation_split has it.
            weights = take_rows(sample_weight, train)
            validation = (*validation, take_rows(sample_weight, test))
        folds.append(
            FoldRows((take_rows(x, train), take_rows(y, train)), validation, weights)
        )
    return folds


def capture_fit(model: keras.Model, fit: Callable[[], Any]) -> dict[str, Any]:
    """Runs ``fit`` with ``model.fit`` recording its arguments, not training.

    ``fit`` is a hypermodel's ``fit`` bound to ``model``; ``model.fit``
    returns a ``History`` (``model.history``) that fills when the fold trains.

    Returns:
        ``model.fit``'s arguments by name, ``history`` added.

    Raises:
        FatalValueError: ``fit`` did not call ``model.fit`` exactly once.

    Example:
        >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
        >>> capture_fit(model, lambda: model.fit(np.zeros((4, 2)), epochs=3))["epochs"]
        3
    """
    calls: list[dict[str, Any]] = []
    signature = inspect.signature(type(model).fit)

    def record(*args: Any, **kwargs: Any) -> keras.callbacks.History:
        if calls:
            raise errors.FatalValueError(
                "With `cv`, the hypermodel's fit() must call model.fit once; "
                "it called it again."
            )
        bound = signature.bind(model, *args, **kwargs)
        call: dict[str, Any] = {}
        for name, value in list(bound.arguments.items())[1:]:
            if signature.parameters[name].kind is inspect.Parameter.VAR_KEYWORD:
                call.update(value)
            else:
                call[name] = value
        call["history"] = keras.callbacks.History()
        calls.append(call)
        return call["history"]

    model.fit = record
    try:
        fit()
    finally:
        del model.fit
    if not calls:
        raise errors.FatalValueError(
            "With `cv`, the hypermodel's fit() must train the model it is given "
            "with model.fit; it did not call model.fit."
        )
    return calls[0]


class FoldCallbacks(keras.callbacks.CallbackList):
    """A fold's callbacks for the whole trial, across its one-epoch ``fit`` calls.

    Keras's ``fit`` takes a ``CallbackList`` as it is: this one begins
    training once, gives each epoch's logs to the fold's callbacks (but
    :data:`MERGED_LOGS`, which get the trial's: :meth:`trial_epoch_end`) and
    ends training when the trial says (:meth:`end`). Every hook runs on the
    calling thread.

    Example:
        >>> callbacks = FoldCallbacks([keras.callbacks.History()], epochs=3)
        >>> model.fit(x, y, initial_epoch=0, epochs=1, callbacks=callbacks)
        ... # doctest: +SKIP
    """

    def __init__(self, callbacks: list[Any], model: Any = None, **params: Any):
        super().__init__(callbacks, model=model, **params)
        in_order(self)
        self.logs: dict[str, Any] | None = None
        self._began = False

    def on_train_begin(self, logs: dict[str, Any] | None = None) -> None:
        if not self._began:
            self._began = True
            super().on_train_begin(logs)

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        """The fold's callbacks, but :data:`MERGED_LOGS`, get its epoch logs."""
        self.logs = {name: _plain(value) for name, value in (logs or {}).items()}
        for callback in self.callbacks:
            if not isinstance(callback, MERGED_LOGS):
                callback.on_epoch_end(epoch, self.logs)

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        """Training goes on in the trial's next one-epoch ``fit``."""

    def trial_epoch_end(self, epoch: int, logs: dict[str, float]) -> None:
        """:data:`MERGED_LOGS` callbacks get the trial's epoch logs."""
        for callback in self.callbacks:
            if isinstance(callback, MERGED_LOGS):
                callback.on_epoch_end(epoch, dict(logs))

    def end(self) -> None:
        """Ends training for every callback (once, as ``fit`` would)."""
        if self._began:
            super().on_train_end(self.logs)


def _plain(value: Any) -> Any:
    return float(value) if np.ndim(value) == 0 else value


class _Fold:
    """One fold's model, what its hypermodel's ``fit`` asked for, and its callbacks."""

    def __init__(self, model: keras.Model, call: dict[str, Any]):
        self.model = model
        self.epochs = call.pop("epochs", 1)
        self.initial_epoch = call.pop("initial_epoch", 0)
        self.verbose = call.pop("verbose", "auto")
        callbacks = [*(call.pop("callbacks", None) or []), call.pop("history")]
        self.call = call
        self.callbacks = FoldCallbacks(
            callbacks,
            model=model,
            verbose=self.verbose,
            epochs=self.epochs,
            steps=None,
        )

    def train(self, epoch: int) -> None:
        """Trains epoch ``epoch``; its logs are then in ``callbacks.logs``."""
        self.callbacks.logs = None
        self.model.fit(
            **self.call,
            initial_epoch=epoch,
            epochs=epoch + 1,
            callbacks=self.callbacks,
            verbose=0,
        )
        if self.callbacks.logs is None:
            raise errors.FatalValueError(
                f"With `cv`, no epoch ended in model.fit(initial_epoch={epoch}, "
                f"epochs={epoch + 1}): the fold's data gave no batch."
            )


class _Stop:
    """Stands for the trial's models in the tuner's ``on_epoch_end``."""

    stop_training = False


def run_folds(
    tuner: Any,
    trial: Any,
    assignment: FoldAssignment,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> list[keras.callbacks.History]:
    """Runs ``trial`` with one model per fold of ``assignment``.

    Args:
        tuner: The :class:`~kt_ext.tuners.FidelityTuner` running the trial.
        trial: The trial.
        assignment: The search's folds.
        args: ``search()``'s positional arguments (``x``, ``y``).
        kwargs: ``fit`` arguments (``epochs``, ``initial_epoch``, ...).

    Returns:
        One ``History`` of the mean curve, as Keras Tuner takes a trial's
        results.
    """
    kwargs = dict(kwargs)
    x = args[0] if args else kwargs.pop("x", None)
    y = args[1] if len(args) > 1 else kwargs.pop("y", None)
    sample_weight = kwargs.pop("sample_weight", None)
    callbacks = kwargs.pop("callbacks", None) or []
    hp = trial.hyperparameters
    parent = hp.values.get("tuner/trial_id")
    checkpoints, folds = [], []
    rows = tuner.fold_rows(x, y, sample_weight)
    with ExitStack() as trained:  # lean trials keep the models when it ends
        for index, fold_rows in enumerate(rows):
            weights = None
            if parent is not None:
                weights = fold_checkpoint_path(tuner.checkpoint_path(parent), index)
            model = tuner.build_model(hp, weights)
            if index == 0:
                tuner.save_build_config(trial.trial_id, model)
            path = fold_checkpoint_path(tuner.checkpoint_path(trial.trial_id), index)
            checkpoints.append(tuner.fold_checkpoint(path))
            fit_kwargs = {
                **kwargs,
                "validation_data": fold_rows.validation,
                "callbacks": tuner.copy_callbacks(callbacks, trial, index),
            }
            if fold_rows.sample_weight is not None:
                fit_kwargs["sample_weight"] = fold_rows.sample_weight
            model, fit = trained.enter_context(
                tuner.fit_fold(hp, model, index, fold_rows.train, fit_kwargs)
            )
            folds.append(_Fold(model, capture_fit(model, fit)))
        history = _train_in_turns(tuner, trial, folds, checkpoints)
        for fold in folds:
            fold.callbacks.end()
    if tuner.keeps_checkpoints(trial):  # lean trials: written once, now
        for checkpoint in checkpoints:
            checkpoint.write()
    return [history]


def _train_in_turns(
    tuner: Any, trial: Any, folds: list[_Fold], checkpoints: list[Any]
) -> keras.callbacks.History:
    """Trains ``folds`` epoch by epoch; returns the history of the mean curve."""
    first = folds[0]
    for fold in folds[1:]:
        if (fold.initial_epoch, fold.epochs) != (first.initial_epoch, first.epochs):
            raise errors.FatalValueError(
                "With `cv`, the hypermodel's fit() must train every fold for the "
                f"same epochs, got initial_epoch, epochs = {first.initial_epoch}, "
                f"{first.epochs} and {fold.initial_epoch}, {fold.epochs}."
            )
    history = keras.callbacks.History()
    history.on_train_begin()
    stop = _Stop()
    for epoch in range(first.initial_epoch, first.epochs):
        for fold in folds:
            fold.train(epoch)
        # train() raised unless every fold's epoch ended with logs.
        logs = fold_logs([cast(dict, fold.callbacks.logs) for fold in folds])
        for fold in folds:
            fold.callbacks.trial_epoch_end(epoch, logs)
        for checkpoint, fold in zip(checkpoints, folds, strict=True):
            checkpoint.set_model(fold.model)
            checkpoint.on_epoch_end(epoch, logs)
        history.epoch.append(epoch)
        for name, value in logs.items():
            history.history.setdefault(name, []).append(value)
        if first.verbose != 0:
            print(fold_epoch_line(epoch, first.epochs, len(folds), logs), flush=True)
        stop.stop_training = False
        tuner.on_epoch_end(trial, stop, epoch, logs=logs)
        if stop.stop_training or any(fold.model.stop_training for fold in folds):
            break
    if not history.epoch:
        raise errors.FatalValueError(
            f"With `cv`, the hypermodel's fit() must train at least one epoch, got "
            f"initial_epoch={first.initial_epoch}, epochs={first.epochs}."
        )
    return history
