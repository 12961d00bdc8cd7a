"""Keras Tuner's chief/worker mode, made to survive dead workers.

Keras Tuner runs a search on several machines when each process is started
with ``KERASTUNER_TUNER_ID`` (``"chief"`` for the one serving the oracle,
anything else for a worker), ``KERASTUNER_ORACLE_IP`` and
``KERASTUNER_ORACLE_PORT``. Its chief waits for every worker that ever asked
for a trial, so one killed worker keeps it waiting forever. Here the chief
releases workers silent for ``oracle.worker_timeout`` seconds (their trial goes
to another worker) and exits once the search has ended, and a worker sends a
heartbeat while it trains, so that a long trial is not mistaken for a dead
worker.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from typing import Any

import keras_tuner

from kt_ext._internal.seam_oracle import serve_oracle

_POLL_S = 1.0
_MAX_HEARTBEAT_S = 10.0


def serve(
    oracle: keras_tuner.Oracle,
    poll_s: float = _POLL_S,
    *,
    address: str | None = None,
    on_poll: Callable[[], Any] | None = None,
) -> None:
    """Serves ``oracle`` to the workers until the search has ended.

    Keras Tuner's own server loop, plus: every ``poll_s`` seconds, workers
    silent for longer than ``oracle.worker_timeout`` are released (see
    ``RoundOracle.release_silent_workers``), then ``on_poll`` is called (it
    may raise to stop serving). The server stops once a worker has been told
    the search is over, no trial is running and every worker still known has
    been told so too.

    Args:
        oracle: The oracle to serve.
        poll_s: Seconds between two checks.
        address: ``"ip:port"`` to serve on; default Keras Tuner's
            ``KERASTUNER_ORACLE_IP`` and ``KERASTUNER_ORACLE_PORT``.
        on_poll: Called every ``poll_s`` seconds, after the release.

    Example:
        >>> # In the process started with KERASTUNER_TUNER_ID=chief:
        >>> serve(tuner.oracle)  # doctest: +SKIP
    """
    release: Callable[[], list[str]] = getattr(
        oracle, "release_silent_workers", lambda: []
    )

    def poll() -> None:
        release()
        if on_poll is not None:
            on_poll()

    serve_oracle(oracle, poll_s, poll, address)


@contextlib.contextmanager
def heartbeat(
    oracle: Any, trial_id: str, worker_timeout: float | None
) -> Iterator[None]:
    """Asks the chief for ``trial_id`` every ``worker_timeout / 4`` seconds.

    The chief counts any request about a trial as a sign of life from the
    worker running it. At most every 10 s; nothing when ``worker_timeout`` is
    None. Errors (a chief that has gone) are left to the search loop to meet.

    Example:
        >>> with heartbeat(oracle_client, "07", worker_timeout=120):  # doctest: +SKIP
        ...     train()
    """
    if worker_timeout is None:
        yield
        return
    interval = min(_MAX_HEARTBEAT_S, worker_timeout / 4)
    done = threading.Event()

    def beat() -> None:
        while not done.wait(interval):
            with contextlib.suppress(Exception):
                oracle.get_trial(trial_id)

    thread = threading.Thread(target=beat, name=f"heartbeat-{trial_id}", daemon=True)
    thread.start()
    try:
        yield
    finally:
        # Not joined: a beat may wait for an unreachable chief for long.
        done.set()
