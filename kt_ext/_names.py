"""Names shared across kt_ext; imports nothing heavy (the CLI reads it first).

Keras Tuner's bookkeeping entries, the tasks a hypermodel handles and the
names of the built-in tuners live here once, so the command line can check its
arguments before TensorFlow or Keras Tuner is imported.
"""

from __future__ import annotations

#: Prefix of Keras Tuner's and kt_ext's bookkeeping entries (``tuner/epochs``).
BOOKKEEPING_PREFIX = "tuner/"

#: The tasks a hypermodel template or a data set is for.
TASKS = ("binary", "multiclass", "regression")

#: Built-in tuners of ``kt_ext.compare``'s registry, the reference first.
BUILTIN_TUNERS = ("hyperband", "random", "bayesian", "coarse_to_fine", "rank_pruning")


def is_bookkeeping(name: str) -> bool:
    """Whether ``name`` is a ``tuner/...`` entry (never narrowed or correlated).

    Example:
        >>> is_bookkeeping("tuner/epochs"), is_bookkeeping("units")
        (True, False)
    """
    return name.startswith(BOOKKEEPING_PREFIX)
