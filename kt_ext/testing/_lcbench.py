"""The YAHPO Gym lcbench surrogate as a multi-fidelity objective.

The surrogate (an ONNX model, see ``../shared/data/yahpo_lcbench/README.md``)
predicts the validation accuracy that real MLP training runs on an OpenML task
reached after each epoch. :class:`LCBenchObjective` has the interface of the
synthetic objectives, so :func:`~kt_ext.testing.run_oracle` drives any oracle
on it. It needs ``onnxruntime`` (the ``bench`` extra), imported on first use.
"""

from __future__ import annotations

import functools
import json
import math
import os
from collections.abc import Mapping, Sequence
from typing import Any, ClassVar

import keras_tuner
import numpy as np

# The surrogate's continuous inputs, in its order (epoch first).
_INPUTS = (
    "batch_size",
    "learning_rate",
    "momentum",
    "weight_decay",
    "num_layers",
    "max_units",
    "max_dropout",
)
_VAL_ACCURACY = 1  # column of the surrogate's output
# Development tasks (BENCHMARKS.md): tune defaults on these only.
DEVELOPMENT_TASKS = ("126029", "167181", "167190", "168335", "189909", "189906")


@functools.lru_cache(maxsize=4)
def _session(path: str) -> Any:
    try:
        import onnxruntime
    except ImportError as error:
        raise ImportError(
            "The lcbench surrogate needs onnxruntime: "
            "pip install 'kt-ext[bench]' (or pip install onnxruntime)."
        ) from error
    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = 1
    options.inter_op_num_threads = 1
    return onnxruntime.InferenceSession(
        path, options, providers=["CPUExecutionProvider"]
    )


class LCBenchObjective:
    """Validation accuracy (0-1, max) of an lcbench MLP after 1 to 50 epochs.

    Fidelity ``epoch`` is the surrogate's epoch ``epoch + 1`` (its epoch 1 is
    the untrained network). The surrogate is deterministic: repeated
    evaluations of a configuration give the same curve.

    Attributes:
        name: ``"lcbench_<task_id>"``.
        metric: ``"val_accuracy"``.
        direction: ``"max"``.
        max_epochs: 50.

    Args:
        task_id: An OpenML task id of lcbench, e.g. ``"126029"``.
        data_dir: The folder with ``model.onnx`` and ``encoding.json``.

    Example:
        >>> objective = LCBenchObjective("126029", data_dir="../shared/data/"
        ...                              "yahpo_lcbench")  # doctest: +SKIP
        >>> objective.evaluate({"learning_rate": 1e-2}, 10)  # doctest: +SKIP
        0.87...
    """

    metric: ClassVar[str] = "val_accuracy"
    direction: ClassVar[str] = "max"
    max_epochs: ClassVar[int] = 50

    def __init__(self, task_id: str | int, *, data_dir: str | os.PathLike[str]) -> None:
        model = os.path.join(data_dir, "model.onnx")
        if not os.path.isfile(model):
            raise ValueError(
                f"`data_dir` must hold the surrogate's model.onnx, got {data_dir!r}."
            )
        with open(os.path.join(data_dir, "encoding.json")) as file:
            tasks = json.load(file)["OpenML_task_id"]
        if str(task_id) not in tasks or str(task_id) == "#na#":
            raise ValueError(f"`task_id` must be an lcbench task, got {task_id!r}.")
        self.task_id = str(task_id)
        self.name = f"lcbench_{self.task_id}"
        self._code = int(tasks[self.task_id])
        self._model = os.path.abspath(model)
        self._defaults = keras_tuner.HyperParameters()
        self._declare(self._defaults)

    def __repr__(self) -> str:
        return f"LCBenchObjective({self.task_id!r})"

    @property
    def objective(self) -> keras_tuner.Objective:
        """The Keras Tuner objective to create oracles with."""
        return keras_tuner.Objective(self.metric, self.direction)

    def hyperparameters(self) -> keras_tuner.HyperParameters:
        """A fresh search space: lcbench's seven entries and ranges."""
        hp = keras_tuner.HyperParameters()
        self._declare(hp)
        return hp

    def evaluate(self, values: Mapping[str, Any], epoch: int) -> float:
        """Validation accuracy of a configuration after ``epoch`` epochs.

        Args:
            values: Hyperparameter values (missing entries take their default;
                ``tuner/...`` keys are ignored).
            epoch: Epochs trained, 1 to 50.

        Returns:
            The surrogate's validation accuracy, as a fraction.

        Raises:
            ValueError: If ``epoch`` is not an int in 1..50.
        """
        self._check_epoch(epoch)
        return self._predict([(values, epoch)])[0]

    def noise_free(self, values: Mapping[str, Any], epoch: int) -> float:
        """The same as `evaluate`: the surrogate has no noise.

        Benchmarks score a recommendation by ``noise_free``, which the
        synthetic objectives have too.
        """
        return self.evaluate(values, epoch)

    def noise_free_many(
        self, configs: Sequence[Mapping[str, Any]], epoch: int
    ) -> list[float]:
        """`noise_free` of many configurations in one surrogate call (fast).

        Args:
            configs: Hyperparameter values, one mapping per configuration.
            epoch: Epochs trained, 1 to 50.

        Returns:
            One validation accuracy per configuration, in order.
        """
        self._check_epoch(epoch)
        return self._predict([(values, epoch) for values in configs])

    def curve(self, values: Mapping[str, Any]) -> list[float]:
        """Validation accuracy after each of epochs 1 to 50, in one surrogate call.

        Args:
            values: Hyperparameter values.

        Returns:
            50 scores: ``curve(values)[epoch - 1] == evaluate(values, epoch)``.
        """
        epochs = range(1, self.max_epochs + 1)
        return self._predict([(values, epoch) for epoch in epochs])

    def _check_epoch(self, epoch: Any) -> None:
        if (
            isinstance(epoch, bool)
            or not isinstance(epoch, int | np.integer)
            or not 1 <= epoch <= self.max_epochs
        ):
            raise ValueError(
                f"`epoch` must be an int in 1..{self.max_epochs}, got {epoch!r}."
            )

    def _predict(self, inputs: Sequence[tuple[Mapping[str, Any], int]]) -> list[float]:
        if not inputs:
            return []
        rows = [
            [float(epoch + 1)]
            + [float(values.get(name, self._defaults.get(name))) for name in _INPUTS]
            for values, epoch in inputs
        ]
        output = _session(self._model).run(
            None,
            {
                "x_cat": np.full((len(rows), 1), self._code, dtype=np.int32),
                "x_cont": np.array(rows, dtype=np.float32),
            },
        )[0]
        scores = output[:, _VAL_ACCURACY].astype(float) / 100.0
        return [float(score) if math.isfinite(score) else math.nan for score in scores]

    @staticmethod
    def _declare(hp: keras_tuner.HyperParameters) -> None:
        hp.Int("batch_size", 16, 512, sampling="log", default=64)
        hp.Float("learning_rate", 1e-4, 1e-1, sampling="log", default=1e-2)
        hp.Float("momentum", 0.1, 0.99, default=0.9)
        hp.Float("weight_decay", 1e-5, 0.1, default=1e-4)
        hp.Int("num_layers", 1, 5, default=3)
        hp.Int("max_units", 64, 1024, sampling="log", default=256)
        hp.Float("max_dropout", 0.0, 1.0, default=0.0)
