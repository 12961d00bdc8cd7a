"""``kt_ext.SearchCV``: a cross-validated, multi-fidelity search as a scikit-learn
estimator."""

from __future__ import annotations

import os
import shutil
from typing import Any

import keras
import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.utils import ClassifierTags, RegressorTags, Tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted, validate_data

from kt_ext._internal.checks import is_int
from kt_ext._internal.quiet import quiet_search
from kt_ext.hypermodels import MLPHyperModel, TemplateHyperModel
from kt_ext.model_selection._refit import reports_every_epoch, retrain
from kt_ext.model_selection._search_results import search_results
from kt_ext.model_selection._search_setup import (
    build_tuner,
    check_arguments,
    check_template,
    fresh_directory,
)
from kt_ext.model_selection._split import class_labels


def _classifies(estimator: SearchCV) -> bool:
    """Whether ``estimator`` classifies (True while that is not known yet)."""
    return estimator._estimator_type_or_none() != "regressor"


class SearchCV(BaseEstimator):
    """A cross-validated hyperparameter search of a Keras model, as an estimator.

    ``fit(X, y)`` runs a kt_ext search (``tuner.search(X, y, cv=cv)``): every
    configuration trains one model per fold, and the mean over folds after
    each epoch is the objective that ranks, narrows and prunes. The best
    configuration is then refit on all of ``X, y`` for its epochs (those it
    inherited from the trials it continued plus its own up to its best
    epoch), and ``predict`` uses that model.

    Whether it is a classifier or a regressor is decided by the data, as
    ``cv=k`` decides between stratified and plain k-fold: labels (ints,
    strings, bools, 0/1 floats) make it a classifier (``predict_proba``;
    ``score`` is accuracy, as in ``ClassifierMixin``), floats with more than
    two values a regressor, whole numbers too (``score`` is R², as in
    ``RegressorMixin``); cast float class labels to int. A regression
    template as ``hypermodel`` makes int targets a regression too. A kt_ext
    template's ``task`` is known before ``fit``; otherwise scikit-learn's
    ``is_classifier`` is False until ``fit`` has seen the data (so
    ``cross_val_score`` splits with ``KFold``; pass it
    ``cv=StratifiedKFold(...)`` to stratify).

    Args:
        hypermodel: A kt_ext template, a ``keras_tuner.HyperModel`` or a
            ``model_builder(hp)`` function. ``None``: each ``fit`` builds an
            ``MLPHyperModel`` for the columns of ``X`` and the task of ``y``
            (as ``MLPHyperModel.for_data(X, y)`` does), so the estimator fits
            after any transformer that changes the number of columns. A model of a
            classification must output one sigmoid unit (two classes) or one
            softmax unit per class, for labels encoded as ``0..n_classes-1``
            in the order of ``classes_``. A model must declare its input
            (``keras.Input``): a trial that continues another trial loads its
            weights into the model before it sees data.
        tuner: ``"coarse_to_fine"``, ``"rank_pruning"``, ``"hyperband"``
            (Keras Tuner's Hyperband oracle) or ``"random"`` (Keras Tuner's
            random search, trials of ``max_epochs``).
        objective: A metric name or ``keras_tuner.Objective``. ``None``:
            ``"val_accuracy"`` for classification, ``"val_loss"`` for
            regression.
        cv: Folds (an int >= 2: stratified k-fold for classification, k-fold
            for regression, shuffled and seeded from ``seed``) or a
            scikit-learn splitter.
        max_epochs: Epochs of the longest trial. Default 27.
        epoch_budget: Epochs to train in the search, every fold's counted.
            ``None``: about one Hyperband iteration of ``max_epochs`` (times
            the folds). Hyperband runs as many whole iterations as it pays
            for, random search as many trials.
        seed: Seeds the search and Keras' weights (``0`` is a seed like any
            other); ``None`` leaves both random.
        directory: Each ``fit`` searches in a new subfolder of it (never
            resuming an earlier fit), kept after ``fit`` for
            ``kt_ext.analysis``. ``None``: a temporary folder, deleted when
            ``fit`` returns.
        verbose: 0 is silent; 1 shows the search's progress.

    Attributes:
        best_params_: The best configuration's hyperparameters (without
            Keras Tuner's ``tuner/...`` bookkeeping).
        best_score_: Its mean cross-validated objective, greater is better:
            an objective that is minimised (``val_loss``) is negated, as
            scikit-learn's ``neg_*`` scorers are.
        best_index_: Its row in ``cv_results_``.
        best_model_: The Keras model refit on all of ``X, y``.
        cv_results_: A dict of columns, as ``GridSearchCV`` has it, one row
            per configuration at the most epochs it reached: ``params``,
            ``mean_test_score``, ``std_test_score``, ``split{i}_test_score``,
            ``rank_test_score``, ``n_resources`` (the epochs behind the
            row's score, which a refit trains), ``iter`` (the round),
            ``trial_id`` and ``param_<name>`` (masked where an entry was not
            active). Scores are greater-is-better, negated as
            ``best_score_`` is.
        classes_: The class labels (classification only).
        n_features_in_: Columns of ``X``.
        feature_names_in_: Column names, when ``X`` is a DataFrame.
        search_directory_: The folder of this fit's search (None when
            ``directory`` is None).

    Example:
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.model_selection import cross_val_score
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> import kt_ext
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> search = make_pipeline(
        ...     StandardScaler(), kt_ext.SearchCV(cv=3, max_epochs=9, seed=0)
        ... )
        >>> search.fit(X, y).score(X, y)  # doctest: +SKIP
        >>> search[-1].best_params_["learning_rate"]  # doctest: +SKIP
        >>> cross_val_score(search, X, y, cv=3)  # doctest: +SKIP
    """

    def __init__(
        self,
        hypermodel: Any = None,
        *,
        tuner: str = "coarse_to_fine",
        objective: Any = None,
        cv: Any = 5,
        max_epochs: int = 27,
        epoch_budget: int | None = None,
        seed: int | None = None,
        directory: str | os.PathLike | None = None,
        verbose: int = 0,
    ) -> None:
        self.hypermodel = hypermodel
        self.tuner = tuner
        self.objective = objective
        self.cv = cv
        self.max_epochs = max_epochs
        self.epoch_budget = epoch_budget
        self.seed = seed
        self.directory = directory
        self.verbose = verbose

    def fit(self, X: Any, y: Any) -> SearchCV:
        """Searches with cross-validation, then refits the best on all of ``X, y``.

        Args:
            X: Numeric array-like of shape ``(n_samples, n_features)``.
            y: Labels or continuous targets, shape ``(n_samples,)``.

        Returns:
            self.

        Raises:
            TypeError, ValueError: Before any training, for a bad argument
                (the message names it) or data that is not numeric, finite
                and two-dimensional, or does not fit a template
                ``hypermodel``.
            RuntimeError: No configuration completed with a finite score.
        """
        check_arguments(self)
        X, y = validate_data(self, X, y, dtype="numeric")
        task = _task(y)
        template = isinstance(self.hypermodel, TemplateHyperModel)
        if template and self.hypermodel.task == "regression":
            task = "regression"  # integer targets, too
        if task == "regression":
            self.__dict__.pop("classes_", None)
            targets = np.asarray(y, dtype=np.float32)
            n_classes = 0
        else:
            self.classes_, targets = np.unique(y, return_inverse=True)
            n_classes = len(self.classes_)
        check_template(self.hypermodel, X.shape[1], task, n_classes)
        self._task = task
        features = np.asarray(X, dtype=np.float32)
        path = fresh_directory(self.directory)
        self.search_directory_ = None if self.directory is None else path
        try:
            self._search(features, targets, task, path)
        finally:
            if self.directory is None:
                shutil.rmtree(path, ignore_errors=True)
        return self

    def _search(self, x: np.ndarray, y: np.ndarray, task: str, path: str) -> None:
        hypermodel = self.hypermodel
        if hypermodel is None:
            classes = len(self.classes_) if task == "multiclass" else None
            hypermodel = MLPHyperModel(x.shape[1:], task, num_classes=classes)
        objective = self.objective
        if objective is None:
            objective = "val_loss" if task == "regression" else "val_accuracy"
        folds = int(self.cv) if is_int(self.cv) else self.cv.get_n_splits(x, y)
        tuner = build_tuner(
            self.tuner,
            hypermodel,
            objective=objective,
            max_epochs=self.max_epochs,
            epoch_budget=self.epoch_budget,
            folds=folds,
            seed=self.seed,
            path=path,
        )
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        fit_kwargs: dict[str, Any] = {"cv": self.cv, "verbose": self.verbose}
        if self.tuner == "random":
            fit_kwargs["epochs"] = self.max_epochs
        with quiet_search():
            tuner.search(x, y, **fit_kwargs)
            found = search_results(
                tuner.oracle.trials,
                objective=tuner.oracle.objective.name,
                direction=tuner.oracle.objective.direction,
                absolute_steps=reports_every_epoch(tuner),
                max_epochs=self.max_epochs,
            )
            self.cv_results_ = found.cv_results
            self.best_index_ = found.best_index
            self.best_params_ = dict(found.cv_results["params"][found.best_index])
            self.best_score_ = float(
                found.cv_results["mean_test_score"][found.best_index]
            )
            self.best_model_ = retrain(
                tuner.hypermodel,
                found.best_trial.hyperparameters,
                int(found.cv_results["n_resources"][found.best_index]),
                x,
                y,
                max_epochs=self.max_epochs,
                seed=self.seed,
            )

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification) or targets (regression) for ``X``."""
        if self._is_regression():
            raw = self._raw_output(X)
            raw = raw.reshape(len(raw), -1)
            return raw[:, 0] if raw.shape[1] == 1 else raw
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

    @available_if(_classifies)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for ``X``, one column per class of ``classes_``.

        Raises:
            ValueError: The model's output fits neither one sigmoid unit (two
                classes) nor one unit per class.
        """
        raw = self._raw_output(X)
        n_classes = len(self.classes_)
        raw = raw.reshape(len(raw), -1)
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

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R² (regression), as scikit-learn's mixins."""
        mixin = RegressorMixin if self._is_regression() else ClassifierMixin
        return mixin.score(self, X, y, sample_weight=sample_weight)

    def _raw_output(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        X = validate_data(self, X, dtype="numeric", reset=False)
        with quiet_search():  # many small models: TensorFlow's retracing notes
            output = self.best_model_.predict(
                np.asarray(X, dtype=np.float32), verbose=0
            )
        return np.asarray(output)  # the model's precision (float32)

    def _is_regression(self) -> bool:
        return self._estimator_type_or_none() == "regressor"

    def _estimator_type_or_none(self) -> str | None:
        """From the fitted data, else from a template's task, else unknown."""
        task = getattr(self, "_task", None)
        if task is None and isinstance(self.hypermodel, TemplateHyperModel):
            task = self.hypermodel.task
        if task is None:
            return None
        return "regressor" if task == "regression" else "classifier"

    def __sklearn_tags__(self) -> Tags:
        tags = super().__sklearn_tags__()
        tags.target_tags.required = True
        tags.estimator_type = self._estimator_type_or_none()
        if tags.estimator_type == "classifier":
            tags.classifier_tags = ClassifierTags()
        elif tags.estimator_type == "regressor":
            tags.regressor_tags = RegressorTags()
        return tags


def _task(y: np.ndarray) -> str:
    """``binary``, ``multiclass`` or ``regression``, by ``cv=k``'s rule.

    Labels (ints, strings, bools, 0/1 floats) are classes; floats with more
    than two values are regression, whole numbers too (as ``cv=k`` splits
    them with ``KFold``).

    Raises:
        ValueError: ``y`` holds a single class.
    """
    labels = class_labels(y)
    if labels is None:
        return "regression"
    classes = np.unique(labels)
    if len(classes) < 2:
        raise ValueError(
            f"`y` must hold at least two classes, got one class: {classes.tolist()!r}."
        )
    return "binary" if len(classes) == 2 else "multiclass"
