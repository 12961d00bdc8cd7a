"""The fidelity-aware tuner base that kt_ext's thin tuners share.

It runs trials the way Keras Tuner's Hyperband tuner does: ``tuner/epochs`` and
``tuner/initial_epoch`` become ``fit``'s ``epochs`` and ``initial_epoch``, and a
trial with ``tuner/trial_id`` starts from that trial's best weights. It works
with any hypermodel, including a plain ``model_builder(hp)`` function. When the
oracle answers IDLE (other workers are finishing a round), it backs off instead
of asking again at once, so a distributed chief is not flooded; in Keras
Tuner's chief/worker mode the chief releases dead workers and exits when the
search ends, and workers send heartbeats while they train (``_distributed``).

With ``search(x, y, cv=...)`` a trial trains one model per fold, epoch by
epoch in turn on the trial's thread, and is scored on the mean fold curve
(:mod:`kt_ext.tuners._cv`; the folds are kept as
:mod:`kt_ext.tuners._cv_state` says).

A trial whose loss or objective becomes NaN or infinite stops training at that
epoch and ends FAILED with the message ``diverged at epoch e``. A rerun with
``overwrite=False`` first declares the hypermodel's entries, so that the
oracle can refuse settings that differ from the saved search's.
"""

from __future__ import annotations

import contextlib
import gc
import math
import time
from typing import Any

import keras
import keras_tuner
from keras_tuner import errors
from keras_tuner.engine.trial import TrialStatus

from kt_ext._internal.checks import check_int
from kt_ext._internal.heap import frozen_heap
from kt_ext._internal.names import diverged_message, fold_metric_base
from kt_ext._internal.seam_oracle import is_chief_process
from kt_ext._internal.seam_random import preserved, seeded, trial_seed
from kt_ext._internal.seam_training import (
    BestEpochWeights,
    TrialDiverged,
    TunerSeam,
    custom_gradient_names,
    forget_custom_gradients,
)
from kt_ext.hypermodels import TemplateHyperModel
from kt_ext.oracles._persistence import check_state_file
from kt_ext.tuners import _distributed
from kt_ext.tuners._cv import run_folds
from kt_ext.tuners._cv_state import CrossValidation
from kt_ext.tuners._dry_step import dry_step
from kt_ext.tuners._failures import (
    check_some_trial_ran,
    name_first_failure,
    no_best_reason,
)
from kt_ext.tuners._launch_plan import check_workers
from kt_ext.tuners._launcher import Relaunchable, search_with_workers
from kt_ext.tuners._lean import LeanTrials
from kt_ext.tuners._preflight import prepared_search
from kt_ext.tuners._progress import install_search_display, search_progress
from kt_ext.tuners._saved_settings import SavedSettings

# Hyperband's arguments that have no meaning here, and what to use instead.
_HYPERBAND_ONLY = {"hyperband_iterations": "epoch_budget"}

_IDLE_WAIT_START_S = 0.05
_IDLE_WAIT_MAX_S = 2.0


def reject_hyperband_only(tuner_name: str, kwargs: dict[str, Any]) -> None:
    """Raises ``TypeError`` for Hyperband-only arguments, naming the replacement."""
    for name, instead in _HYPERBAND_ONLY.items():
        if name in kwargs:
            raise TypeError(
                f"{tuner_name} has no `{name}` argument (got {kwargs[name]!r}); "
                f"bound the search with `{instead}` or `max_trials` instead."
            )


class FidelityTuner(Relaunchable, SavedSettings, CrossValidation, TunerSeam):
    """A ``keras_tuner.Tuner`` for oracles that schedule epochs per trial.

    Args:
        oracle: A :class:`~kt_ext.oracles.RoundOracle` (or any oracle that sets
            ``tuner/epochs`` and friends).
        hypermodel: A ``HyperModel`` or a ``model_builder(hp)`` function; may be
            ``None`` in a subclass that overrides ``run_trial``.
        seed: The search's seed. Each trial seeds Python, NumPy and Keras from
            it and its trial id, and puts the caller's random state back when
            it ends (:func:`~kt_ext._internal.seam_random.seeded`); ``search(cv=k)``
            shuffles the rows with it (never with the oracle's own seed, so
            every oracle given one seed gets the same folds). ``None``: trials
            are not seeded and draw from (and advance) the global state, and
            the folds' seed is drawn once and saved with the split.
        **kwargs: ``keras_tuner.Tuner`` arguments (``directory``,
            ``project_name``, ``overwrite``, ``executions_per_trial``, ...).

    Example:
        >>> import keras_tuner as kt
        >>> oracle = kt.oracles.HyperbandOracle(
        ...     objective="val_accuracy", max_epochs=9, seed=0)
        >>> tuner = FidelityTuner(oracle, model_builder, seed=0)  # doctest: +SKIP
        >>> tuner.search(x, y, cv=5, verbose=0)  # doctest: +SKIP
    """

    # Trials skip work that does not change their results (see `_lean`); False
    # runs them as Keras Tuner does, for benchmarks and equivalence tests.
    _lean_trials = True

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        hypermodel: Any = None,
        *,
        seed: int | None = None,
        **kwargs: Any,
    ) -> None:
        if seed is not None:
            check_int("seed", seed, 0)
            self._search_seed = int(seed)
        # The oracle built here; on a worker, self.oracle becomes Keras Tuner's
        # gRPC client, which does not expose the oracle's own settings.
        self._local_oracle = oracle
        # The oracle charges the epoch budget per model trained; it needs the
        # number before a rerun reloads the saved search (compared there).
        oracle.executions_per_trial = kwargs.get("executions_per_trial", 1)
        self._check_epoch_budget()
        self._diverged: dict[str, int] = {}
        # The whole search's progress instead of Keras Tuner's trial tables.
        install_search_display(oracle, type(self).__name__)
        with self._random_state_kept():  # Keras Tuner builds the hypermodel
            super().__init__(oracle=oracle, hypermodel=hypermodel, **kwargs)
        oracle.executions_per_trial = self.executions_per_trial
        # On a worker, self.oracle is now Keras Tuner's gRPC client, which does
        # not expose this: read it from the oracle built here.
        self._worker_timeout = getattr(oracle, "worker_timeout", None)
        self._max_epochs = getattr(oracle, "max_epochs", None)
        self._idle_wait = 0.0
        self._asked = False
        self._logs_hold_objective = False
        # Custom gradients TensorFlow had registered when the search began.
        self._kept_gradients: frozenset[str] | None = None
        self._lean = LeanTrials()

    def search(
        self, *fit_args: Any, cv: Any = None, workers: int = 1, **fit_kwargs: Any
    ) -> None:
        """Checks the training data, then searches as ``keras_tuner.Tuner`` does.

        In the chief process of Keras Tuner's distributed mode
        (``KERASTUNER_TUNER_ID=chief``) it serves the oracle instead, until
        the search has ended.

        With ``cv``, every trial trains one model per fold of ``x, y`` and is
        scored on the mean of the folds' learning curves (see
        :mod:`kt_ext.tuners._cv`): ``cv=k`` is a shuffled ``StratifiedKFold``
        for classification and ``KFold`` for regression, seeded with the
        tuner's ``seed``; a scikit-learn splitter (given ``groups``) or a list
        of ``(train_rows, validation_rows)`` is used as given. The
        trial's metrics add ``<metric>_std`` and ``<metric>_fold<i>``; every
        fold's epochs count against ``epoch_budget`` (a default budget grows
        by the number of folds). The split is made once and saved with the
        search (resumed runs and distributed workers use it).
        ``get_best_models`` gives each trial's fold-0 model; refit the best
        hyperparameters on all the data for a final model.

        Args:
            *fit_args: ``x``, ``y``, as ``model.fit`` takes them.
            cv: None, an int of at least 2 (the number of folds), a
                scikit-learn splitter (``split``, ``get_n_splits``), or an
                iterable of ``(train_rows, validation_rows)`` (read once).
            workers: Worker processes that train the trials, this process
                serving them (-1: one per GPU, or per CPU core; 1: none, as
                before); see the docs' "Parallel search" page.
            **fit_kwargs: ``model.fit`` arguments; with ``cv``, neither
                ``validation_data`` nor ``validation_split``, and ``groups``
                goes to the splitter. A rerun must repeat ``epochs`` when the
                oracle does not set each trial's epochs.

        Before the first trial it checks the data (a Python list of rows
        becomes an array), a template's labels (``check_targets``), and runs
        one dry step (:mod:`kt_ext.tuners._dry_step`: a model built with the
        space's default values, one batch forward and its loss); it warns
        about a training metric as the objective with validation data, and
        about ``epochs`` that the oracle's ``max_epochs`` overrides.

        Raises:
            ResumeError: A rerun's ``cv``, rows or ``epochs`` differ from the
                saved search's (a ``ValueError``).
            ValueError: Before any training: ``x`` or ``y`` is empty, a list
                that is not a table of numbers, they differ in length (also
                for ``validation_data``), or one of them (or
                ``sample_weight``) holds NaN or infinity (the message names
                the array); a template's labels do not fit its output; the
                dry step failed (the message names the underlying error); or
                ``epoch_budget`` cannot pay for one trial of the first round;
                or ``cv`` is below 2, comes with validation data or
                ``executions_per_trial > 1``, has more folds than the
                smallest class has members; ``groups`` without ``cv``;
                ``workers`` is 0, below -1 or above the visible GPUs.
            TypeError: ``cv`` is neither an int, a splitter nor pairs of rows;
                ``workers`` is no int, or streams data (``tf.data``) to them.
            RuntimeError: ``max_consecutive_failed_trials`` trials failed in a
                row, or every trial failed; the message names the first
                failure's type and message.

        Example:
            >>> tuner.search(x, y, cv=3, epochs=10, verbose=0)  # doctest: +SKIP
            >>> tuner.oracle.get_best_trials()[0].metrics.get_last_value(
            ...     "val_accuracy_std")  # doctest: +SKIP
        """
        workers = check_workers(workers)
        if workers > 1:
            search_with_workers(self, workers, fit_args, fit_kwargs, cv)
            return
        fit_args, fit_kwargs = prepared_search(self, fit_args, fit_kwargs, cv)
        if is_chief_process():
            # Keras Tuner's chief would wait forever for a dead worker.
            if "verbose" in fit_kwargs:
                self.oracle.verbose = fit_kwargs["verbose"]
            self.save()
            _distributed.serve(self.oracle)
            return
        if (
            type(self).run_trial is FidelityTuner.run_trial
            and self.hypermodel is not None
            and self.fits_as_given()
        ):
            dry_step(self, fit_args, fit_kwargs)
        self._kept_gradients = custom_gradient_names()
        try:
            with (
                self._random_state_kept(),
                frozen_heap(),
                search_progress(self.oracle, fit_kwargs) as kwargs,
            ):
                super().search(*fit_args, **kwargs)
            if not self.is_worker():
                check_some_trial_ran(self.oracle)
        finally:
            self._lean.models.clear()
            self.forget_fold_rows()
            forget_custom_gradients(self._kept_gradients)
            self._kept_gradients = None

    def _check_epoch_budget(self) -> None:
        """Raises if the budget cannot pay for one trial of the first round."""
        check = getattr(self._local_oracle, "check_epoch_budget", None)
        if check is not None:
            check()

    def reload(self) -> None:
        """Reloads a saved search, if this tuner's settings are the saved ones.

        The hypermodel's entries are declared first, as a new search declares
        them, so that the oracle compares them with the saved search's.

        Raises:
            ValueError: The tuner's state file (``tuner0.json``) is not valid
                JSON (the message names it), or a setting differs from the
                saved search's (``RoundOracle.read_state`` for kt_ext's
                oracles, :class:`SavedSettings` for Keras Tuner's). Nothing is
                deleted or written.
        """
        check_state_file(self.tuner_state_path())
        with self._random_state_kept():  # the entries are declared by a build
            self.declare_space()
            super().reload()

    def _random_state_kept(self) -> contextlib.AbstractContextManager:
        """A seeded tuner leaves the caller's random state as it found it."""
        return contextlib.nullcontext() if self._search_seed is None else preserved()

    def get_best_hyperparameters(
        self, num_trials: int = 1
    ) -> list[keras_tuner.HyperParameters]:
        """The hyperparameters of the best completed trials, best first.

        Only trials that completed with a finite score count; the list may be
        shorter than ``num_trials`` (Keras Tuner pads it with failed trials).

        Raises:
            RuntimeError: No trial has completed with a finite score; the
                message says what became of the trials.
        """
        return [trial.hyperparameters for trial in self._best_trials(num_trials)]

    def get_best_models(self, num_models: int = 1) -> list[Any]:
        """The best completed trials' models, at their best epoch, best first.

        Raises:
            RuntimeError: No trial has completed with a finite score, as for
                :meth:`get_best_hyperparameters`.
        """
        return [self.load_model(trial) for trial in self._best_trials(num_models)]

    def _best_trials(self, count: int) -> list[keras_tuner.engine.trial.Trial]:
        trials = [
            trial
            for trial in self.oracle.get_best_trials(count)
            if trial.status == TrialStatus.COMPLETED
            and trial.score is not None
            and math.isfinite(trial.score)
        ]
        if not trials:
            raise RuntimeError(
                "No trial has completed with a finite score, so there is no "
                f"best one: {no_best_reason(self.oracle)}"
            )
        return trials

    def trial_guard(self, trial: keras_tuner.engine.trial.Trial) -> Any:
        """A distributed worker tells the chief it is alive while it trains."""
        timeout = self._worker_timeout if self.is_worker() else None
        return _distributed.heartbeat(self.oracle, trial.trial_id, timeout)

    def run_trial(self, trial: keras_tuner.engine.trial.Trial, *args, **kwargs):
        """Trains for the trial's ``tuner/epochs`` from ``tuner/initial_epoch``."""
        # The epoch logs must hold the objective unless the hypermodel's own
        # fit() returns it, or validation does not run every epoch.
        self._logs_hold_objective = (
            self.fits_as_given()
            and self.oracle.objective.name != "default_objective"
            and kwargs.get("validation_freq", 1) == 1
        )
        values = trial.hyperparameters.values
        if "tuner/epochs" in values:
            kwargs["epochs"] = values["tuner/epochs"]
            kwargs["initial_epoch"] = values.get("tuner/initial_epoch", 0)
        seed = (
            None
            if self._search_seed is None
            else trial_seed(self._search_seed, trial.trial_id)
        )
        with seeded(seed):
            if self._folds is not None:
                return run_folds(self, trial, self._folds, args, kwargs)
            return super().run_trial(trial, *args, **kwargs)

    def new_checkpoint(self, trial: keras_tuner.engine.trial.Trial) -> Any:
        """Lean trials keep the best epoch in memory and write it once."""
        if not self._lean_trials:
            return super().new_checkpoint(trial)
        return BestEpochWeights(
            objective=self.oracle.objective,
            filepath=self.checkpoint_path(trial.trial_id),
        )

    def after_executions(
        self, trial: keras_tuner.engine.trial.Trial, checkpoint: Any
    ) -> None:
        """Writes a lean trial's checkpoint, before the trial is reported."""
        if self._lean_trials and not self._finished_elsewhere(trial):
            checkpoint.write()

    def _finished_elsewhere(self, trial: keras_tuner.engine.trial.Trial) -> bool:
        """Whether another worker finished this trial while this one was silent.

        Its checkpoint is then the one to keep: the chief took that result.
        """
        if not self.is_worker():
            return False
        status = self.oracle.get_trial(trial.trial_id).status
        return status in (TrialStatus.COMPLETED, TrialStatus.FAILED)

    def fit_model(
        self, hp: keras_tuner.HyperParameters, model: Any, *args: Any, **kwargs: Any
    ) -> Any:
        """Trains ``model``; lean trials through :class:`LeanTrials`.

        A kt_ext template sizes its learning-rate schedule from the search's
        ``max_epochs``, whatever epochs this trial trains.
        """
        return self._fit(hp, model, args, kwargs)

    def _fit_kwargs(self, kwargs: dict[str, Any]) -> dict[str, Any]:
        if isinstance(self.hypermodel, TemplateHyperModel) and self._max_epochs:
            return {**kwargs, "schedule_epochs": self._max_epochs}
        return kwargs

    def _fit(
        self,
        hp: keras_tuner.HyperParameters,
        model: Any,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        kwargs = self._fit_kwargs(kwargs)
        if not self._lean_trials:
            return super().fit_model(hp, model, *args, **kwargs)
        return self._lean.fit(
            self.hypermodel.fit,
            hp,
            model,
            args,
            kwargs,
            plain_fit=self.fits_as_given(),
        )

    def fits_as_given(self) -> bool:
        """Whether the hypermodel trains with ``model.fit`` as given, unchanged."""
        fit = type(self.hypermodel).fit
        return fit in (keras_tuner.HyperModel.fit, TemplateHyperModel.fit)

    def before_build(self) -> None:
        """Frees the last trial's model and graphs before the next is built.

        Keras Tuner clears the session, which collects garbage, then collects
        again; one collection per trial frees the same memory (and is cheap
        inside ``frozen_heap``), once the registry no longer holds the graphs.
        After a small model, lean trials collect the young generations only: a
        full collection would also walk the models kept for reuse, and
        Python's own full collections, less often than once a trial, free what
        is left.

        Clearing the session resets Keras's global settings; the dtype policy
        and the distribution that the caller set around ``search()`` are set
        again, so every model (every fold's) is built and trained under them.
        """
        policy = keras.config.dtype_policy()
        distribution = keras.distribution.distribution()
        keras.backend.clear_session(free_memory=False)
        keras.config.set_dtype_policy(policy)
        if distribution is not None:
            keras.distribution.set_distribution(distribution)
        if self._kept_gradients is not None:
            forget_custom_gradients(self._kept_gradients)
        gc.collect(1 if self._lean_trials and self._lean.last_model_small else 2)

    def on_epoch_end(
        self,
        trial: keras_tuner.engine.trial.Trial,
        model: keras.Model,
        epoch: int,
        logs: dict[str, Any] | None = None,
    ) -> None:
        """Stops the search at once if the model does not produce the objective."""
        super().on_epoch_end(trial, model, epoch, logs=logs)
        objective = self.oracle.objective
        if self._logs_hold_objective and logs and not objective.has_value(logs):
            produced = sorted(
                name
                for name in logs
                if self._folds is None or not fold_metric_base(name)
            )
            raise errors.FatalValueError(
                f"The objective {objective.name!r} is not among the metrics the "
                f"model produces: {produced}. Pass one of these as `objective`, "
                "or add the metric in compile() (and validation data for val_*)."
            )
        if logs:
            self._stop_if_diverged(trial, epoch, logs)

    def _stop_if_diverged(
        self, trial: keras_tuner.engine.trial.Trial, epoch: int, logs: dict[str, Any]
    ) -> None:
        """Ends the trial at once if its loss or objective is NaN or infinite.

        The epoch is reported to the oracle (which then knows the trial
        diverged, also in distributed mode), and the trial fails with the
        message ``diverged at epoch e`` (``e`` counted from 1, as Keras prints).
        """
        objective = self.oracle.objective
        has_objective = objective.has_value(logs)
        values = [logs.get("loss")]
        if has_objective:
            values.append(objective.get_value(logs))
        if all(value is None or math.isfinite(value) for value in values):
            return
        if has_objective:
            metrics = {key: float(value) for key, value in logs.items()}
            self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
        self._diverged[trial.trial_id] = epoch + 1
        raise TrialDiverged(diverged_message(epoch + 1))

    def on_trial_end(self, trial: keras_tuner.engine.trial.Trial) -> None:
        """Ends a diverged trial FAILED with ``diverged at epoch e``.

        Too many failures in a row raise Keras Tuner's error, led by the first
        failure's type and message (also with Keras Tuner's own oracles).
        """
        epoch = self._diverged.pop(trial.trial_id, None)
        if epoch is not None:
            trial.status = TrialStatus.FAILED
            trial.message = diverged_message(epoch)
        try:
            super().on_trial_end(trial)
        except RuntimeError as error:
            named = name_first_failure(error, self.oracle)
            if named is error:
                raise
            raise named from error

    def pre_create_trial(self) -> None:
        """Backs off while the oracle keeps answering IDLE.

        Keras Tuner's search loop asks again at once after an IDLE answer; two
        ``pre_create_trial`` calls with no trial begun in between mean the last
        answer was IDLE.
        """
        if self._asked:
            self._idle_wait = min(
                _IDLE_WAIT_MAX_S, max(_IDLE_WAIT_START_S, 2 * self._idle_wait)
            )
            time.sleep(self._idle_wait)
        self._asked = True

    def on_trial_begin(self, trial: keras_tuner.engine.trial.Trial) -> None:
        self._asked = False
        self._idle_wait = 0.0
        super().on_trial_begin(trial)
