"""One cheap step through the model before a search's first trial.

A model that does not fit the data (a wrong input shape, labels the loss cannot
take) would otherwise fail every trial, each with a full traceback, until Keras
Tuner gives up after ``max_consecutive_failed_trials``. The dry step builds one
model with the search space's default values, runs one batch forward and
through ``compute_loss``, eagerly (nothing is traced or trained), and reports a
mismatch once, before the search starts, with the underlying error's type and
message.

It leaves no trace: the model is built on a copy of the space, so no entry
reaches the oracle; the oracle's random generator is not touched; Python's and
NumPy's global random states are put back, so the trials initialise their
weights as they would without it. It only reads in-memory data (arrays,
tensors, pandas objects, and lists or dicts of them); a ``tf.data`` dataset or
a generator is left to the first trial, as is a hypermodel whose own ``fit``
may transform the data.
"""

from __future__ import annotations

import contextlib
import random
from collections.abc import Iterator
from typing import Any

import numpy as np
from keras_tuner import errors

_ROWS = 32


def dry_step(tuner: Any, fit_args: tuple[Any, ...], fit_kwargs: dict[str, Any]) -> None:
    """Builds, runs one batch forward and computes its loss, or raises.

    Args:
        tuner: A kt_ext tuner (its ``oracle`` gives the space, its
            ``build_unchecked`` builds as a trial would).
        fit_args: ``x``, ``y`` as ``search()`` got them.
        fit_kwargs: ``search()``'s keyword arguments (``x``, ``y``,
            ``sample_weight``, ``batch_size`` are read).

    Raises:
        ValueError: Building the model or the step failed; the message names
            the underlying error's type and message.

    Example:
        >>> dry_step(tuner, (x, y), {})  # doctest: +SKIP
    """
    x = fit_args[0] if fit_args else fit_kwargs.get("x")
    y = fit_args[1] if len(fit_args) > 1 else fit_kwargs.get("y")
    weights = fit_kwargs.get("sample_weight")
    rows = min(_ROWS, fit_kwargs.get("batch_size") or _ROWS)
    x_batch, y_batch, weights_batch = (
        first_rows(part, rows) for part in (x, y, weights)
    )
    if x_batch is None or (y_batch is None) != (y is None):
        return  # data the dry step cannot read without consuming it
    if (weights_batch is None) != (weights is None):
        return
    hp = tuner.oracle.get_space().copy()
    with restored_global_random():
        try:
            model = tuner.build_unchecked(hp)
        except errors.FailedTrialError:
            return  # the hypermodel skips this configuration itself
        except Exception as error:
            raise _mismatch("building the model", error) from error
        if not getattr(model, "compiled", False):
            return  # the first trial says that it must be compiled
        try:
            predictions = model(x_batch, training=False)
            if y_batch is not None:
                model.compute_loss(
                    x=x_batch,
                    y=y_batch,
                    y_pred=predictions,
                    sample_weight=weights_batch,
                )
        except Exception as error:
            raise _mismatch("one batch forward and its loss", error) from error


def _mismatch(step: str, error: Exception) -> ValueError:
    message = str(error).strip() or "(no message)"
    return ValueError(
        f"The model built with the search space's default values does not fit "
        f"the data: {step} failed before the search started, with "
        f"{type(error).__name__}: {message}\nEvery trial would fail the same way; "
        "check the model's input shape, output and loss against `x` and `y`."
    )


def first_rows(data: Any, rows: int) -> Any:
    """The first ``rows`` rows of in-memory ``data``, or None if it has none.

    Arrays and tensors are sliced, pandas objects become NumPy arrays, lists,
    tuples and dicts are sliced part by part; anything else (``tf.data``, a
    generator) gives None.

    Example:
        >>> first_rows({"a": np.zeros((5, 2))}, 2)["a"].shape
        (2, 2)
        >>> first_rows(iter([1, 2]), 2) is None
        True
    """
    if data is None:
        return None
    if isinstance(data, dict):
        named = {key: first_rows(value, rows) for key, value in data.items()}
        return None if any(part is None for part in named.values()) else named
    if isinstance(data, list | tuple):
        parts = [first_rows(value, rows) for value in data]
        return None if any(part is None for part in parts) else type(data)(parts)
    if hasattr(data, "iloc"):
        return data.iloc[:rows].to_numpy()
    if not hasattr(data, "shape") or not hasattr(data, "__getitem__"):
        return None
    try:
        return data[:rows]
    except (TypeError, ValueError, IndexError):
        return None


@contextlib.contextmanager
def restored_global_random() -> Iterator[None]:
    """Puts Python's and NumPy's global random states back on exit.

    Keras draws the seeds of a new model's initializers and dropout layers
    from Python's ``random``; the dry step's model must not shift them.

    Example:
        >>> state = random.getstate()
        >>> with restored_global_random():
        ...     _ = random.random()
        >>> random.getstate() == state
        True
    """
    python_state, numpy_state = random.getstate(), np.random.get_state()
    try:
        yield
    finally:
        random.setstate(python_state)
        np.random.set_state(numpy_state)
