"""Keeping garbage collection cheap while a search builds model after model."""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator

_depth = 0
# Whether the outermost frozen_heap froze the heap (and so must unfreeze it).
_froze = False


@contextlib.contextmanager
def frozen_heap() -> Iterator[None]:
    """Excludes the objects alive now from garbage collection, until exit.

    Keras Tuner collects garbage before every trial; with TensorFlow loaded a
    full collection walks hundreds of thousands of long-lived objects (about a
    quarter of a second on 2 cores, for every trial). Frozen, those are skipped
    and each collection only looks at what the search created since, which is
    what it needs to free. Nested uses freeze once. When it exits, also by an
    exception, nothing it froze stays frozen. A process that has frozen
    objects of its own (``gc.freeze()``) is left as it is: unfreezing would
    undo its freeze too.

    Example:
        >>> with frozen_heap():
        ...     _ = gc.collect()
    """
    global _depth, _froze
    if _depth == 0:
        _froze = gc.get_freeze_count() == 0
        if _froze:
            gc.collect()
            gc.freeze()
    _depth += 1
    try:
        yield
    finally:
        _depth -= 1
        if _depth == 0 and _froze:
            gc.unfreeze()
            _froze = False
