"""Garbage collection with the long-lived heap frozen."""

from __future__ import annotations

import gc

from kt_ext._internal.heap import frozen_heap
from kt_ext._internal.seam_training import (
    custom_gradient_names,
    forget_custom_gradients,
)


class Node:
    def __init__(self) -> None:
        self.self = self  # a reference cycle: only the collector frees it


def test_new_garbage_is_still_collected_and_the_heap_thaws():
    before = gc.get_freeze_count()
    with frozen_heap():
        assert gc.get_freeze_count() > before
        with frozen_heap():  # nested: still frozen once
            Node()
            assert gc.collect() >= 1
        assert gc.get_freeze_count() > before
    assert gc.get_freeze_count() == before


def test_only_tensorflows_all_reduce_gradients_are_forgotten():
    import tensorflow as tf

    keep = custom_gradient_names()

    @tf.custom_gradient
    def users_op(x):
        return tf.identity(x), lambda dy: 2 * dy

    @tf.function
    def users_step(x):
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = users_op(x)
        return tape.gradient(y, x)

    @tf.function
    def reduce_step(x):
        return tf.distribute.get_replica_context().all_reduce("sum", x)

    users_step(tf.constant(1.0))
    users_names = custom_gradient_names() - keep
    reduce_step(tf.constant(1.0))
    reduce_names = custom_gradient_names() - keep - users_names
    assert users_names and reduce_names

    assert forget_custom_gradients(keep) == len(reduce_names)
    assert custom_gradient_names() - keep == users_names
    # The user's cached trace still differentiates.
    assert float(users_step(tf.constant(3.0))) == 2.0
