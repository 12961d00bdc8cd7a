"""A cross-validated trial: one model per fold, trained in lockstep.

Each fold's model trains on that fold's training rows and is validated on its
validation rows, by the hypermodel's own ``fit`` (so a tuned batch size, a
learning-rate schedule and the user's callbacks behave as without ``cv``).
The folds take turns: each fold's ``fit`` runs in a thread of its own that
pauses at the end of every epoch, and only one fold trains at a time. When
every fold has ended epoch ``e``, the trial reports the mean over folds of
every metric, ``<metric>_std`` (NumPy's standard deviation over folds) and
``<metric>_fold<i>`` (:func:`fold_logs`). That mean curve is what the oracle
ranks, narrows on and prunes by; a fold that diverges makes the mean NaN, so
the trial diverged; the trial stops when the oracle or any fold's own
callbacks stop training.

Each fold keeps its own checkpoint, written at the best epoch of the mean
curve (:func:`fold_checkpoint_path`; fold 0's is the trial's usual checkpoint,
so ``get_best_models`` gives fold 0's model), and a continued trial's fold
``i`` starts from its parent's fold ``i`` weights: no fold ever trains on
another fold's validation rows.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from typing import Any

import keras
import numpy as np
from keras_tuner import errors

from kt_ext.model_selection._split import FoldAssignment, take_rows

__all__ = ["fold_checkpoint_path", "fold_logs", "run_folds"]


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


class _Turns(keras.callbacks.Callback):
    """The last callback of a fold's ``fit``: hands the turn back at epoch ends."""

    def __init__(self, fold: _Fold) -> None:
        super().__init__()
        self.fold = fold

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.fold.epoch_ended(epoch, logs or {}, self.model)


class _Fold:
    """One fold's ``fit``, in a thread that runs only while it has the turn."""

    def __init__(self, index: int, train: Callable[[keras.callbacks.Callback], Any]):
        self.index = index
        self.train = train
        self.epoch = -1
        self.logs: dict[str, Any] = {}
        self.model: keras.Model | None = None
        self.finished = False
        self.error: BaseException | None = None
        self._stopping = False
        self._go = threading.Semaphore(0)
        self._back = threading.Semaphore(0)
        self._thread: threading.Thread | None = None

    def _run(self) -> None:
        self._go.acquire()
        try:
            self.train(_Turns(self))
        except BaseException as error:  # handed to the trial's thread
            self.error = error
        finally:
            self.finished = True
            self._back.release()

    def epoch_ended(self, epoch: int, logs: dict[str, Any], model: Any) -> None:
        """In the fold's thread: wait for the next turn."""
        self.epoch, self.logs, self.model = epoch, dict(logs), model
        self._back.release()
        self._go.acquire()
        if self._stopping:
            model.stop_training = True

    def advance(self) -> None:
        """Lets the fold train to the end of its next epoch (or of its fit)."""
        if self.finished:
            return
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name=f"fold-{self.index}", daemon=True
            )
            self._thread.start()
        self._go.release()
        self._back.acquire()

    def finish(self) -> None:
        """Stops the fold's ``fit`` after the epoch it has ended, and waits."""
        self._stopping = True
        if self._thread is None:
            self.finished = True
            return
        while not self.finished:
            self.advance()
        self._thread.join()


class _Stop:
    """Stands for the trial's models in the tuner's ``on_epoch_end``."""

    stop_training = False


def lockstep(
    folds: list[_Fold],
    on_epoch: Callable[[int, list[dict[str, Any]], list[Any]], bool],
) -> None:
    """Trains ``folds`` epoch by epoch; ``on_epoch`` returns False to stop.

    Ends when a fold's ``fit`` returns (its epochs are done, or its own
    callbacks stopped it). An error raised in a fold is raised here, once
    every fold has stopped.
    """
    try:
        while True:
            for fold in folds:
                fold.advance()
            for fold in folds:
                if fold.error is not None:
                    raise fold.error
            if any(fold.finished for fold in folds):
                return
            models = [fold.model for fold in folds]
            if not on_epoch(folds[0].epoch, [fold.logs for fold in folds], models):
                return
    finally:
        for fold in folds:
            fold.finish()
    for fold in folds:
        if fold.error is not None:
            raise fold.error


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
    for index, (train, test) in enumerate(assignment.splits):
        weights = None
        if parent is not None:
            weights = fold_checkpoint_path(tuner.checkpoint_path(parent), index)
        model = tuner.build_model(hp, weights)
        if index == 0:
            tuner.save_build_config(trial.trial_id, model)
        path = fold_checkpoint_path(tuner.checkpoint_path(trial.trial_id), index)
        checkpoints.append(tuner.fold_checkpoint(path))
        validation = (take_rows(x, test), take_rows(y, test))
        fit_kwargs = {**kwargs, "validation_data": validation}
        if sample_weight is not None:
            # Weighted validation too, as Keras's validation_split has it.
            fit_kwargs["sample_weight"] = take_rows(sample_weight, train)
            fit_kwargs["validation_data"] = (
                *validation,
                take_rows(sample_weight, test),
            )
        fold_callbacks = tuner.copy_callbacks(callbacks, trial, index)
        data = (take_rows(x, train), take_rows(y, train))
        folds.append(
            _Fold(
                index,
                _trainer(tuner, hp, model, index, data, fit_kwargs, fold_callbacks),
            )
        )
    history = keras.callbacks.History()
    history.on_train_begin()
    stop = _Stop()

    def on_epoch(epoch: int, per_fold: list[dict[str, Any]], models: list[Any]) -> bool:
        logs = fold_logs(per_fold)
        for checkpoint, model in zip(checkpoints, models, strict=True):
            checkpoint.set_model(model)
            checkpoint.on_epoch_end(epoch, logs)
        history.epoch.append(epoch)
        for name, value in logs.items():
            history.history.setdefault(name, []).append(value)
        stop.stop_training = False
        tuner.on_epoch_end(trial, stop, epoch, logs=logs)
        return not (stop.stop_training or any(m.stop_training for m in models))

    lockstep(folds, on_epoch)
    if not history.epoch:
        raise errors.FatalValueError(
            "With `cv`, the hypermodel's fit() must train with model.fit and pass "
            "it the callbacks it is given: no epoch ended in any fold."
        )
    if tuner.keeps_checkpoints(trial):  # lean trials: written once, now
        for checkpoint in checkpoints:
            checkpoint.write()
    return [history]


def _trainer(
    tuner: Any,
    hp: Any,
    model: Any,
    index: int,
    data: tuple[Any, Any],
    kwargs: dict[str, Any],
    callbacks: list[Any],
) -> Callable[[keras.callbacks.Callback], Any]:
    def train(turns: keras.callbacks.Callback) -> Any:
        fit_kwargs = {**kwargs, "callbacks": [*callbacks, turns]}
        return tuner.fit_fold(hp, model, index, data, fit_kwargs)

    return train
