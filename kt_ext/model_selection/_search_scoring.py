"""What a :class:`kt_ext.SearchCV` search ranks by (``objective``, ``scoring``),
and the scikit-learn view of a Keras model that a scorer is given.

``scoring`` is a single metric. ``None`` ranks by the ``objective`` (by default
``val_accuracy`` for classification, ``val_loss`` for regression). A scorer
name that a kt_ext template's compiled metrics already compute maps to that
Keras metric (:data:`TEMPLATE_METRICS`: ``accuracy`` is ``val_accuracy``,
``neg_log_loss`` and ``neg_mean_squared_error`` are ``val_loss``,
``neg_mean_absolute_error`` is ``val_mae``), at no cost. Any other name, any
name with a user's hypermodel, and a callable scorer take the scorer path:
each fold's model, seen as a fitted scikit-learn estimator
(:class:`KerasClassifierView`, :class:`KerasRegressorView`), is scored on
the fold's validation rows at every epoch end, because the search ranks and
prunes on every epoch; the value enters the fold's epoch logs as
``val_score`` before the oracle reads them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import keras
import keras_tuner as kt
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import check_scoring, get_scorer_names

#: Scorer names that a kt_ext template's own Keras metrics compute, by task.
TEMPLATE_METRICS: dict[str, dict[str, kt.Objective]] = {
    "classification": {
        "accuracy": kt.Objective("val_accuracy", "max"),
        "neg_log_loss": kt.Objective("val_loss", "min"),
    },
    "regression": {
        "neg_mean_squared_error": kt.Objective("val_loss", "min"),
        "neg_mean_absolute_error": kt.Objective("val_mae", "min"),
    },
}

#: The epoch-log entry a scorer's value is written to (greater is better).
SCORE_METRIC = "val_score"


def check_scoring_argument(scoring: Any, objective: Any) -> None:
    """Raises unless ``scoring`` is None, one scorer name, or a callable.

    Example:
        >>> check_scoring_argument(["accuracy", "f1"], None)
        Traceback (most recent call last):
        ...
        ValueError: `scoring` must be a single metric (a scorer name or a callable), got ['accuracy', 'f1'].
    """  # noqa: E501
    if scoring is None:
        return
    if isinstance(scoring, list | tuple | set | Mapping):
        raise ValueError(
            "`scoring` must be a single metric (a scorer name or a callable), "
            f"got {scoring!r}."
        )
    if isinstance(scoring, str):
        if scoring not in get_scorer_names():
            raise ValueError(
                "`scoring` must be a scikit-learn scorer name "
                f"(sklearn.metrics.get_scorer_names()), got {scoring!r}."
            )
    elif not callable(scoring):
        raise TypeError(
            f"`scoring` must be None, a scorer name or a callable, got {scoring!r}."
        )
    if objective is not None:
        raise ValueError(
            "Pass either `objective` (a Keras metric) or `scoring` (a scikit-learn "
            f"scorer), not both: got objective={objective!r} and "
            f"scoring={scoring!r}."
        )


def search_objective(
    scoring: Any, objective: Any, *, template: bool, classifies: bool
) -> tuple[Any, Any]:
    """The oracle's objective, and the scorer to run per fold-epoch (or None).

    Args:
        scoring: The estimator's ``scoring`` (checked).
        objective: The estimator's ``objective`` (checked).
        template: Whether the hypermodel is a kt_ext template (or None, which
            builds one), whose compiled metrics :data:`TEMPLATE_METRICS` names.
        classifies: Whether the task is a classification.

    Example:
        >>> objective, scorer = search_objective(
        ...     "accuracy", None, template=True, classifies=True)
        >>> objective.name, objective.direction, scorer
        ('val_accuracy', 'max', None)
    """
    task = "classification" if classifies else "regression"
    if scoring is None:
        if objective is None:
            objective = "val_accuracy" if classifies else "val_loss"
        return objective, None
    if isinstance(scoring, str) and template and scoring in TEMPLATE_METRICS[task]:
        return TEMPLATE_METRICS[task][scoring], None
    scorer = check_scoring(None, scoring=scoring)
    return kt.Objective(SCORE_METRIC, "max"), scorer


def probabilities(raw: np.ndarray, n_classes: int) -> np.ndarray:
    """One column per class from a model's output (one sigmoid for two classes).

    Raises:
        ValueError: The output fits neither one sigmoid unit (two classes)
            nor one unit per class.

    Example:
        >>> probabilities(np.array([[0.25], [1.0]]), 2).tolist()
        [[0.75, 0.25], [0.0, 1.0]]
    """
    raw = np.asarray(raw).reshape(len(raw), -1)
    if n_classes == 2 and raw.shape[1] == 1:
        positive = np.clip(raw[:, 0], 0, 1)
        return np.column_stack([1 - positive, positive])
    if raw.shape[1] != n_classes:
        raise ValueError(
            f"The model outputs {raw.shape[1]} values per sample, but `y` had "
            f"{n_classes} classes: a `hypermodel` for classification must "
            "output one sigmoid unit (two classes) or one unit per class."
        )
    return raw


#: Rows per call of a model in :func:`model_output`.
_BATCH = 4096


def model_output(model: Any, x: Any) -> np.ndarray:
    """``model``'s output for ``x`` (inference mode), as a NumPy array.

    Calls the model on batches directly: ``model.predict`` would trace a
    function for every new model, which costs more than a fold's
    validation rows take to score.
    """
    x = np.asarray(x, dtype=np.float32)
    parts = [
        keras.ops.convert_to_numpy(model(x[start : start + _BATCH], training=False))
        for start in range(0, len(x), _BATCH)
    ]
    return np.concatenate(parts) if parts else np.zeros((0, 1), np.float32)


class KerasRegressorView(RegressorMixin, BaseEstimator):
    """A trained Keras regression model, as a fitted scikit-learn regressor.

    What a scorer is given for each fold's model, and ``best_estimator_``.

    Example:
        >>> view = KerasRegressorView(model)  # doctest: +SKIP
        >>> view.predict(X)  # doctest: +SKIP
    """

    def __init__(self, model: Any = None) -> None:
        self.model = model

    def __sklearn_is_fitted__(self) -> bool:
        return self.model is not None

    def predict(self, X: Any) -> np.ndarray:
        """The model's output for ``X`` (one column flattened)."""
        raw = model_output(self.model, X)
        raw = raw.reshape(len(raw), -1)
        return raw[:, 0] if raw.shape[1] == 1 else raw


class KerasClassifierView(ClassifierMixin, BaseEstimator):
    """A trained Keras classification model, as a fitted scikit-learn classifier.

    Its ``classes_`` are the original labels; a single sigmoid unit gives
    two probability columns.

    Example:
        >>> view = KerasClassifierView(model, np.array(["no", "yes"]))
        ... # doctest: +SKIP
        >>> view.predict_proba(X)  # doctest: +SKIP
    """

    def __init__(self, model: Any = None, classes: Any = None) -> None:
        self.model = model
        self.classes = classes

    @property
    def classes_(self) -> np.ndarray:
        """The class labels, in the order of the probability columns."""
        return np.asarray(self.classes)

    def __sklearn_is_fitted__(self) -> bool:
        return self.model is not None

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities, one column per class of ``classes_``."""
        return probabilities(model_output(self.model, X), len(self.classes_))

    def predict(self, X: Any) -> np.ndarray:
        """The most probable class of each row."""
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def model_view(model: Any, classes: np.ndarray | None) -> BaseEstimator:
    """``model`` as a fitted scikit-learn estimator (classifier with ``classes``)."""
    if classes is None:
        return KerasRegressorView(model)
    return KerasClassifierView(model, classes)
