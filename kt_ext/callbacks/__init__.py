"""Callbacks for searches: quiet training output and learning-rate schedules."""

from __future__ import annotations

from kt_ext.callbacks._clear_output import ClearTrainingOutput
from kt_ext.callbacks._schedules import (
    SCHEDULE_NAMES,
    HoldThenExponentialDecay,
    StepDecay,
    WarmupCosineDecay,
    hold_then_exponential_decay,
    schedule_callback,
    step_decay,
    warmup_cosine_decay,
)

__all__ = [
    "SCHEDULE_NAMES",
    "ClearTrainingOutput",
    "HoldThenExponentialDecay",
    "StepDecay",
    "WarmupCosineDecay",
    "hold_then_exponential_decay",
    "schedule_callback",
    "step_decay",
    "warmup_cosine_decay",
]
