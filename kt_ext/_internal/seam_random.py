"""The seam to the global random state a trial trains with: Python's ``random``,
NumPy's global generator, Keras's global seed and ``SeedGenerator``,
TensorFlow's global (eager) seed, and PyTorch's generators on that backend.

:func:`seeded` seeds them all for one trial, as ``keras.utils.set_random_seed``
does, and puts the caller's state back afterwards: a seeded search leaves the
caller's random streams where they were. Keras keeps its part in thread-local
state (``keras.src.backend.common.global_state``), so a trial trains on the
thread that seeded it; cross-validated folds do too, in turn (see
:mod:`kt_ext.tuners._cv`). A thread that did train for a trial would see the
seed only if it applied :func:`keras_seed_state` taken on the trial's thread.
:data:`UPSTREAM` lists the private names used; ``tests/test_seam.py`` checks
that each still exists and behaves as relied on.
"""

from __future__ import annotations

import contextlib
import hashlib
import random
import sys
from collections.abc import Iterator
from typing import Any

import keras
import numpy as np

__all__ = [
    "UPSTREAM",
    "keras_seed_state",
    "preserved",
    "seeded",
    "set_keras_seed_state",
    "set_random_seed",
    "trial_seed",
]

#: Private names of Keras and TensorFlow that the seeding relies on.
UPSTREAM: dict[str, str] = {
    "keras.src.backend.common.global_state": (
        "keras_seed_state / set_keras_seed_state (the thread-local seed and "
        "global SeedGenerator)"
    ),
    "tensorflow.python.eager.context.Context._seed": (
        "preserved (TensorFlow's global eager seed and its op-seed stream, _rng)"
    ),
    "keras.utils.set_random_seed": (
        "set_random_seed (what it sets, without loading TensorFlow off its backend)"
    ),
}

# The names under which keras.utils.set_random_seed keeps its state.
_KERAS_SEED = "global_random_seed"
_KERAS_GENERATOR = "global_seed_generator"


def trial_seed(seed: int, trial_id: str) -> int:
    """The seed of trial ``trial_id`` in a search seeded with ``seed``.

    A hash of both, below 2**31, so that trials get unrelated streams and the
    same trial always the same one.

    Example:
        >>> trial_seed(7, "0003") == trial_seed(7, "0003") != trial_seed(7, "0004")
        True
    """
    digest = hashlib.sha256(f"{int(seed)}:{trial_id}".encode()).digest()
    return int.from_bytes(digest[:4], "big") & 0x7FFFFFFF


def keras_seed_state() -> dict[str, Any]:
    """This thread's Keras seed: ``set_random_seed``'s seed and the global
    ``SeedGenerator`` (the object, which unseeded ``keras.random`` calls advance).

    Example:
        >>> sorted(keras_seed_state())
        ['global_random_seed', 'global_seed_generator']
    """
    from keras.src.backend.common import global_state

    return {
        name: global_state.get_global_attribute(name)
        for name in (_KERAS_SEED, _KERAS_GENERATOR)
    }


def set_keras_seed_state(state: dict[str, Any]) -> None:
    """Makes ``state`` (from :func:`keras_seed_state`) this thread's Keras seed.

    Example:
        >>> set_keras_seed_state(keras_seed_state())
    """
    from keras.src.backend.common import global_state

    for name, value in state.items():
        global_state.set_global_attribute(name, value)


def set_random_seed(seed: int) -> None:
    """``keras.utils.set_random_seed(seed)``, loading no TensorFlow for it.

    Keras seeds TensorFlow whenever it is installed (for ``tf.data``'s
    shuffling), importing it, which costs a JAX or PyTorch search seconds and
    memory. Here TensorFlow is seeded when it is the backend or loaded already
    (the user's data is TensorFlow's); otherwise what Keras sets on the other
    backends is set: its global seed, a new global ``SeedGenerator`` (as Keras
    3.8 and later do), Python's and NumPy's seeds, and PyTorch's on its backend.

    Example:
        >>> set_random_seed(7)
        >>> first = random.random()
        >>> set_random_seed(7)
        >>> random.random() == first
        True
    """
    if keras.backend.backend() == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(seed)
    else:
        _seed_without_tensorflow(seed)


def _seed_without_tensorflow(seed: int) -> None:
    set_keras_seed_state({_KERAS_SEED: seed, _KERAS_GENERATOR: None})
    random.seed(seed)
    np.random.seed(seed)
    if keras.backend.backend() == "torch":
        import torch

        torch.manual_seed(seed)


def _tf_context() -> Any:
    # Loaded by the backend or the user's data; never loaded for this.
    if "tensorflow" not in sys.modules:
        return None
    from tensorflow.python.eager import context

    return context.context()


@contextlib.contextmanager
def seeded(seed: int | None) -> Iterator[None]:
    """Seeds Python, NumPy, Keras and TensorFlow with ``seed``, then restores them.

    Inside, everything ``keras.utils.set_random_seed(seed)`` fixes is fixed:
    weight initialisers, dropout and ``fit``'s shuffling. On exit the state is
    what it was on entry (see :func:`preserved`). ``seed=None`` does nothing,
    and restores nothing.

    Keras's part is thread-local: a thread started inside that trains must
    call ``set_keras_seed_state(state)`` with ``state =
    keras_seed_state()`` taken on this thread after seeding, or its unseeded
    ``keras.random`` calls draw from a ``SeedGenerator`` of its own (seeded
    from Python's ``random``, which, as NumPy's and TensorFlow's seeds, is
    process-wide and needs nothing).

    Example:
        >>> import random
        >>> before = random.getstate()
        >>> with seeded(7):
        ...     first = random.random()
        >>> random.getstate() == before
        True
        >>> with seeded(7):
        ...     first == random.random()
        True
    """
    if seed is None:
        yield
        return
    with preserved():
        set_random_seed(int(seed))
        yield


@contextlib.contextmanager
def preserved() -> Iterator[None]:
    """Puts the global random state back as it was, when the block ends.

    Python's ``random`` state, NumPy's global state, this thread's Keras seed
    and global ``SeedGenerator``, TensorFlow's global seed and op-seed stream
    (when TensorFlow is loaded) and PyTorch's generators (on its backend) are
    restored, also when the block raises.

    Example:
        >>> import random
        >>> before = random.getstate()
        >>> with preserved():
        ...     _ = random.random()
        >>> random.getstate() == before
        True
    """
    python_state = random.getstate()
    numpy_state = np.random.get_state()
    keras_state = keras_seed_state()
    # The generator's position too: Keras before 3.8 keeps the caller's
    # generator through set_random_seed, so a trial's draws would advance it.
    generator = keras_state[_KERAS_GENERATOR]
    generator_position = (
        None if generator is None else keras.ops.copy(generator.state.value)
    )
    context = _tf_context()
    tf_seed = getattr(context, "_seed", None)
    tf_stream = getattr(context, "_rng", None)
    tf_stream_state = tf_stream.getstate() if tf_stream is not None else None
    torch_state = _torch_state()
    try:
        yield
    finally:
        if torch_state is not None:
            _set_torch_state(torch_state)
        random.setstate(python_state)
        np.random.set_state(numpy_state)
        set_keras_seed_state(keras_state)
        if generator is not None:
            generator.state.assign(generator_position)
        if context is not None:
            # Not tf.random.set_seed: it would restart the op-seed stream.
            context._seed = tf_seed
            if tf_stream_state is None:
                context._rng = None
            else:
                context._rng = random.Random()
                context._rng.setstate(tf_stream_state)


def _torch_state() -> Any:
    """PyTorch's CPU and CUDA generator states, on the PyTorch backend."""
    if keras.backend.backend() != "torch":
        return None
    import torch

    cuda = torch.cuda.get_rng_state_all() if torch.cuda.is_available() else None
    return torch.get_rng_state(), cuda


def _set_torch_state(state: Any) -> None:
    import torch

    cpu, cuda = state
    torch.set_rng_state(cpu)
    if cuda is not None:
        torch.cuda.set_rng_state_all(cuda)
