"""Drive any Keras Tuner oracle on a synthetic objective, without Keras.

`run_oracle` plays the part of KT's `BaseTuner.search` loop: it asks the
oracle for trials with `create_trial`, "trains" them by reading the objective's
learning curve epoch by epoch, reports with `update_trial` and finishes with
`end_trial`, honouring the fidelity entries (`tuner/epochs`,
`tuner/initial_epoch`, `tuner/trial_id`) that Hyperband-style oracles set.
"""

from __future__ import annotations

import contextlib
import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import keras_tuner
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext._internal.checks import check_int
from kt_ext._internal.names import is_bookkeeping
from kt_ext._internal.scores import best_so_far, is_better, is_finite_score, reaches
from kt_ext.testing._objectives import SyntheticObjective

_OracleT = TypeVar("_OracleT", bound=keras_tuner.Oracle)


def best_index(scores: Sequence[float], direction: str) -> int:
    """Index of the first best score (as KT's tuner picks a trial's best epoch).

    Args:
        scores: Finite scores.
        direction: "max" or "min".

    Returns:
        The index of the first best score.

    Example:
        >>> best_index([0.3, 0.5, 0.5, 0.4], "max")
        1
    """
    best = 0
    for index, score in enumerate(scores):
        if is_better(score, scores[best], direction):
            best = index
    return best


@dataclass(frozen=True)
class TrialRecord:
    """What the driver saw of one trial run.

    Attributes:
        trial_id: The oracle's trial id (a retried trial appears again).
        values: Hyperparameter values without `tuner/...` entries.
        status: The trial's status in the oracle after `end_trial`.
        score: Best finite score over the epochs trained (KT's trial score);
            None for a trial that did not complete.
        epochs_trained: Epochs actually trained in this trial.
        cumulative_epochs: Epochs trained by all trials up to this one.
        initial_epoch: `tuner/initial_epoch` (0 for a fresh trial).
        continued_from: `tuner/trial_id`: the trial whose weights it continues.
        stopped_early: Whether the oracle stopped it before its last epoch.
        curve: Score of each epoch trained, from `initial_epoch + 1` on.

    Example:
        >>> record = TrialRecord("0", {"x": 1}, "COMPLETED", 0.9, 3, 3, 0, None,
        ...                      False, (0.5, 0.8, 0.9))
        >>> record.score
        0.9
    """

    trial_id: str
    values: dict[str, Any]
    status: str
    score: float | None
    epochs_trained: int
    cumulative_epochs: int
    initial_epoch: int
    continued_from: str | None
    stopped_early: bool
    curve: tuple[float, ...]


@dataclass
class DriverResult:
    """The trials of one `run_oracle` call, in the order they ran.

    Attributes:
        metric: The objective's metric name.
        direction: "max" or "min".
        trials: One record per trial run.
        oracle_stopped: Whether the oracle ended the search (STOPPED) rather
            than the driver's `max_trials`.

    Example:
        >>> result = DriverResult("val_loss", "min")
        >>> result.total_epochs, result.best_score
        (0, None)
    """

    metric: str
    direction: str
    trials: list[TrialRecord] = field(default_factory=list)
    oracle_stopped: bool = False

    @property
    def total_epochs(self) -> int:
        """Epochs trained by all trials.

        Example:
            >>> DriverResult("val_loss", "min").total_epochs
            0
        """
        return self.trials[-1].cumulative_epochs if self.trials else 0

    @property
    def best_trial(self) -> TrialRecord | None:
        """The first completed trial with the best score, or None.

        Example:
            >>> DriverResult("val_loss", "min").best_trial is None
            True
        """
        best = None
        for record in self._scored():
            if best is None or is_better(record.score, best.score, self.direction):
                best = record
        return best

    @property
    def best_score(self) -> float | None:
        """Score of `best_trial`, or None.

        Example:
            >>> DriverResult("val_loss", "min").best_score is None
            True
        """
        best = self.best_trial
        return None if best is None else best.score

    @property
    def best_values(self) -> dict[str, Any] | None:
        """Values of `best_trial`, or None.

        Example:
            >>> DriverResult("val_loss", "min").best_values is None
            True
        """
        best = self.best_trial
        return None if best is None else dict(best.values)

    def best_so_far(self) -> list[tuple[int, float]]:
        """Anytime curve: (cumulative epochs, best score so far) after each trial.

        Points start at the first completed trial.

        Returns:
            One point per trial from the first scored one on.

        Example:
            >>> DriverResult("val_loss", "min").best_so_far()
            []
        """
        scores = [
            record.score if _has_score(record) else None for record in self.trials
        ]
        curve = best_so_far(scores, self.direction)
        return [
            (record.cumulative_epochs, best)
            for record, best in zip(self.trials, curve, strict=True)
            if is_finite_score(best)
        ]

    def epochs_to_reach(self, score: float) -> int | None:
        """Cumulative epochs when the best score first reached `score`.

        Args:
            score: The target, e.g. Hyperband's final best on the same task.

        Returns:
            The epochs at the end of the first trial whose score matches or
            beats `score`; None if none did.

        Example:
            >>> DriverResult("val_loss", "min").epochs_to_reach(0.3) is None
            True
        """
        for epochs, best in self.best_so_far():
            if reaches(best, score, self.direction):
                return epochs
        return None

    def rows(self) -> list[dict[str, Any]]:
        """One dict per trial, ready for `pandas.DataFrame`.

        Keys: `trial_id`, `status`, `score`, `epochs` (trained in the trial),
        `cumulative_epochs`, `initial_epoch`, `continued_from`,
        `stopped_early`, and `hp_<name>` for each value.

        Returns:
            The rows, in run order.

        Example:
            >>> DriverResult("val_loss", "min").rows()
            []
        """
        return [
            {
                "trial_id": record.trial_id,
                "status": record.status,
                "score": record.score,
                "epochs": record.epochs_trained,
                "cumulative_epochs": record.cumulative_epochs,
                "initial_epoch": record.initial_epoch,
                "continued_from": record.continued_from,
                "stopped_early": record.stopped_early,
                **{f"hp_{name}": value for name, value in record.values.items()},
            }
            for record in self.trials
        ]

    def _scored(self) -> Iterator[TrialRecord]:
        return (record for record in self.trials if _has_score(record))


def _has_score(record: TrialRecord) -> bool:
    return record.status == TrialStatus.COMPLETED and is_finite_score(record.score)


def make_oracle(
    oracle_cls: type[_OracleT],
    objective: SyntheticObjective,
    *,
    verbose: int = 0,
    **kwargs: Any,
) -> _OracleT:
    """Create an oracle for `objective`'s metric and search space.

    Args:
        oracle_cls: Any `keras_tuner.Oracle` subclass.
        objective: The synthetic objective to search.
        verbose: Verbosity of the oracle's trial display (KT prints a table per
            trial at 1).
        **kwargs: Passed to `oracle_cls`, e.g. `max_trials`, `seed`,
            `max_epochs`, `factor`.

    Returns:
        The oracle, created with `objective=objective.objective` and
        `hyperparameters=objective.hyperparameters()`.

    Example:
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective
        >>> oracle = make_oracle(RandomSearchOracle, get_objective("mlp"),
        ...                      max_trials=5, seed=1)
        >>> oracle.objective.name
        'val_loss'
    """
    oracle = oracle_cls(
        objective=objective.objective,
        hyperparameters=objective.hyperparameters(),
        **kwargs,
    )
    oracle.verbose = verbose
    return oracle


def run_oracle(
    oracle: keras_tuner.Oracle,
    objective: SyntheticObjective,
    *,
    max_trials: int | None = None,
    epochs: int | None = None,
    directory: str | os.PathLike[str] | None = None,
    report_every_epoch: bool = True,
    tuner_id: str = "tuner0",
    on_trial_end: Callable[[keras_tuner.Oracle, TrialRecord], None] | None = None,
) -> DriverResult:
    """Run a search with `oracle` on `objective`, as KT's tuner would.

    Each trial trains from `tuner/initial_epoch` (else 0) to `tuner/epochs`
    (else `epochs`, else 1). With `report_every_epoch`, each epoch's score is
    sent with `update_trial(trial_id, {metric: score}, step=epoch)` (0-based
    epoch); if the returned trial's status is STOPPED, the trial stops there
    (a pruned trial) and ends COMPLETED with the epochs it trained. Otherwise
    one report at the end gives the best epoch's score at that epoch, as KT's
    stock `Tuner` does. A non-finite score is reported, stops the trial and
    ends it FAILED, with a message. Before the first trial, the objective's
    entries are added to the oracle's space with `update_space`, as KT's
    tuner does at search start (a no-op for an oracle from `make_oracle`).

    Args:
        oracle: Any KT oracle created with `objective=objective.objective`
            (see `make_oracle`).
        objective: The synthetic objective to "train".
        max_trials: Stop after this many trials, whatever the oracle's own
            `max_trials`; None runs until the oracle answers STOPPED.
        epochs: Epochs of a trial without `tuner/epochs`; None means 1.
        directory: Folder for the oracle's files (project name: the
            objective's name). None keeps an oracle's existing project folder,
            or uses a temporary one removed at the end (pass a folder to keep
            the files, e.g. to reload the oracle).
        report_every_epoch: Report every epoch (lets an oracle prune), or once
            at the end.
        tuner_id: The id the trials are requested under.
        on_trial_end: Called with the oracle and the trial's record after
            each `end_trial`, e.g. to read the recommendation
            (`oracle.get_best_trials(1)`) as the search goes.

    Returns:
        The trials run, with totals and anytime curves.

    Raises:
        TypeError: If `max_trials` or `epochs` is not an int.
        ValueError: If an argument is invalid, the oracle optimizes another
            objective, or a trial has no epoch to train.
        RuntimeError: If the oracle answers IDLE (nothing else is running, so
            it would wait forever) or another unexpected status.

    Example:
        >>> from keras_tuner.oracles import RandomSearchOracle
        >>> from kt_ext.testing import get_objective
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(RandomSearchOracle, objective, max_trials=4, seed=1)
        >>> result = run_oracle(oracle, objective, epochs=3)
        >>> result.total_epochs
        12
    """
    for name, value in (("max_trials", max_trials), ("epochs", epochs)):
        if value is not None:
            check_int(name, value, 1)
    _check_objective(oracle, objective)
    result = DriverResult(objective.metric, objective.direction)
    with _project_dir(oracle, directory, objective.name):
        oracle.update_space(objective.hyperparameters())
        while max_trials is None or len(result.trials) < max_trials:
            trial = oracle.create_trial(tuner_id)
            if trial.status == TrialStatus.STOPPED:
                result.oracle_stopped = True
                break
            if trial.status != TrialStatus.RUNNING:
                raise RuntimeError(_unexpected_status_message(oracle, trial))
            record = _run_trial(
                oracle,
                objective,
                trial,
                default_epochs=epochs or 1,
                report_every_epoch=report_every_epoch,
                epochs_before=result.total_epochs,
            )
            result.trials.append(record)
            if on_trial_end is not None:
                on_trial_end(oracle, record)
    return result


def _run_trial(
    oracle: keras_tuner.Oracle,
    objective: SyntheticObjective,
    trial: Trial,
    *,
    default_epochs: int,
    report_every_epoch: bool,
    epochs_before: int,
) -> TrialRecord:
    start, stop = trial_epochs(trial, default_epochs)
    curve: list[float] = []
    for epoch in range(start, stop):
        score = objective.evaluate(trial.hyperparameters.values, epoch + 1)
        curve.append(score)
        reports = report_every_epoch or not math.isfinite(score)
        if reports and not report_epoch(oracle, objective, trial, epoch, score):
            break
    return end_run(
        oracle,
        objective,
        trial,
        curve,
        span=(start, stop),
        report_best=not report_every_epoch,
        epochs_before=epochs_before,
    )


def trial_epochs(trial: Trial, default_epochs: int) -> tuple[int, int]:
    """``(tuner/initial_epoch, tuner/epochs)`` of a trial; 0-based start, end.

    Raises:
        ValueError: If the trial has no epoch to train.
    """
    values = trial.hyperparameters.values
    start = int(values.get("tuner/initial_epoch", 0))
    stop = int(values.get("tuner/epochs", default_epochs))
    if stop <= start:
        raise ValueError(
            f"Trial {trial.trial_id!r} has no epoch to train: tuner/epochs={stop}, "
            f"tuner/initial_epoch={start}."
        )
    return start, stop


def report_epoch(
    oracle: keras_tuner.Oracle,
    objective: SyntheticObjective,
    trial: Trial,
    epoch: int,
    score: float,
) -> bool:
    """Reports 0-based ``epoch``'s score; whether the trial trains on.

    A non-finite score, or a STOPPED answer (the oracle pruned it), ends it.
    """
    metrics = {objective.metric: score}
    reported = oracle.update_trial(trial.trial_id, metrics, step=epoch)
    return math.isfinite(score) and reported.status != TrialStatus.STOPPED


def end_run(
    oracle: keras_tuner.Oracle,
    objective: SyntheticObjective,
    trial: Trial,
    curve: Sequence[float],
    *,
    span: tuple[int, int],
    report_best: bool,
    epochs_before: int,
) -> TrialRecord:
    """Ends a trial that trained ``curve`` (one score per epoch) with the oracle.

    ``span`` is the trial's :func:`trial_epochs`. With ``report_best``, the
    best epoch's score is reported first, at that epoch, as KT's stock tuner
    does. A trial whose last score is not finite
    ends FAILED with a message; otherwise COMPLETED.

    Returns:
        The trial's record.
    """
    values = trial.hyperparameters.values
    start, stop = span
    metric = objective.metric
    finite = math.isfinite(curve[-1])
    if finite and report_best:
        best = best_index(curve, objective.direction)
        oracle.update_trial(trial.trial_id, {metric: curve[best]}, step=start + best)
    if finite:
        trial.status = TrialStatus.COMPLETED
    else:
        trial.status = TrialStatus.FAILED
        trial.message = (
            f"{metric} is {curve[-1]} at epoch {start + len(curve)}: "
            "the configuration diverged."
        )
    oracle.end_trial(trial)
    return TrialRecord(
        trial_id=trial.trial_id,
        values={k: v for k, v in values.items() if not is_bookkeeping(k)},
        status=oracle.get_trial(trial.trial_id).status,
        score=curve[best_index(curve, objective.direction)] if finite else None,
        epochs_trained=len(curve),
        cumulative_epochs=epochs_before + len(curve),
        initial_epoch=start,
        continued_from=values.get("tuner/trial_id"),
        stopped_early=finite and len(curve) < stop - start,
        curve=tuple(curve),
    )


@contextlib.contextmanager
def _project_dir(
    oracle: keras_tuner.Oracle,
    directory: str | os.PathLike[str] | None,
    project_name: str,
) -> Iterator[None]:
    if directory is not None:
        oracle._set_project_dir(os.fspath(directory), project_name)
        yield
    elif getattr(oracle, "_directory", None) is None:
        with tempfile.TemporaryDirectory(prefix="kt_ext_driver_") as temporary:
            oracle._set_project_dir(temporary, project_name)
            yield
    else:
        yield


def _check_objective(oracle: keras_tuner.Oracle, objective: SyntheticObjective) -> None:
    expected = objective.objective
    if expected != oracle.objective:
        raise ValueError(
            f"`oracle` must optimize {expected} (create it with "
            f"objective=objective.objective, or with make_oracle), "
            f"got {oracle.objective}."
        )


def _unexpected_status_message(oracle: keras_tuner.Oracle, trial: Trial) -> str:
    name = type(oracle).__name__
    if trial.status == TrialStatus.IDLE:
        return (
            f"{name}.create_trial returned an IDLE trial in a single-process run "
            "with no trial running: it would never get a trial. An oracle may "
            "answer IDLE only while other trials are still running."
        )
    return (
        f"{name}.create_trial returned a trial with status {trial.status!r}; "
        "expected RUNNING or STOPPED."
    )
