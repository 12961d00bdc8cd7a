"""Silencing known, harmless noise: during searches, and on the terminal.

TensorFlow writes information and warning lines to standard error from C++,
some before ``TF_CPP_MIN_LOG_LEVEL`` applies. :func:`quiet_terminal` sends
file descriptor 2 through a filter that drops just those and forwards the rest
as it comes: TensorFlow's error and fatal lines, tracebacks, progress bars. The
filter is this file run as a child process, so that a crash of the search
process cannot lose what is still in the pipe.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import subprocess
import sys
import warnings
from collections.abc import Iterator

# absl's information and warning lines ("I0000 00:00:1796105053.227191  2002
# cudart_stub.cc:31] ..."), its notice before its logging starts, and the
# second line of the CPU-instructions notice. E and F lines always pass.
_DROPPED = re.compile(
    rb"[IW]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\s\]]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: .*rebuild TensorFlow"
)
_MAY_DROP = (b"I", b"W", b"T")  # a line starting so waits for its end
_PIECES = re.compile(rb"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+")  # up to a line end


@contextlib.contextmanager
def quiet_search() -> Iterator[None]:
    """Hides Keras' optimizer-restore warning and TensorFlow's retracing notes.

    Hyperband-style tuners continue a trial from its parent's weights only, and
    Keras warns each time that the saved optimizer state is not restored; many
    small models in one process make TensorFlow log retracing warnings. Both
    are expected in a search and say nothing about the user's model.
    """
    logger = logging.getLogger("tensorflow")
    level = logger.level
    logger.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings():
            warnings.filterwarnings(
                "ignore", message="Skipping variable loading for optimizer"
            )
            yield
    finally:
        logger.setLevel(level)


@contextlib.contextmanager
def quiet_terminal(verbose: bool = False) -> Iterator[None]:
    """Keeps TensorFlow's information and warning lines off standard error.

    Enter it before TensorFlow is imported. The ``tensorflow`` and ``absl``
    Python loggers show errors only. Where descriptor 2 cannot be redirected
    or the filter cannot start, only the loggers are quiet. With ``verbose``
    nothing is hidden.

    Example:
        >>> with quiet_terminal():  # doctest: +SKIP
        ...     import tensorflow  # no "I0000 ... cudart_stub.cc" lines
    """
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    loggers = {logging.getLogger(name): 0 for name in ("tensorflow", "absl")}
    for logger in loggers:
        loggers[logger] = logger.level
        logger.setLevel(logging.ERROR)
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()
    original: int | None = None
    child: subprocess.Popen[bytes] | None = None
    with contextlib.suppress(OSError):  # no descriptor 2, or no filter process
        original = os.dup(2)
        # It ignores Ctrl-C (below), so it forwards this process's traceback.
        child = subprocess.Popen(
            [sys.executable, "-I", "-S", os.path.abspath(__file__)],
            stdin=subprocess.PIPE,
            stdout=original,
        )
        assert child.stdin is not None  # stdin=PIPE
        os.dup2(child.stdin.fileno(), 2)
    try:
        yield
    finally:
        with contextlib.suppress(AttributeError, OSError, ValueError):
            sys.stderr.flush()
        if original is not None:
            os.dup2(original, 2)
            os.close(original)
        if child is not None and child.stdin is not None:
            child.stdin.close()  # the pipe's last write end here
            # Ends at once, unless a process started here still holds the pipe.
            with contextlib.suppress(subprocess.TimeoutExpired):
                child.wait(5)
        for logger, level in loggers.items():
            logger.setLevel(level)


def is_native_log_line(line: bytes) -> bool:
    """Whether ``line`` is a native information or warning line, to be dropped.

    Example:
        >>> is_native_log_line(b"I0000 00:00:1796.2 2223 cudart_stub.cc:31] x")
        True
        >>> is_native_log_line(b"E0000 00:00:1796.2 2223 cuda_platform.cc:52] x")
        False
    """
    return _DROPPED.match(line) is not None


def forward(source: int, target: int) -> None:
    """Copies ``source`` to ``target`` until it ends, minus dropped lines.

    A line that may be dropped (it starts like one) waits for its end, a
    newline or a carriage return; any other is forwarded as it comes (a
    progress bar redraws its line before the line ends).
    """
    out = open(target, "wb", closefd=False)  # noqa: SIM115 (flushed, not closed)
    head, forwarding = b"", None  # None: at a line's start
    while chunk := os.read(source, 65536):
        for piece in _PIECES.findall(chunk):
            ended = piece.endswith((b"\n", b"\r"))
            if forwarding is None:
                head += piece
                if not ended and head.startswith(_MAY_DROP):
                    continue
                forwarding, piece, head = not is_native_log_line(head), head, b""
            if forwarding:
                out.write(piece)
            if ended:
                forwarding = None
        out.flush()
    out.write(b"" if is_native_log_line(head) else head)
    out.flush()


if __name__ == "__main__":
    # Ctrl-C reaches the whole foreground process group, this filter too.
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with contextlib.suppress(OSError):  # the terminal went away
        forward(0, 1)
