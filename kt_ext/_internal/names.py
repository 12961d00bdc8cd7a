"""Names shared across kt_ext; imports nothing heavy (the CLI reads it first).

Keras Tuner's bookkeeping entries, the tasks a hypermodel handles, the names
of the built-in tuners and of the bundled data sets, the metric a trial's wall
time is recorded in and the messages of trials that diverged or stopped early
live here once, so the command line can check its arguments before
TensorFlow, Keras Tuner or scikit-learn is imported, and the analysis reads
what the oracles write.
"""

from __future__ import annotations

import re

#: Prefix of Keras Tuner's and kt_ext's bookkeeping entries (``tuner/epochs``).
BOOKKEEPING_PREFIX = "tuner/"

#: The tasks a hypermodel template or a data set is for.
TASKS = ("binary", "multiclass", "regression")

#: Built-in tuners of ``kt_ext.compare``'s registry, the reference first.
BUILTIN_TUNERS = ("hyperband", "random", "bayesian", "coarse_to_fine", "rank_pruning")

#: The bundled data sets, ``kt_ext.datasets.NAMES``.
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


#: Metric in which kt_ext's oracles record a trial's wall-clock seconds so far
#: (its last value is the trial's ``wall_time``; KT 1.4.8 keeps no timings).
WALL_TIME_METRIC = "kt_ext/wall_time"

#: Start of the message of a trial whose loss or objective became NaN or
#: infinite (it ends FAILED), and of one stopped early (it ends COMPLETED).
DIVERGED = "diverged at epoch"
STOPPED_EARLY = "stopped early at epoch"


def diverged_message(epoch: int) -> str:
    """The message of a trial that diverged at ``epoch`` (1-based, as Keras prints).

    Example:
        >>> diverged_message(3)
        'diverged at epoch 3'
    """
    return f"{DIVERGED} {epoch}"


def stopped_early_message(epoch: int) -> str:
    """The message of a trial stopped after ``epoch`` (1-based, as Keras prints).

    Example:
        >>> stopped_early_message(2)
        'stopped early at epoch 2'
    """
    return f"{STOPPED_EARLY} {epoch}"


def epochs_text(epochs: float) -> str:
    """A number of epochs in words, singular for one.

    Example:
        >>> epochs_text(1), epochs_text(3.0)
        ('1 epoch', '3 epochs')
    """
    count = int(epochs) if float(epochs).is_integer() else epochs
    return f"{count} epoch" if count == 1 else f"{count} epochs"


def is_diverged(message: str | None) -> bool:
    """Whether a trial's ``message`` says that it diverged.

    Example:
        >>> is_diverged("diverged at epoch 1"), is_diverged(None)
        (True, False)
    """
    return bool(message) and message.startswith(f"{DIVERGED} ")


# `<metric>_std` and `<metric>_fold<i>`: what a cross-validated trial adds.
_FOLD_METRIC = re.compile(r"^(?P<base>.+)_(?:std|fold\d+)$")


def fold_metric_base(name: str) -> str | None:
    """The metric a cross-validated trial's ``_std``/``_fold<i>`` metric is of.

    Example:
        >>> fold_metric_base("val_loss_fold2"), fold_metric_base("val_loss")
        ('val_loss', None)
    """
    match = _FOLD_METRIC.match(name)
    return match["base"] if match else None
