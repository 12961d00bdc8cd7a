"""Start a chief and workers of one command on 127.0.0.1, as on several machines."""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path

from kt_ext._internal.processes import free_port, stop_group

__all__ = ["free_port", "run_local_cluster"]


def run_local_cluster(
    command: Sequence[str],
    workers: int,
    *,
    logs: str | os.PathLike[str],
    env: Mapping[str, str] | None = None,
    worker_env: Mapping[str, Mapping[str, str]] | None = None,
    timeout: float = 300.0,
) -> dict[str, int]:
    """Runs ``command`` as a chief and ``workers`` workers; waits for all.

    Each process gets Keras Tuner's ``KERASTUNER_TUNER_ID`` (``chief``,
    ``tuner0``, ``tuner1``, ...), ``KERASTUNER_ORACLE_IP=127.0.0.1`` and a free
    ``KERASTUNER_ORACLE_PORT``, in a session of its own. Whatever happens,
    every process still running at the end (deadline passed, error) is killed
    with its children.

    Args:
        command: The program and its arguments, the same for every process.
        workers: How many workers besides the chief.
        logs: Folder for each process's standard error (``<tuner id>.err``).
        env: The environment of every process (default: this one's).
        worker_env: Extra variables for some processes, by tuner id.
        timeout: Seconds for the whole cluster.

    Returns:
        Each tuner id's exit code (negative: killed by that signal).

    Raises:
        subprocess.TimeoutExpired: A process had not ended by the deadline.

    Example:
        >>> codes = run_local_cluster(  # doctest: +SKIP
        ...     ["python", "search.py"], workers=2, logs="logs", timeout=120)
        >>> codes  # doctest: +SKIP
        {'chief': 0, 'tuner0': 0, 'tuner1': 0}
    """
    if isinstance(command, str):
        raise TypeError(
            f"`command` must be a list of arguments, got the string {command!r}."
        )
    if isinstance(workers, bool) or not isinstance(workers, int) or workers < 1:
        raise ValueError(f"`workers` must be an int >= 1, got {workers!r}.")
    logs = Path(logs)
    logs.mkdir(parents=True, exist_ok=True)
    base = {
        **(os.environ if env is None else env),
        "KERASTUNER_ORACLE_IP": "127.0.0.1",
        "KERASTUNER_ORACLE_PORT": str(free_port()),
    }
    processes: dict[str, subprocess.Popen] = {}
    try:
        for tuner_id in ["chief", *(f"tuner{i}" for i in range(workers))]:
            extra = (worker_env or {}).get(tuner_id, {})
            with open(logs / f"{tuner_id}.err", "w") as stderr:
                processes[tuner_id] = subprocess.Popen(
                    list(command),
                    env={**base, **extra, "KERASTUNER_TUNER_ID": tuner_id},
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                    start_new_session=True,
                )
        deadline = time.monotonic() + timeout
        return {
            tuner_id: process.wait(timeout=max(0.1, deadline - time.monotonic()))
            for tuner_id, process in processes.items()
        }
    finally:
        for process in processes.values():
            stop_group(process)
