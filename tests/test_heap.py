"""Garbage collection with the long-lived heap frozen."""

from __future__ import annotations

import gc

from kt_ext._heap import collect_garbage, frozen_heap


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


def test_survivors_of_a_collection_are_frozen_until_the_heap_thaws():
    before = gc.get_freeze_count()
    with frozen_heap():
        frozen = gc.get_freeze_count()
        survivor = [Node() for _ in range(10)]
        collect_garbage()
        assert gc.get_freeze_count() >= frozen + 10
        del survivor
    assert gc.get_freeze_count() == before
    assert collect_garbage() >= 0  # outside: a plain collection, nothing frozen
    assert gc.get_freeze_count() == before
