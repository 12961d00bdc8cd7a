"""``search(..., workers=N)``: N worker processes, the chief in the caller's.

The caller's process serves the oracle on ``127.0.0.1:<free port>`` (Keras
Tuner's chief, :func:`kt_ext.tuners._distributed.serve`); N workers
(``python -m kt_ext.tuners._worker``) run Keras Tuner's worker loop. Keras
Tuner's ``KERASTUNER_*`` variables are set in the workers' environments only,
never in the caller's, so a later tuner in the same notebook is untouched.

A worker is fed a payload (:mod:`kt_ext.tuners._payload`): the tuner's class
and constructor arguments, the hypermodel and the ``search`` arguments. Each
worker runs in a session of its own; the chief stops them all when the search
ends, on Ctrl-C or on an exception, and a worker exits when the chief's
process dies (:mod:`kt_ext.tuners._worker`). A worker's standard error goes to
``<project>/workers/<worker id>.log``; its standard output is dropped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from kt_ext._internal.processes import free_port, stop_group
from kt_ext._internal.seam_oracle import in_distributed_mode
from kt_ext.oracles import RoundOracle
from kt_ext.tuners import _distributed
from kt_ext.tuners._failures import check_some_trial_ran
from kt_ext.tuners._launch_plan import (
    refuse_streams,
    usable_cpus,
    visible_gpus,
    worker_devices,
)
from kt_ext.tuners._payload import Payload, remove_payload, write_payload
from kt_ext.tuners._preflight import prepared_search

_LOG_TAIL_CHARS = 2000
# How long workers have to exit once told the search is over, or to exit
# on SIGTERM before they are killed.
_EXIT_GRACE_S = 30.0
_STOP_GRACE_S = 3.0


class Relaunchable:
    """Keeps a tuner's constructor arguments, to build it again in a worker.

    Example:
        >>> class Tuner(Relaunchable):
        ...     def __init__(self, units, *, rate=0.1):
        ...         pass
        >>> Tuner(3, rate=0.5).constructor_arguments
        ((3,), {'rate': 0.5})
    """

    constructor_arguments: tuple[tuple[Any, ...], dict[str, Any]]

    def __new__(cls, *args: Any, **kwargs: Any) -> Any:
        tuner = super().__new__(cls)
        tuner.constructor_arguments = (args, dict(kwargs))
        return tuner


class WorkersEnded(Exception):
    """Every worker has exited; the chief stops serving."""


def search_with_workers(
    tuner: Any,
    workers: int,
    fit_args: tuple[Any, ...],
    fit_kwargs: dict[str, Any],
    cv: Any,
) -> None:
    """Runs ``tuner``'s search with ``workers`` worker processes.

    Everything is checked before any process starts: the training data (no
    ``tf.data`` dataset or generator: ``TypeError``), the GPUs (``ValueError``
    when ``workers`` exceeds them), then the ``search`` arguments as a
    one-process search checks them. The chief builds no model.

    Raises:
        ValueError: This process is already part of Keras Tuner's
            distribution (``KERASTUNER_ORACLE_IP`` is set), or see above.
        TypeError: See above.
        RuntimeError: Every worker exited before the search ended (the
            message ends with the last lines a worker wrote), or no trial ran.

    Example:
        >>> search_with_workers(tuner, 2, (x, y), {"epochs": 3}, None)  # doctest: +SKIP
    """
    if in_distributed_mode():
        raise ValueError(
            f"`workers={workers}` starts its own workers, but this process is "
            "already part of Keras Tuner's distribution (KERASTUNER_ORACLE_IP "
            "is set): leave `workers` out, or unset the KERASTUNER_* variables."
        )
    refuse_streams(fit_args, fit_kwargs)
    devices = worker_devices(workers, visible_gpus(), usable_cpus())
    tuner.serves_workers = True
    try:
        fit_args, fit_kwargs = prepared_search(tuner, fit_args, fit_kwargs, cv)
    finally:
        tuner.serves_workers = False
    oracle = tuner.oracle
    if isinstance(oracle, RoundOracle):  # Keras Tuner's own oracles are sync
        oracle.resolve_promotion(workers)
    if "verbose" in fit_kwargs:
        oracle.verbose = fit_kwargs["verbose"]
    tuner.save()
    # Workers read the split of ``cv`` from the chief's state file, which a
    # chief of Keras Tuner's own distribution names chief.json.
    chief = Path(tuner.project_dir, "chief.json")
    shutil.copyfile(tuner.tuner_state_path(), chief.with_suffix(".tmp"))
    os.replace(chief.with_suffix(".tmp"), chief)
    args, kwargs = tuner.constructor_arguments
    payload = Payload(
        tuner_class=type(tuner),
        args=args,
        kwargs={**kwargs, "overwrite": False},
        fit_args=fit_args,
        fit_kwargs={**fit_kwargs, "verbose": 0},
        cv=cv,
    )
    folder = Path(tuner.project_dir) / "workers"
    path = write_payload(payload, folder)
    try:
        with running_workers(path, devices, folder) as (address, processes):
            with contextlib.suppress(WorkersEnded):
                _distributed.serve(
                    oracle,
                    address=address,
                    on_poll=lambda: _check(processes, folder),
                )
            _wait(processes, _EXIT_GRACE_S)
    finally:
        remove_payload(folder)
    check_some_trial_ran(oracle)


@contextlib.contextmanager
def running_workers(
    payload: Path, devices: list[dict[str, str]], folder: Path
) -> Iterator[tuple[str, list[subprocess.Popen]]]:
    """Starts one worker per entry of ``devices``; stops them all on exit.

    Yields:
        The address the chief must serve on, and the worker processes.
    """
    address = f"127.0.0.1:{free_port()}"
    ip, port = address.split(":")
    base = dict(os.environ)
    # The caller's import path, so that its modules load in the workers.
    base["PYTHONPATH"] = os.pathsep.join(
        [os.path.abspath(p or os.curdir) for p in sys.path]
    )
    base.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    processes: list[subprocess.Popen] = []
    try:
        for index, device in enumerate(devices):
            tuner_id = f"worker{index}"
            env = {
                **base,
                **device,
                "KERASTUNER_TUNER_ID": tuner_id,
                "KERASTUNER_ORACLE_IP": ip,
                "KERASTUNER_ORACLE_PORT": port,
            }
            with open(folder / f"{tuner_id}.log", "w") as log:
                processes.append(
                    subprocess.Popen(
                        [
                            sys.executable,
                            "-m",
                            "kt_ext.tuners._worker",
                            str(payload),
                            str(os.getpid()),
                        ],
                        env=env,
                        stdin=subprocess.DEVNULL,
                        stdout=subprocess.DEVNULL,
                        stderr=log,
                        start_new_session=True,
                    )
                )
        yield address, processes
    finally:
        for process in processes:
            stop_group(process, grace_s=_STOP_GRACE_S)


def _check(processes: list[subprocess.Popen], folder: Path) -> None:
    """Raises once every worker has exited (a failure names the first one's log)."""
    codes = [process.poll() for process in processes]
    if any(code is None for code in codes):
        return
    failed = [i for i, code in enumerate(codes) if code != 0]
    if not failed:
        raise WorkersEnded
    index = failed[0]
    log = folder / f"worker{index}.log"
    tail = log.read_text(errors="replace")[-_LOG_TAIL_CHARS:] if log.exists() else ""
    raise RuntimeError(
        f"Every worker exited before the search ended (exit codes {codes}); "
        f"the end of {log}:\n{tail}"
    )


def _wait(processes: list[subprocess.Popen], timeout_s: float) -> None:
    """Gives the workers ``timeout_s`` seconds to exit after the search ended."""
    deadline = time.monotonic() + timeout_s
    for process in processes:
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=max(0.1, deadline - time.monotonic()))
