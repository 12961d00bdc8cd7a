"""Silencing known, harmless noise: during searches, and on the terminal.

:func:`quiet_search` hides Keras' and TensorFlow's expected search warnings.
:func:`quiet_terminal` keeps TensorFlow's native log lines (absl, CUDA) off
the terminal: TensorFlow 2.21 writes them to the process's standard error
from C++, at import and later (the first model, the first fit), and
``TF_CPP_MIN_LOG_LEVEL`` does not silence the ones written before absl's
logging starts. So standard error is passed through a filter that drops
exactly those lines and forwards everything else (the user's errors, Python
tracebacks, progress bars) as it comes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import re
import sys
import threading
import warnings
from collections.abc import Iterator

# absl/glog lines ("I0000 00:00:1796105053.227191    2002 cudart_stub.cc:31] ..."
# before absl knows the time, "I1201 06:04:04.227191 ..." after),
# absl's notice before its logging starts, and the second line of TensorFlow's
# CPU-instructions notice.
_NATIVE_LOG_LINE = re.compile(
    rb"[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ [^\s\]]+:\d+\] "
    rb"|WARNING: All log messages before absl::InitializeLog\(\) is called"
    rb"|To enable the following instructions: .*rebuild TensorFlow"
)
# A line that starts like this waits for its end before it is judged.
_MAYBE_NATIVE_START = re.compile(rb"[IWEF](\d{1,4}( .*)?)?$", re.DOTALL)
_NATIVE_STARTS = (
    b"WARNING: All log messages before absl::InitializeLog",
    b"To enable the following instructions:",
)
_LINE_END = re.compile(rb"\r\n?|\n")
# Python loggers of TensorFlow and absl, raised to ERROR unless verbose.
_LIBRARY_LOGGERS = ("tensorflow", "absl")
_PIPE_SIZE = 1 << 20


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
    """Keeps TensorFlow's, absl's and CUDA's log lines off standard error.

    Enter it before TensorFlow is imported. Native log lines are dropped from
    file descriptor 2 and the ``tensorflow`` and ``absl`` Python loggers show
    errors only; every other line reaches standard error unchanged. With
    ``verbose`` nothing is hidden.
    """
    if verbose:
        yield
        return
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    loggers = [logging.getLogger(name) for name in _LIBRARY_LOGGERS]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.ERROR)
    try:
        with native_stderr_filtered():
            yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)


@contextlib.contextmanager
def native_stderr_filtered() -> Iterator[None]:
    """Drops native log lines written to file descriptor 2, forwards the rest.

    Python's ``sys.stderr`` writes to the same descriptor, so its lines pass
    through the filter too, in order. Where descriptor 2 cannot be redirected
    (it is closed, or this is not a POSIX-like system), nothing is filtered.
    """
    try:
        _flush_stderr()
        original = os.dup(2)
    except OSError:
        yield
        return
    read_end, write_end = os.pipe()
    _enlarge_pipe(write_end)
    os.dup2(write_end, 2)
    os.close(write_end)
    forwarder = threading.Thread(
        target=_forward_lines,
        args=(read_end, original),
        name="kt_ext-stderr-filter",
        daemon=True,
    )
    forwarder.start()
    try:
        yield
    finally:
        _flush_stderr()
        os.dup2(original, 2)  # the pipe's last write end closes: EOF
        forwarder.join(timeout=5)
        if not forwarder.is_alive():
            os.close(read_end)
        os.close(original)


def is_native_log_line(line: bytes) -> bool:
    """Whether ``line`` is one of TensorFlow's native (absl, CUDA) log lines.

    Example:
        >>> is_native_log_line(b"E0000 00:00:1796.2 2223 cuda_platform.cc:52] x")
        True
        >>> is_native_log_line(b"ValueError: `x` must not contain NaN")
        False
    """
    return _NATIVE_LOG_LINE.match(line) is not None


def _undecided(head: bytes) -> bool:
    """Whether a line that starts with ``head`` (no newline yet) may be native."""
    if _MAYBE_NATIVE_START.match(head):
        return True
    return any(
        start.startswith(head) or head.startswith(start) for start in _NATIVE_STARTS
    )


def _forward_lines(read_end: int, target: int) -> None:
    """Copies ``read_end`` to ``target`` as it comes, minus native log lines.

    A line ends at a newline or a carriage return (a progress bar redraws
    its line after one). It is judged by its start: one that cannot be a
    native line is forwarded at once, before its end arrives; one that may be
    waits for its end.
    """
    pending = b""
    state = "start"  # or "forward" / "drop": what to do up to the line's end
    while True:
        chunk = os.read(read_end, 65536)
        if not chunk:
            break
        pending += chunk
        while pending:
            found = _LINE_END.search(pending)
            end = -1 if found is None else found.end()
            if state == "start":
                head = pending if end < 0 else pending[:end]
                if end < 0 and _undecided(head):
                    break  # wait for more of this line
                state = "drop" if is_native_log_line(head) else "forward"
            if end < 0:
                if state == "forward":
                    _write_all(target, pending)
                pending = b""
                break
            if state == "forward":
                _write_all(target, pending[:end])
            pending = pending[end:]
            state = "start"
    if pending and not (state == "drop" or is_native_log_line(pending)):
        _write_all(target, pending)


def _write_all(fd: int, data: bytes) -> None:
    while data:
        try:
            written = os.write(fd, data)
        except OSError:
            return  # the terminal went away; nothing left to tell it
        data = data[written:]


def _flush_stderr() -> None:
    with contextlib.suppress(AttributeError, OSError, ValueError):
        sys.stderr.flush()


def _enlarge_pipe(fd: int) -> None:
    """A bigger pipe, so native code writing while it holds the GIL never waits."""
    try:
        import fcntl

        fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, _PIPE_SIZE)
    except (ImportError, AttributeError, OSError):
        pass
