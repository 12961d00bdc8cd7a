"""Names shared across kt_ext; imports nothing heavy (the CLI reads it first).

Keras Tuner's bookkeeping entries, the tasks a hypermodel handles, the names of
the built-in tuners and of the bundled data sets live here once, so the command
line can check its arguments before TensorFlow, Keras Tuner or scikit-learn is
imported.
"""

from __future__ import annotations

#: Prefix of Keras Tuner's and kt_ext's bookkeeping entries (``tuner/epochs``).
BOOKKEEPING_PREFIX = "tuner/"

#: The tasks a hypermodel template or a data set is for.
TASKS = ("binary", "multiclass", "regression")

#: Built-in tuners of ``kt_ext.compare``'s registry, the reference first.
BUILTIN_TUNERS = ("hyperband", "random", "bayesian", "coarse_to_fine", "rank_pruning")

#: ``kt_ext.datasets.NAMES`` (tests/test_cli.py keeps the two the same).
DATASET_NAMES = (
    "breast_cancer",
    "diabetes",
    "digits",
    "digits_images",
    "fashion_mnist",
    "iris",
    "telco_churn",
    "wine",
)


def is_bookkeeping(name: str) -> bool:
    """Whether ``name`` is a ``tuner/...`` entry (never narrowed or correlated).

    Example:
        >>> is_bookkeeping("tuner/epochs"), is_bookkeeping("units")
        (True, False)
    """
    return name.startswith(BOOKKEEPING_PREFIX)
