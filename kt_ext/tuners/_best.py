"""What became of a search's trials, when none of them can be the best."""

from __future__ import annotations

from typing import Any

from keras_tuner.engine.trial import TrialStatus

from kt_ext._internal.names import is_diverged

__all__ = ["no_best_reason"]


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
                last_error = trial.message.strip().splitlines()[-1]
        counts[kind] = counts.get(kind, 0) + 1
    summary = ", ".join(f"{count} {kind}" for kind, count in counts.items())
    reason = f"of {len(trials)} trials, {summary}."
    if last_error:
        reason += f" The last failure: {last_error}"
    return reason
