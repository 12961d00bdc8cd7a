"""What a search says when its trials fail.

Keras Tuner prints each failed trial's traceback and, after
``max_consecutive_failed_trials`` failures in a row, raises an error whose
first line names only the limit. Here the first failure's type and message
lead: the error a user has to fix is usually the first one. A search that
ends with every trial failed, before the limit was reached (``max_trials``
below it), raises too, instead of returning as if it had found something.
"""

from __future__ import annotations

from typing import Any

from keras_tuner.engine.trial import TrialStatus

from kt_ext._internal.names import failure_reason, is_diverged
from kt_ext._internal.seam_oracle import (
    consecutive_failures_message,
    is_consecutive_failures,
)


def check_some_trial_ran(oracle: Any) -> None:
    """Raises when every trial of a search failed with an error.

    A search whose trials all diverged (NaN loss) is left alone: that is a
    result, which ``get_best_hyperparameters`` explains.

    Raises:
        RuntimeError: Every trial ended FAILED, at least one with an error;
            the message names the first failure's type and message.

    Example:
        >>> import keras_tuner
        >>> check_some_trial_ran(keras_tuner.Oracle("val_loss"))  # no trials
    """
    trials = list(oracle.trials.values())
    if not trials or any(trial.status != TrialStatus.FAILED for trial in trials):
        return
    failed = [trial for trial in trials if not is_diverged(trial.message)]
    if not failed:
        return
    first = min(failed, key=lambda trial: trial.trial_id)
    raise RuntimeError(
        f"Every trial of the search failed ({len(trials)} of {len(trials)}); the "
        f"first, trial {first.trial_id}, with {failure_reason(first.message)}"
    )


def name_first_failure(error: RuntimeError, oracle: Any) -> RuntimeError:
    """Keras Tuner's consecutive-failures error, with the first failure named.

    kt_ext's own oracles name it already; a stock oracle's error is rewritten
    from its trials (the failed trials that ended last, in a row). Any other
    error is returned as it is.

    Example:
        >>> import keras_tuner
        >>> error = RuntimeError("disk full")
        >>> name_first_failure(error, keras_tuner.Oracle("val_loss")) is error
        True
    """
    if not is_consecutive_failures(error) or not hasattr(oracle, "end_order"):
        return error
    run = []
    for trial_id in reversed(oracle.end_order):
        trial = oracle.trials[trial_id]
        if trial.status != TrialStatus.FAILED:
            break
        run.append(trial)
    if not run:
        return error
    message = consecutive_failures_message(
        oracle.max_consecutive_failed_trials, run[-1], run[0]
    )
    return RuntimeError(message) if message != str(error) else error


def no_best_reason(oracle: Any) -> str:
    """What became of an oracle's trials, when none completed with a score.

    Example:
        >>> import keras_tuner
        >>> no_best_reason(keras_tuner.Oracle("val_loss"))
        'no trial has run yet (call search() first).'
    """
    if not hasattr(oracle, "trials"):
        return "the trials are on the chief (this is a distributed worker)."
    trials = list(oracle.trials.values())
    if not trials:
        return "no trial has run yet (call search() first)."
    counts: dict[str, int] = {}
    last_error = None
    for trial in trials:
        if trial.status == TrialStatus.FAILED and is_diverged(trial.message):
            kind = "diverged (NaN or infinite loss or objective)"
        elif trial.status in (TrialStatus.RUNNING, TrialStatus.IDLE):
            kind = "still running"
        elif trial.status == TrialStatus.COMPLETED:
            kind = "completed without a finite score"
        else:
            kind = "failed"
            if trial.message:
                last_error = failure_reason(trial.message)
        counts[kind] = counts.get(kind, 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    reason = f"of {len(trials)} trials, {summary}."
    if last_error:
        reason += f" The last failure: {last_error}"
    return reason
