"""A tunable small convolutional network for images from 8x8 to 28x28."""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping
from typing import Any

import keras
import keras_tuner

from kt_ext._internal.tasks import infer_task, sample_shape
from kt_ext.hypermodels._base import SHARED_ENTRIES, TemplateHyperModel
from kt_ext.hypermodels._entries import Entry, at_least, one_of

POOLINGS = ("max", "avg")


class CNNHyperModel(TemplateHyperModel):
    """Convolution blocks and a dense head for small image classification.

    Each block is a ``Conv2D`` (``filters`` in the first block, doubling in
    each next one; ``kernel_size``; ``padding="same"``), optional batch
    normalization, the activation and a 2x2 pooling (``pooling``: max or avg).
    The blocks are followed by the dense head of :class:`MLPHyperModel`
    (``num_layers`` from 0 to 2 here). Adds the entries ``conv_blocks``
    (at most as many as halvings the input allows, 3 at most), ``filters``,
    ``kernel_size`` and ``pooling`` to the shared ones; ``overrides`` works
    as in :class:`MLPHyperModel`.

    Args:
        input_shape: ``(height, width, channels)``, from ``(8, 8, 1)`` up.
        num_classes: Number of classes (labels are ints ``0..num_classes-1``);
            2 gives one sigmoid output.
        overrides: Entry name to fixed value, range, choices or ``None``.
        name: Model name.
        tunable: As in ``keras_tuner.HyperModel``.

    Example:
        >>> import keras_tuner as kt
        >>> from kt_ext.hypermodels import CNNHyperModel
        >>> hypermodel = CNNHyperModel(
        ...     input_shape=(8, 8, 1), num_classes=10, overrides={"conv_blocks": 1}
        ... )
        >>> hypermodel.build(kt.HyperParameters()).output_shape
        (None, 10)
    """

    def __init__(
        self,
        input_shape: tuple[int, int, int],
        num_classes: int,
        *,
        overrides: Mapping[str, Any] | None = None,
        name: str | None = None,
        tunable: bool = True,
    ) -> None:
        if len(tuple(input_shape)) != 3 or min(input_shape[:2]) < 4:
            raise ValueError(
                "`input_shape` must be (height, width, channels) with height and "
                f"width >= 4, got {input_shape!r}."
            )
        if not isinstance(num_classes, int) or num_classes < 2:
            raise ValueError(f"`num_classes` must be an int >= 2, got {num_classes!r}.")
        self.max_blocks = min(3, int(math.log2(min(input_shape[:2]))) - 1)
        super().__init__(
            input_shape=input_shape,
            task="binary" if num_classes == 2 else "multiclass",
            num_outputs=1 if num_classes == 2 else num_classes,
            overrides=overrides,
            name=name,
            tunable=tunable,
        )
        self.num_classes = num_classes

    @classmethod
    def for_data(cls, x: Any, y: Any, **kwargs: Any) -> CNNHyperModel:
        """A template sized for images ``x`` (``(samples, h, w, c)``) and labels ``y``.

        Example:
            >>> import numpy as np
            >>> x, y = np.zeros((6, 8, 8, 1)), np.array([0, 1, 2, 0, 1, 2])
            >>> CNNHyperModel.for_data(x, y).num_classes
            3
        """
        shape = sample_shape(x, y)
        if len(shape) != 3:
            raise ValueError(
                "`x` must be images of shape (samples, height, width, channels); "
                f"got shape {(len(y), *shape)} (add a channel axis with "
                "x[..., None])."
            )
        task, outputs = infer_task(y)
        if task == "regression":
            raise ValueError(
                "`y` must hold class labels for CNNHyperModel, got float targets."
            )
        return cls(shape, 2 if task == "binary" else outputs, **kwargs)

    def _entries(self) -> tuple[Entry, ...]:
        def within_input(value: Any) -> str | None:
            if 1 <= value <= self.max_blocks:
                return None
            return f"must be between 1 and {self.max_blocks} for this input size"

        conv = (
            Entry(
                "conv_blocks",
                "int",
                min(2, self.max_blocks),
                1,
                self.max_blocks,
                check=within_input,
            ),
            Entry("filters", "int", 16, 8, 64, sampling="log", check=at_least(1)),
            Entry("kernel_size", "int", 3, values=(3, 5), check=at_least(1)),
            Entry("pooling", "choice", "max", values=POOLINGS, check=one_of(POOLINGS)),
        )
        head = tuple(
            dataclasses.replace(entry, default=1, min_value=0, max_value=2)
            if entry.name == "num_layers"
            else entry
            for entry in SHARED_ENTRIES
        )
        return conv + head

    def _body(self, hp: keras_tuner.HyperParameters, inputs: Any) -> Any:
        blocks = self._declare(hp, "conv_blocks")
        filters = self._declare(hp, "filters")
        kernel_size = self._declare(hp, "kernel_size")
        pooling = self._declare(hp, "pooling")
        activation = self._declare(hp, "activation")
        initializer = self._declare(hp, "kernel_initializer")
        batch_norm = self._declare(hp, "batch_norm")
        pool = {"max": keras.layers.MaxPooling2D, "avg": keras.layers.AveragePooling2D}
        x = inputs
        for block in range(blocks):
            x = keras.layers.Conv2D(
                filters * 2**block,
                kernel_size,
                padding="same",
                kernel_initializer=initializer,
                use_bias=not batch_norm,
            )(x)
            if batch_norm:
                x = keras.layers.BatchNormalization()(x)
            x = keras.layers.Activation(activation)(x)
            x = pool[pooling](2)(x)
        return x
