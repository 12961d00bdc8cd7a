"""Local processes of a search: a free port, and stopping a process group."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago.

    Example:
        >>> 0 < free_port() < 65536
        True
    """
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def stop_group(process: subprocess.Popen, grace_s: float = 0.0) -> None:
    """Stops ``process`` and everything in its session, then reaps it.

    The process must have been started in a session of its own
    (``start_new_session=True``), so that its group id is its pid. With
    ``grace_s``, the group gets ``SIGTERM`` first and that long to exit.

    Example:
        >>> import subprocess, sys
        >>> p = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"],
        ...                      start_new_session=True)
        >>> stop_group(p, grace_s=1.0)
        >>> p.poll() is not None
        True
    """
    if process.poll() is None and grace_s > 0:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=grace_s)
    # The group may outlive its leader (a child it started): kill it anyway.
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait()
