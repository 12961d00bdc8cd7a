"""What ``search(..., workers=N)`` checks and decides before any process starts.

Pure functions, so that the checks run before anything starts and the device
assignment is tested without GPUs: how many workers (``-1``: one per visible
GPU, or per CPU core when none), each worker's devices (one GPU each through
``CUDA_VISIBLE_DEVICES``, or a share of the CPU threads), and the training
data that cannot be sent to another process.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import types
from collections.abc import Iterable, Mapping
from typing import Any

_THREAD_VARIABLES = ("TF_NUM_INTRAOP_THREADS", "OMP_NUM_THREADS")


def check_workers(
    workers: Any, *, name: str = "workers", available: int | None = None
) -> int:
    """The number of worker processes that ``workers`` asks for.

    Args:
        workers: An int of at least 1, or ``-1`` for ``available``.
        name: The argument's name in messages (``n_jobs`` for SearchCV).
        available: What ``-1`` means; default: the visible GPUs, or the CPU
            count when none are visible.

    Raises:
        TypeError: ``workers`` is not an int (a bool is not one).
        ValueError: ``workers`` is 0 or below -1.

    Example:
        >>> check_workers(2)
        2
        >>> check_workers(-1, available=4)
        4
    """
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(f"`{name}` must be an int, got {workers!r}.")
    if workers == 0 or workers < -1:
        raise ValueError(
            f"`{name}` must be at least 1, or -1 for one per GPU (per CPU core "
            f"without GPUs), got {workers!r}."
        )
    if workers != -1:
        return workers
    if available is None:
        available = len(visible_gpus()) or usable_cpus()
    return available


def usable_cpus() -> int:
    """The CPUs this process may run on.

    Its affinity: a container's or a batch job's share, not the machine's count.

    Example:
        >>> usable_cpus() >= 1
        True
    """
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def visible_gpus(environ: Mapping[str, str] | None = None) -> list[str]:
    """The GPUs a worker may be given, without starting TensorFlow.

    ``CUDA_VISIBLE_DEVICES`` when set (empty or ``-1``: none), else the GPUs
    ``nvidia-smi -L`` lists (none without it).

    Example:
        >>> visible_gpus({"CUDA_VISIBLE_DEVICES": "0,2"})
        ['0', '2']
        >>> visible_gpus({"CUDA_VISIBLE_DEVICES": "-1"})
        []
    """
    environ = os.environ if environ is None else environ
    if "CUDA_VISIBLE_DEVICES" in environ:
        ids = [d.strip() for d in environ["CUDA_VISIBLE_DEVICES"].split(",")]
        ids = [d for d in ids if d]
        return [] if not ids or ids[0] == "-1" else ids
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        listing = subprocess.run(
            [smi, "-L"], capture_output=True, text=True, timeout=20, check=True
        ).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    # `nvidia-smi -L` lists "GPU <i>: ..." lines, each GPU's MIG devices
    # indented below it: CUDA numbers the GPUs, not the lines.
    gpus = [line for line in listing.splitlines() if line.startswith("GPU ")]
    return [str(i) for i in range(len(gpus))]


def worker_devices(
    workers: int, gpus: list[str], cpu_count: int
) -> list[dict[str, str]]:
    """Each worker's device variables: one GPU each, or a share of the CPUs.

    With GPUs, worker ``i`` sees only ``gpus[i]`` (``CUDA_VISIBLE_DEVICES``).
    Without, it sees none and its TensorFlow and OpenMP thread pools get
    ``cpu_count // workers`` threads (at least 1; TensorFlow's inter-op pool
    1), so N workers do not each start a pool the size of the machine.

    Raises:
        ValueError: More workers than visible GPUs (the message names both).

    Example:
        >>> worker_devices(2, ["0", "1"], 16)
        [{'CUDA_VISIBLE_DEVICES': '0'}, {'CUDA_VISIBLE_DEVICES': '1'}]
        >>> worker_devices(2, [], 8)[0]["TF_NUM_INTRAOP_THREADS"]
        '4'
    """
    if gpus:
        if workers > len(gpus):
            raise ValueError(
                f"`workers` is {workers} but only {len(gpus)} GPUs are visible "
                f"({','.join(gpus)}): each worker takes one GPU."
            )
        return [{"CUDA_VISIBLE_DEVICES": gpu} for gpu in gpus[:workers]]
    share = str(max(1, cpu_count // workers))
    return [
        {
            "CUDA_VISIBLE_DEVICES": "-1",
            **dict.fromkeys(_THREAD_VARIABLES, share),
            "TF_NUM_INTEROP_THREADS": "1",
        }
        for _ in range(workers)
    ]


def refuse_streams(fit_args: Iterable[Any], fit_kwargs: Mapping[str, Any]) -> None:
    """Refuses training data that cannot be sent to a worker process.

    Raises:
        TypeError: ``x``, ``y`` or ``validation_data`` is a ``tf.data``
            dataset, a generator or another iterator; the message says to
            pass arrays instead.

    Example:
        >>> refuse_streams(([1.0],), {"validation_data": iter([])})
        Traceback (most recent call last):
        ...
        TypeError: With workers, `validation_data` must be arrays, ...
    """
    named = [*zip(("x", "y"), fit_args, strict=False), *fit_kwargs.items()]
    for name, value in named:
        values = value if name == "validation_data" and _is_tuple(value) else [value]
        if any(_is_stream(part) for part in values):
            raise TypeError(
                f"With workers, `{name}` must be arrays, got {type(value).__name__}: "
                "a tf.data dataset or a generator cannot be sent to worker "
                "processes. Pass NumPy arrays (or a pandas DataFrame) instead; "
                "large arrays go to the workers as memory-mapped files."
            )


def _is_tuple(value: Any) -> bool:
    return isinstance(value, tuple | list)


def _is_stream(value: Any) -> bool:
    if isinstance(value, types.GeneratorType | types.AsyncGeneratorType):
        return True
    kind = type(value)
    if kind.__module__.startswith("tensorflow") and "Dataset" in kind.__name__:
        return True
    return hasattr(value, "__next__") and not hasattr(value, "__len__")
