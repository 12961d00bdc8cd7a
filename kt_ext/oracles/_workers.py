"""Dead workers in Keras Tuner's distributed mode: noticed, released, replaced.

A worker that goes silent for ``worker_timeout`` seconds counts as dead: its
trial goes to the next worker that asks (without using up a retry, and
without its epochs being charged twice), and the chief stops waiting for it.
A worker that was only slow is taken at its word if nobody else has finished
its trial; otherwise its late report is dropped. :class:`WorkerRelease` is
the part of the oracle that knows who was heard from when; the oracle hands
a released worker's trial back, under its lock.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["WorkerRelease"]


class WorkerRelease:
    """When each worker was last heard from, and which are silent too long.

    Every request about a trial counts as a sign of life from the worker
    running it.

    Args:
        worker_timeout: Seconds of silence after which a worker counts as
            dead; ``None`` waits forever, as Keras Tuner does.

    Example:
        >>> release = WorkerRelease(60)
        >>> release.hear("w0")
        >>> release.silent(["w0"])  # heard just now
        []
    """

    def __init__(self, worker_timeout: float | None) -> None:
        self.timeout = worker_timeout
        # When each tuner id was last heard from (this process's clock).
        self.heard: dict[str, float] = {}

    def hear(self, tuner_id: str) -> None:
        """Records a sign of life from ``tuner_id``."""
        self.heard[tuner_id] = time.monotonic()

    def hear_from(self, trial_id: str, ongoing: Mapping[str, Any]) -> None:
        """Records a sign of life from the worker running ``trial_id``.

        Args:
            trial_id: The trial a request was about.
            ongoing: Tuner id -> its running trial (Keras Tuner's
                ``ongoing_trials``).
        """
        for tuner_id, trial in ongoing.items():
            if trial.trial_id == trial_id:
                self.heard[tuner_id] = time.monotonic()

    def silent(self, tuner_ids: Iterable[str]) -> list[tuple[str, float]]:
        """The workers silent for longer than the timeout, forgotten here.

        A worker never heard from counts from now on.

        Returns:
            ``(tuner id, seconds silent)`` in tuner-id order.
        """
        if self.timeout is None:
            return []
        now = time.monotonic()
        found = []
        for tuner_id in sorted(tuner_ids):
            seconds = now - self.heard.setdefault(tuner_id, now)
            if seconds > self.timeout:
                del self.heard[tuner_id]
                found.append((tuner_id, seconds))
        return found
