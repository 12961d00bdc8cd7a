"""Hypermodel templates whose tunables a user fixes, re-ranges or switches off.

Example:
    >>> import keras_tuner as kt
    >>> from kt_ext.hypermodels import MLPHyperModel
    >>> hypermodel = MLPHyperModel(input_shape=(30,), task="binary")
    >>> tuner = kt.RandomSearch(hypermodel, objective="val_accuracy",
    ...                         max_trials=2, overwrite=True)  # doctest: +SKIP
"""

from __future__ import annotations

from kt_ext._internal.tasks import infer_task
from kt_ext.hypermodels._base import TemplateHyperModel
from kt_ext.hypermodels._cnn import CNNHyperModel
from kt_ext.hypermodels._mlp import MLPHyperModel

__all__ = ["CNNHyperModel", "MLPHyperModel", "TemplateHyperModel", "infer_task"]
