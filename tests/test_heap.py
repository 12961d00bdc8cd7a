"""Garbage collection with the long-lived heap frozen."""

from __future__ import annotations

import gc

from kt_ext._heap import frozen_heap


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
