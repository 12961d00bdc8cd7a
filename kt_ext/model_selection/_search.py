"""``kt_ext.SearchCV``: a cross-validated, multi-fidelity search as a scikit-learn
estimator."""

from __future__ import annotations

import dataclasses
import os
import shutil
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.exceptions import NotFittedError
from sklearn.utils import ClassifierTags, RegressorTags, Tags
from sklearn.utils.metaestimators import available_if
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from kt_ext._internal.quiet import quiet_search
from kt_ext._internal.seam_random import preserved
from kt_ext.hypermodels import MLPHyperModel, TemplateHyperModel
from kt_ext.model_selection._refit import refit_best, reports_every_epoch
from kt_ext.model_selection._search_folds import FixedSplits, make_splits
from kt_ext.model_selection._search_results import search_results
from kt_ext.model_selection._search_scoring import model_view, search_objective
from kt_ext.model_selection._search_setup import (
    SEED_NOT_GIVEN,
    build_tuner,
    check_arguments,
    check_template,
    classes_task,
    fit_seed,
    fresh_directory,
    sample_weights,
    target_task,
)
from kt_ext.model_selection._search_trials import (
    FoldRecorder,
    TrialLog,
    follow_trials,
)


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

    Whether it is a classifier or a regressor: :class:`SearchCVClassifier`
    and :class:`SearchCVRegressor` are one before ``fit`` (use them where
    scikit-learn asks, e.g. ``cross_val_score`` stratifies only for a
    classifier). ``SearchCV`` takes its type from a kt_ext template's
    ``task`` before ``fit``, otherwise from the data, as ``cv=k`` decides
    between stratified and plain k-fold: labels (ints, strings, bools, 0/1
    floats) make it a classifier (``predict_proba``; ``score`` is accuracy),
    floats with more than two values a regressor, whole numbers too
    (``score`` is R²). Until then ``is_classifier`` is False.

    Randomness: ``fit`` draws one int seed (see ``random_state``), which
    seeds the oracle, the folds of ``cv=k``, each trial (from the seed and
    the trial id) and the refit; Python's, NumPy's and Keras's global random
    state are as they were when ``fit`` returns.

    Args:
        hypermodel: A kt_ext template, a ``keras_tuner.HyperModel`` or a
            ``model_builder(hp)`` function. ``None``: each ``fit`` builds an
            ``MLPHyperModel`` for the columns of ``X`` and the task of ``y``
            (as ``MLPHyperModel.for_data(X, y)`` does), so the estimator fits
            after any transformer that changes the number of columns. A model
            of a classification must output one sigmoid unit (two classes) or
            one softmax unit per class, for labels encoded as
            ``0..n_classes-1`` in the order of ``classes_``. A model must
            declare its input (``keras.Input``): a trial that continues
            another trial loads its weights into the model before it sees
            data.
        tuner: ``"coarse_to_fine"``, ``"rank_pruning"``, ``"hyperband"``
            (Keras Tuner's Hyperband oracle) or ``"random"`` (Keras Tuner's
            random search, trials of ``max_epochs``).
        objective: A Keras metric name or ``keras_tuner.Objective``. ``None``:
            ``"val_accuracy"`` for classification, ``"val_loss"`` for
            regression. Not with ``scoring``.
        scoring: One scikit-learn scorer (a name or a callable), as
            ``GridSearchCV`` takes it; ``None``: rank by ``objective``. A name
            that a kt_ext template's Keras metrics compute (``accuracy``,
            ``neg_log_loss``; ``neg_mean_squared_error``,
            ``neg_mean_absolute_error``) ranks by that metric at no cost. Any
            other name, any name with another hypermodel, and a callable
            score each fold's model on the fold's validation rows (with their
            ``sample_weight``) at every epoch end, as the search ranks and
            prunes by epoch: a cost per fold-epoch (``mean_score_time``
            shows it; 14 to 26 ms for 114 validation rows of
            breast_cancer, against 200 to 300 ms for the fold's training
            epoch, on a busy 2-core machine).
        refit: Whether to refit the best configuration on all of ``X, y``
            (``best_estimator_``, ``predict``). False leaves ``predict``
            raising ``NotFittedError``.
        cv: Folds: an int >= 2 (stratified k-fold for classification, k-fold
            for regression, shuffled and seeded from the fit's seed), a
            scikit-learn splitter (given ``fit``'s ``groups``) or an iterable
            of ``(train, test)`` row indices (read once per ``fit``).
        max_epochs: Epochs of the longest trial. Default 27.
        epoch_budget: Epochs to train in the search, every fold's counted.
            ``None``: about one Hyperband iteration of ``max_epochs`` (times
            the folds). Hyperband runs as many whole iterations as it pays
            for, random search as many trials.
        random_state: An int (``0`` is a seed like any other), a
            ``numpy.random.RandomState`` (one draw per ``fit``) or ``None``
            (a seed from fresh entropy per ``fit``, never from NumPy's
            global generator).
        n_jobs: ``None`` or ``1``: trials run one after another, in this
            process. ``N > 1``: N trials at a time, in N worker processes on
            this machine (``tuner.search(..., workers=N)``: one GPU each, or
            a share of the CPU cores; see the docs' parallel page); ``-1``:
            one per visible GPU, or per CPU core. With workers, the trials'
            fit and score times are not recorded (NaN in ``cv_results_``)
            and ``verbose`` shows the chief's progress line per trial.
        directory: Each ``fit`` searches in a new subfolder of it (never
            resuming an earlier fit), kept after ``fit`` for
            ``kt_ext.analysis``. ``None``: a temporary folder, deleted when
            ``fit`` returns.
        verbose: 0 prints nothing; 1 one line per trial (its epochs and its
            mean score ± standard deviation over folds); 2 adds fold 0's
            Keras progress bar.
        seed: Deprecated: use ``random_state`` (a ``FutureWarning``; an
            error together with ``random_state``).

    Attributes:
        best_params_: The best configuration's hyperparameters (without
            Keras Tuner's ``tuner/...`` bookkeeping).
        best_score_: Its mean cross-validated score, greater is better: an
            objective that is minimised (``val_loss``) is negated, as
            scikit-learn's ``neg_*`` scorers are.
        best_index_: Its row in ``cv_results_``.
        best_estimator_: The best configuration refit on all of ``X, y``, as
            a fitted scikit-learn estimator (``predict``, ``predict_proba``,
            ``score``); only with ``refit=True``.
        best_model_: The Keras model of ``best_estimator_``.
        refit_time_: Seconds the refit took.
        scorer_: The scorer of ``scoring``'s per-epoch path, or None.
        n_splits_: The number of folds.
        cv_results_: A dict of columns, as ``GridSearchCV`` has it, one row
            per configuration at the most epochs it reached: ``params``,
            ``mean_test_score``, ``std_test_score``, ``split{i}_test_score``,
            ``rank_test_score``, ``mean_fit_time``/``std_fit_time`` (seconds
            the row's trials trained per fold, inherited epochs included),
            ``mean_score_time``/``std_score_time`` (seconds of validation
            per fold), ``n_resources`` (the epochs behind the row's score,
            which a refit trains), ``iter`` (the round), ``trial_id`` and
            ``param_<name>`` (masked where an entry was not active). Scores
            are greater-is-better, negated as ``best_score_`` is.
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
        ...     StandardScaler(), kt_ext.SearchCV(cv=3, max_epochs=9, random_state=0)
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
        scoring: Any = None,
        refit: bool = True,
        cv: Any = 5,
        max_epochs: int = 27,
        epoch_budget: int | None = None,
        random_state: Any = None,
        n_jobs: int | None = None,
        directory: str | os.PathLike | None = None,
        verbose: int = 0,
        seed: Any = SEED_NOT_GIVEN,
    ) -> None:
        self.hypermodel = hypermodel
        self.tuner = tuner
        self.objective = objective
        self.scoring = scoring
        self.refit = refit
        self.cv = cv
        self.max_epochs = max_epochs
        self.epoch_budget = epoch_budget
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.directory = directory
        self.verbose = verbose
        self.seed = seed

    def fit(
        self,
        X: Any,
        y: Any,
        *,
        groups: Any = None,
        sample_weight: Any = None,
        **fit_params: Any,
    ) -> SearchCV:
        """Searches with cross-validation, then refits the best on all of ``X, y``.

        Python's, NumPy's and Keras's global random state are as they were
        when ``fit`` returns (or raises).

        Args:
            X: Numeric array-like of shape ``(n_samples, n_features)``.
            y: Labels or continuous targets, shape ``(n_samples,)``.
            groups: Group labels of the rows, for a group splitter as ``cv``.
            sample_weight: Weights of the rows, split with them: each fold's
                training and validation rows keep their weights, and the
                refit trains with all of them.
            **fit_params: More arguments of every Keras ``fit``, the folds'
                and the refit's (``callbacks``, ``class_weight``, ...).

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
        if sample_weight is not None:
            sample_weight = sample_weights(sample_weight, len(X))
        task = self._fit_task(y)
        if task == "regression":
            self.__dict__.pop("classes_", None)
            targets: np.ndarray = np.asarray(y, dtype=np.float32)
            n_classes = 0
        else:
            self.classes_, targets = np.unique(y, return_inverse=True)
            n_classes = len(self.classes_)
        check_template(self.hypermodel, X.shape[1], task, n_classes)
        self._task = task
        seed = fit_seed(self.random_state, self.seed)
        features = np.asarray(X, dtype=np.float32)
        splits = make_splits(self.cv, features, targets, groups, seed)
        self.n_splits_ = splits.get_n_splits()
        path = fresh_directory(self.directory)
        self.search_directory_ = None if self.directory is None else path
        data = _Data(features, targets, y, sample_weight)
        try:
            with preserved(), quiet_search():
                self._search(data, splits, seed, path, fit_params)
        finally:
            if self.directory is None:
                shutil.rmtree(path, ignore_errors=True)
        return self

    def _search(
        self,
        data: _Data,
        splits: FixedSplits,
        seed: int,
        path: str,
        fit_params: dict[str, Any],
    ) -> None:
        hypermodel = self.hypermodel
        task = self._task
        if hypermodel is None:
            classes = len(self.classes_) if task == "multiclass" else None
            hypermodel = MLPHyperModel(data.x.shape[1:], task, num_classes=classes)
        classifies = task != "regression"
        objective, scorer = search_objective(
            self.scoring,
            self.objective,
            template=isinstance(hypermodel, TemplateHyperModel),
            classifies=classifies,
        )
        tuner = build_tuner(
            self.tuner,
            hypermodel,
            objective=objective,
            max_epochs=self.max_epochs,
            epoch_budget=self.epoch_budget,
            folds=splits.get_n_splits(),
            seed=seed,
            path=path,
        )
        log = TrialLog(
            splits,
            scorer=scorer,
            data=(data.x, data.labels, data.sample_weight),
            classes=self.classes_ if classifies else None,
            progress=self.verbose >= 2,
        )
        follow_trials(tuner, log, verbose=self.verbose, max_epochs=self.max_epochs)
        search_kwargs: dict[str, Any] = {
            **fit_params,
            "cv": splits,
            "verbose": 0,
            "callbacks": [*(fit_params.get("callbacks") or []), FoldRecorder(log)],
        }
        if data.sample_weight is not None:
            search_kwargs["sample_weight"] = data.sample_weight
        if self.tuner == "random":
            search_kwargs["epochs"] = self.max_epochs
        if self.n_jobs not in (None, 1):
            # The trials run in the workers: the chief's display reports them.
            search_kwargs.update(workers=self.n_jobs, verbose=min(self.verbose, 1))
        tuner.search(data.x, data.y, **search_kwargs)
        found = search_results(
            tuner.oracle.trials,
            objective=tuner.oracle.objective.name,
            direction=tuner.oracle.objective.direction,
            absolute_steps=reports_every_epoch(tuner),
            max_epochs=self.max_epochs,
            fold_times=log.times,
        )
        self.cv_results_ = found.cv_results
        self.best_index_ = found.best_index
        self.best_params_ = dict(found.cv_results["params"][found.best_index])
        self.best_score_ = float(found.cv_results["mean_test_score"][found.best_index])
        self.scorer_ = scorer
        for name in ("best_model_", "best_estimator_", "refit_time_"):
            self.__dict__.pop(name, None)
        if not self.refit:
            return
        if data.sample_weight is not None:
            fit_params = {**fit_params, "sample_weight": data.sample_weight}
        started = time.perf_counter()
        self.best_model_ = refit_best(
            tuner.hypermodel,
            found.best_trial.hyperparameters,
            int(found.cv_results["n_resources"][found.best_index]),
            data.x,
            data.y,
            max_epochs=self.max_epochs,
            seed=seed,
            **fit_params,
        )
        self.refit_time_ = time.perf_counter() - started
        self.best_estimator_ = model_view(
            self.best_model_, self.classes_ if classifies else None
        )

    def _fit_task(self, y: np.ndarray) -> str:
        """The task of ``y``: by the estimator's type, else by the data."""
        fixed = self._fixed_type
        if fixed == "classifier":
            check_classification_targets(y)
            return classes_task(np.asarray(y))
        if fixed == "regressor":
            return "regression"
        task = target_task(y)
        template = isinstance(self.hypermodel, TemplateHyperModel)
        if template and self.hypermodel.task == "regression":
            task = "regression"  # integer targets, too
        return task

    def predict(self, X: Any) -> np.ndarray:
        """Class labels (classification) or targets (regression) for ``X``."""
        return self._best().predict(self._features(X))

    @available_if(_classifies)
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for ``X``, one column per class of ``classes_``.

        Raises:
            ValueError: The model's output fits neither one sigmoid unit (two
                classes) nor one unit per class.
        """
        return self._best().predict_proba(self._features(X))

    @available_if(_classifies)
    def predict_log_proba(self, X: Any) -> np.ndarray:
        """The logarithm of :meth:`predict_proba` (``-inf`` for a probability of 0)."""
        with np.errstate(divide="ignore"):
            return np.log(self.predict_proba(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Accuracy (classification) or R² (regression), as scikit-learn's mixins."""
        mixin = RegressorMixin if self._is_regression() else ClassifierMixin
        return mixin.score(self, X, y, sample_weight=sample_weight)

    def _best(self) -> Any:
        check_is_fitted(self)
        if not self.refit:
            raise NotFittedError(
                f"This {type(self).__name__} was fit with refit=False: it has no "
                "best_estimator_ to predict with. Fit it with refit=True, or "
                "read best_params_ and cv_results_."
            )
        return self.best_estimator_

    def _features(self, X: Any) -> np.ndarray:
        X = validate_data(self, X, dtype="numeric", reset=False)
        return np.asarray(X, dtype=np.float32)

    def _is_regression(self) -> bool:
        return self._estimator_type_or_none() == "regressor"

    #: The estimator type of a typed subclass; None: from the data.
    _fixed_type: str | None = None

    def _estimator_type_or_none(self) -> str | None:
        """Fixed by the class, else from the fitted data, else from a template."""
        if self._fixed_type is not None:
            return self._fixed_type
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
            tags.regressor_tags = None
        elif tags.estimator_type == "regressor":
            tags.regressor_tags = RegressorTags()
            tags.classifier_tags = None
        return tags


class SearchCVClassifier(ClassifierMixin, SearchCV):
    """:class:`SearchCV` for classification, a classifier before ``fit``.

    ``is_classifier`` is True, so ``cross_val_score`` stratifies its folds
    and ``VotingClassifier``/``StackingClassifier`` take it; ``y`` must hold
    class labels (any labels: ints, strings, floats), ``score`` is accuracy.
    Arguments and attributes are :class:`SearchCV`'s.

    Example:
        >>> from sklearn.datasets import load_breast_cancer
        >>> from sklearn.model_selection import cross_val_score
        >>> import kt_ext
        >>> X, y = load_breast_cancer(return_X_y=True)
        >>> search = kt_ext.SearchCVClassifier(cv=5, max_epochs=9, random_state=0)
        >>> cross_val_score(search, X, y, cv=3)  # doctest: +SKIP
    """

    _fixed_type = "classifier"


class SearchCVRegressor(RegressorMixin, SearchCV):
    """:class:`SearchCV` for regression, a regressor before ``fit``.

    ``is_regressor`` is True; ``y`` is continuous (whole numbers are
    targets, not classes), ``score`` is R². Arguments and attributes are
    :class:`SearchCV`'s.

    Example:
        >>> from sklearn.datasets import load_diabetes
        >>> import kt_ext
        >>> X, y = load_diabetes(return_X_y=True)
        >>> search = kt_ext.SearchCVRegressor(cv=5, max_epochs=9, random_state=0)
        >>> search.fit(X, y).best_score_  # doctest: +SKIP
    """

    _fixed_type = "regressor"


@dataclasses.dataclass(frozen=True)
class _Data:
    """One fit's rows: features, encoded targets, original labels, weights."""

    x: np.ndarray
    y: np.ndarray
    labels: np.ndarray
    sample_weight: np.ndarray | None
