"""A tunable multi-layer perceptron for tabular data."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import keras_tuner

from kt_ext._internal.tasks import infer_task, sample_shape
from kt_ext.hypermodels._base import TemplateHyperModel


class MLPHyperModel(TemplateHyperModel):
    """A dense network for binary, multiclass or regression tasks.

    Tunes ``num_layers``, ``units`` (shared by every dense layer),
    ``activation``, ``kernel_initializer``, ``regularizer`` with
    ``reg_strength`` (active only when a kind is chosen), ``dropout``,
    ``batch_norm``, ``optimizer`` with ``momentum`` (active only for sgd and
    rmsprop), ``learning_rate`` (log scale), ``lr_schedule`` and
    ``batch_size`` (tuned in :meth:`fit`; a ``batch_size`` given to
    ``search()`` wins).

    ``overrides`` changes any entry without subclassing: a plain value fixes
    it, ``(min, max)`` or ``(min, max, "log")`` re-ranges a numeric one, a
    list gives new choices, and ``None`` switches an optional feature off
    (``regularizer``, ``dropout``, ``batch_norm``, ``lr_schedule``,
    ``momentum``, ``batch_size``). Invalid overrides raise ``ValueError`` here,
    at construction.

    Args:
        input_shape: Shape of one sample, e.g. ``(30,)``; an int is accepted.
        task: ``"binary"``, ``"multiclass"`` or ``"regression"``.
        num_classes: Number of classes (multiclass only; labels are ints
            ``0..num_classes-1``).
        num_outputs: Number of regression targets (default 1).
        overrides: Entry name to fixed value, range, choices or ``None``.
        name: Model name.
        tunable: As in ``keras_tuner.HyperModel``.

    Example:
        >>> import keras_tuner as kt
        >>> from kt_ext.hypermodels import MLPHyperModel
        >>> hypermodel = MLPHyperModel(
        ...     input_shape=(30,),
        ...     task="binary",
        ...     overrides={"num_layers": 1, "learning_rate": (1e-3, 1e-2, "log")},
        ... )
        >>> model = hypermodel.build(kt.HyperParameters())
        >>> model.output_shape
        (None, 1)
    """

    def __init__(
        self,
        input_shape: tuple[int, ...] | int,
        task: str = "binary",
        *,
        num_classes: int | None = None,
        num_outputs: int | None = None,
        overrides: Mapping[str, Any] | None = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        super().__init__(
            input_shape=input_shape,
            task=task,
            num_outputs=_output_size(task, num_classes, num_outputs),
            overrides=overrides,
            name=name,
            tunable=tunable,
        )

    @classmethod
    def for_data(cls, x: Any, y: Any, **kwargs: Any) -> MLPHyperModel:
        """A template sized for ``x`` and ``y``, with the task inferred from ``y``.

        Args:
            x: Training features, shape ``(samples, ...)``.
            y: Training targets: class labels (ints or strings encoded as
                ints), one-hot rows, or float regression targets.
            **kwargs: Passed to the constructor (``overrides``, ``name``...).

        Example:
            >>> import numpy as np
            >>> x, y = np.zeros((8, 4)), np.array([0, 1, 2, 0, 1, 2, 0, 1])
            >>> MLPHyperModel.for_data(x, y).task
            'multiclass'
        """
        shape = sample_shape(x, y)
        task, outputs = infer_task(y)
        if task == "multiclass":
            kwargs.setdefault("num_classes", outputs)
        elif task == "regression":
            kwargs.setdefault("num_outputs", outputs)
        return cls(shape, task, **kwargs)

    def _body(self, hp: keras_tuner.HyperParameters, inputs: Any) -> Any:
        if len(self.input_shape) > 1:
            return keras.layers.Flatten()(inputs)
        return inputs


def _output_size(task: str, num_classes: int | None, num_outputs: int | None) -> int:
    if task == "multiclass":
        if num_classes is None:
            raise ValueError(
                "`num_classes` is required for a multiclass task, got None."
            )
        return num_classes
    if num_classes is not None:
        raise ValueError(
            f"`num_classes` applies to multiclass tasks only (task={task!r}), "
            f"got {num_classes!r}."
        )
    if task == "regression":
        return 1 if num_outputs is None else num_outputs
    return 1
