"""A worker of ``search(..., workers=N)``: ``python -m kt_ext.tuners._worker``.

Started by :mod:`kt_ext.tuners._launcher` with Keras Tuner's ``KERASTUNER_*``
variables in its environment, the payload's path and the chief's process id
as arguments. It builds the tuner from the payload (always with
``overwrite=False``: the chief's project directory is the search) and runs
Keras Tuner's worker loop until the chief says the search is over. It exits
at once when the chief's process is gone, so that a killed caller leaves no
worker behind.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

_PARENT_POLL_S = 0.5


def watch_parent(parent: int, poll_s: float = _PARENT_POLL_S) -> threading.Thread:
    """Exits this process as soon as ``parent`` is no longer its parent.

    Example:
        >>> watch_parent(chief_pid)  # doctest: +SKIP
    """

    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(poll_s)
        os._exit(1)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


def main(argv: Sequence[str]) -> None:
    """Runs one worker: ``argv`` is the payload's path and the chief's pid."""
    path, parent = argv
    watch_parent(int(parent))
    from kt_ext.tuners._payload import read_payload

    payload = read_payload(Path(path))
    tuner = payload.tuner_class(*payload.args, **payload.kwargs)
    tuner.search(*payload.fit_args, cv=payload.cv, **payload.fit_kwargs)


if __name__ == "__main__":
    main(sys.argv[1:])
