"""Where a cross-validated search keeps its folds, and how a run finds them.

``search(x, y, cv=...)`` splits the rows once, when the search first starts
(:class:`~kt_ext.model_selection._split.FoldAssignment`). The split is saved
with the search: in the oracle's state for kt_ext's oracles
(``RoundOracle.set_folds``) and, for every oracle (Keras Tuner's own too), in
the tuner's state file (``tuner0.json``, ``chief.json`` in distributed mode).
A resumed run reads it back and a distributed worker reads the chief's:
neither splits again. A run that gives another ``cv`` than the saved search,
or data with another number of rows, is refused before any training.

An int ``cv`` shuffles with the search's seed, the ``seed`` the user gave the
tuner (:class:`~kt_ext.tuners.FidelityTuner`'s ``seed``; kt_ext's tuners pass
theirs), never the oracle's: Keras Tuner's oracles turn ``None`` and ``0``
into a random seed, and comparisons give them another seed than kt_ext's
(``stock_seed``). So the split depends on the data, ``cv`` and that seed
only, and every tuner given one seed is scored on the same folds. Without a
seed, one is drawn once and saved with the split.
"""

from __future__ import annotations

import contextlib
import functools
import json
import os
import secrets
import time
from collections.abc import Callable, Iterator
from typing import Any

from kt_ext._internal.seam_oracle import is_chief_process
from kt_ext._internal.seam_training import BestEpochWeights, SaveBestEpoch
from kt_ext.model_selection._split import (
    FoldAssignment,
    check_cv,
    describe_cv,
    given_splits,
    num_rows,
)
from kt_ext.oracles._resume import Change, resume_error
from kt_ext.tuners._cv import FoldRows, slice_folds
from kt_ext.tuners._lean import LeanTrials

__all__ = [
    "CV_ENTRY",
    "CrossValidation",
    "chief_digest",
    "chief_folds",
    "resolve_folds",
]

#: The chief's bookkeeping entry holding its split's digest, for workers.
CV_ENTRY = "tuner/cv"


class CrossValidation:
    """What :class:`~kt_ext.tuners.FidelityTuner` keeps of a search's folds.

    A mixin: it reads the tuner's ``_local_oracle``, ``_lean``,
    ``_lean_trials``, ``_fit_kwargs`` and ``fits_as_given``, and Keras
    Tuner's ``get_state``/``set_state`` chain.

    Attributes:
        _folds: The folds of ``search(cv=...)``, or None without ``cv``.
        _saved_folds: The same as JSON (what the tuner's state file keeps).
        _fold_rows: The slices of :meth:`fold_rows`, by the data's identity.
    """

    _folds: FoldAssignment | None = None
    _saved_folds: dict[str, Any] | None = None
    #: The search's seed (the tuner's ``seed``), which an int ``cv`` shuffles with.
    _search_seed: int | None = None
    _fold_rows: tuple[tuple[int, int, int], list[FoldRows]] | None = None
    #: True while this process is the chief of ``search(workers=N)``, which
    #: serves the split to its workers as Keras Tuner's chief process does.
    serves_workers: bool = False

    @property
    def folds(self) -> FoldAssignment | None:
        """The split of ``search(cv=...)`` (``.splits``: each fold's rows).

        None before ``search()`` and without ``cv``.

        Example:
            >>> tuner.search(x, y, cv=3)  # doctest: +SKIP
            >>> train_rows, validation_rows = tuner.folds.splits[0]  # doctest: +SKIP
        """
        return self._folds

    def set_folds(self, cv: Any, x: Any, y: Any, fit_kwargs: dict[str, Any]) -> None:
        """Finds the search's folds (saved, the chief's, or new); tells the oracle.

        ``fit_kwargs``' ``groups`` (for a splitter such as ``GroupKFold``) is
        taken out of it; an iterable of splits is read once.

        Raises:
            TypeError, ValueError: As :func:`resolve_folds`; ``groups``
                without ``cv``.
        """
        cv = given_splits(cv)
        groups = fit_kwargs.pop("groups", None)
        if groups is not None and cv is None:
            raise ValueError(
                "`groups` is passed to the splitter of `cv`; got groups without cv."
            )
        oracle = self._local_oracle
        saved = getattr(oracle, "fold_assignment", None) or self._saved_folds
        if self.is_worker():
            saved = chief_folds(self.project_dir, chief_digest(self.oracle), cv)
        folds = resolve_folds(
            cv,
            x,
            y,
            fit_kwargs,
            saved=saved,
            resumed=bool(getattr(oracle, "trials", None)) and not self.is_worker(),
            seed=self._search_seed,
            executions_per_trial=self.executions_per_trial,
            project=self.project_dir,
            groups=groups,
        )
        self._folds = folds
        count = 1 if folds is None else folds.folds
        self._saved_folds = None if folds is None else folds.to_json()
        if hasattr(oracle, "set_folds"):
            oracle.set_folds(count, self._saved_folds)
        else:
            oracle.cv_folds = count  # Keras Tuner's oracles: for the display
        if folds is not None and (is_chief_process() or self.serves_workers):
            # Workers check the split they read against the live chief's.
            oracle.hyperparameters.Fixed(CV_ENTRY, folds.digest())
        # One model per fold of a graph is kept for reuse (lean trials): the
        # same number of models as without cv, for fewer graphs.
        self._lean.models.capacity = max(LeanTrials.CAPACITY, count)

    def fold_rows(self, x: Any, y: Any, sample_weight: Any) -> list[FoldRows]:
        """Each fold's rows of ``x``, ``y`` and ``sample_weight``, sliced once
        per ``search()`` (every trial trains on the same slices).
        """
        key = (id(x), id(y), id(sample_weight))
        if self._fold_rows is None or self._fold_rows[0] != key:
            self._fold_rows = None  # the old slices go before the new are made
            self._fold_rows = (key, slice_folds(self._folds, x, y, sample_weight))
        return self._fold_rows[1]

    def forget_fold_rows(self) -> None:
        """Drops the slices of :meth:`fold_rows` (when ``search()`` ends)."""
        self._fold_rows = None

    def get_state(self) -> dict[str, Any]:
        """The tuner's state: with ``cv``, the search's folds (for any oracle)."""
        state = super().get_state()
        state["cv"] = self._saved_folds
        return state

    def set_state(self, state: dict[str, Any]) -> None:
        super().set_state(state)
        self._saved_folds = state.get("cv")

    @contextlib.contextmanager
    def fit_fold(
        self,
        hp: Any,
        model: Any,
        fold: int,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Iterator[tuple[Any, Callable[[], Any]]]:
        """Fold ``fold``'s model of a cross-validated trial, and its ``fit``.

        Yields the model that trains (lean trials may train a kept twin, kept
        again for fold ``fold`` when the block ends) and a function that runs
        the hypermodel's ``fit`` on it as :meth:`fit_model` would; the block
        ends when the fold has trained (see :mod:`kt_ext.tuners._cv`).
        """
        kwargs = self._fit_kwargs(kwargs)
        training = contextlib.nullcontext(model)
        if self._lean_trials:
            training = self._lean.training(
                model, args, kwargs, plain_fit=self.fits_as_given(), slot=fold
            )
        with training as model:
            fit = functools.partial(self.hypermodel.fit, hp, model, *args, **kwargs)
            yield model, fit

    def fold_checkpoint(self, path: str) -> Any:
        """The callback that keeps one fold's best epoch, in ``path``."""
        if not self._lean_trials:
            return SaveBestEpoch(objective=self.oracle.objective, filepath=path)
        return BestEpochWeights(objective=self.oracle.objective, filepath=path)

    def keeps_checkpoints(self, trial: Any) -> bool:
        """Whether a cross-validated trial writes its folds' kept checkpoints."""
        return self._lean_trials and not self._finished_elsewhere(trial)


# The chief writes its state before it serves; a worker waits this long for it.
_CHIEF_WAIT_S = 60.0
_CHIEF_POLL_S = 0.2


def resolve_folds(
    cv: Any,
    x: Any,
    y: Any,
    fit_kwargs: dict[str, Any],
    *,
    saved: dict[str, Any] | None,
    resumed: bool,
    seed: int | None,
    executions_per_trial: int,
    project: str,
    groups: Any = None,
) -> FoldAssignment | None:
    """The folds a search runs on: the saved ones, or a new split.

    Args:
        cv: ``search()``'s ``cv`` (None: no cross-validation).
        x: The inputs.
        y: The targets.
        fit_kwargs: ``search()``'s other keyword arguments.
        saved: The saved search's :class:`FoldAssignment` as JSON, or None.
        resumed: Whether the saved search has trials already.
        seed: The seed an int ``cv`` shuffles with: the search's, never the
            oracle's. None draws one, saved with the split.
        executions_per_trial: The tuner's; ``cv`` needs 1.
        project: The project directory, for the error of a changed ``cv``.
        groups: Each row's group, for a splitter such as ``GroupKFold``.

    Raises:
        TypeError, ValueError: Bad ``cv`` (see
            :func:`kt_ext.model_selection._split.check_cv` and
            :func:`kt_ext.model_selection._split.fold_indices`); ``cv`` with
            ``executions_per_trial > 1``; a ``cv`` other than the saved
            search's; ``x`` with another number of rows than was split.

    Example:
        >>> import numpy as np
        >>> folds = resolve_folds(2, np.zeros((4, 1)), np.array([0, 1, 0, 1]), {},
        ...     saved=None, resumed=False, seed=0, executions_per_trial=1,
        ...     project="p")
        >>> folds.folds
        2
    """
    if cv is None:
        if saved is not None:
            raise resume_error(project, [Change("cv", saved["cv"], "None")])
        return None
    check_cv(cv, fit_kwargs)
    if executions_per_trial != 1:
        raise ValueError(
            "`cv` trains one model per fold; it cannot be combined with "
            f"executions_per_trial={executions_per_trial!r} (got cv={cv!r})."
        )
    if saved is not None:
        if saved["cv"] != describe_cv(cv):
            raise resume_error(project, [Change("cv", saved["cv"], describe_cv(cv))])
        folds = FoldAssignment.from_json(saved)
        folds.check_rows(x)
        return folds
    if resumed:
        raise resume_error(project, [Change("cv", "None", describe_cv(cv))])
    if y is not None and num_rows(y) != num_rows(x):
        raise ValueError(
            f"`x` and `y` must have the same length, got {num_rows(x)} and "
            f"{num_rows(y)}."
        )
    if seed is None:
        seed = secrets.randbelow(2**32)  # saved with the split, for resumed runs
    return FoldAssignment.split(cv, x, y, seed, groups)


def chief_digest(oracle: Any) -> str | None:
    """The digest of the live chief's split (its ``tuner/cv`` entry), or None."""
    for hp in oracle.get_space().space:
        if hp.name == CV_ENTRY:
            return hp.value
    return None


def chief_folds(
    project_dir: str, digest: str | None, cv: Any, timeout: float = _CHIEF_WAIT_S
) -> dict[str, Any] | None:
    """The chief's folds, as it saved them in ``chief.json``, for a worker.

    The chief writes its split to its state file in the shared project
    directory, and its digest to its search space, before it serves trials;
    a worker waits up to ``timeout`` seconds for the file to hold the split
    of that digest (an older search's file does not count).

    Args:
        project_dir: The shared project directory.
        digest: :meth:`FoldAssignment.digest` of the live chief's split
            (:func:`chief_digest`); None when the chief searches without cv.
        cv: The worker's own ``cv``.

    Raises:
        ValueError: The worker has ``cv`` and the chief not, or the other way
            round; or the chief's split was not readable in time.
    """
    if digest is None:
        if cv is not None:
            raise ValueError(
                f"`cv` must be what the chief searches with: the chief has no "
                f"cv, got cv={cv!r}."
            )
        return None
    if cv is None:
        raise ValueError(
            "`cv` must be what the chief searches with: the chief searches "
            "with cv, got cv=None."
        )
    path = os.path.join(project_dir, "chief.json")
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
            # Not written yet, being written, or another search's.
            with open(path) as file:
                state = json.load(file)["cv"]
            if FoldAssignment.from_json(state).digest() == digest:
                return state
        if time.monotonic() > deadline:
            raise ValueError(
                f"The chief's split of the rows into folds (digest {digest}) "
                f"was not found in {path!r} within {timeout:.0f} s: workers "
                "need the chief's directory on a shared file system."
            )
        time.sleep(_CHIEF_POLL_S)
