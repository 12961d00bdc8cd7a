"""NumPy data fed to fit() as a tf.data pipeline."""

from __future__ import annotations

import numpy as np
import tensorflow as tf

from kt_ext.hypermodels._pipeline import fit_arguments

X = np.arange(20, dtype="float32").reshape(10, 2)
Y = np.arange(10, dtype="float32")


def batches(dataset):
    return [tuple(part.numpy() for part in batch) for batch in dataset]


def test_arrays_become_batched_pipelines_with_the_same_rows():
    args, kwargs = fit_arguments(
        (X, Y), {"batch_size": 4, "shuffle": False, "validation_data": (X, Y)}
    )
    assert "batch_size" not in kwargs and kwargs["shuffle"] is False
    (train,) = args
    assert isinstance(train, tf.data.Dataset)
    assert train.element_spec[0].shape.as_list() == [None, 2]
    got = batches(train)
    assert [len(x) for x, _ in got] == [4, 4, 2]
    np.testing.assert_array_equal(np.concatenate([x for x, _ in got]), X)
    validation = batches(kwargs["validation_data"])
    np.testing.assert_array_equal(np.concatenate([y for _, y in validation]), Y)


def test_training_rows_are_reshuffled_every_epoch():
    tf.random.set_seed(0)
    (train,), _ = fit_arguments((X, Y), {"batch_size": 10})
    first, second = (batches(train)[0][1] for _ in range(2))
    assert sorted(first) == sorted(second) == list(Y)
    assert not np.array_equal(first, second)


def test_arguments_the_pipeline_cannot_honour_keep_keras_path():
    for extra in ({"sample_weight": np.ones(10)}, {"validation_split": 0.2}):
        args, kwargs = fit_arguments((X, Y), {"batch_size": 4, **extra})
        assert args[0] is X and kwargs["batch_size"] == 4
    args, _ = fit_arguments(([X, X], Y), {})
    assert isinstance(args[0], list)
