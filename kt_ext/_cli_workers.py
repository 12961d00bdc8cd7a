"""``kt-ext search --workers N``: its option and its check (no Keras imported)."""

from __future__ import annotations

import argparse

#: The ``--tuner`` names whose search starts workers (kt_ext's own tuners).
WORKER_TUNERS = ("coarse_to_fine", "rank_pruning")


def add_workers_option(command: argparse.ArgumentParser) -> None:
    """Adds ``--workers N`` to ``command``.

    Example:
        >>> parser = argparse.ArgumentParser()
        >>> add_workers_option(parser)
        >>> parser.parse_args(["--workers", "2"]).workers
        2
    """
    command.add_argument(
        "--workers",
        type=_workers,
        default=1,
        metavar="N",
        help="train N trials at a time, in N worker processes on this machine "
        "(one GPU each, or a share of the CPU cores); -1: one per GPU, or per "
        f"CPU core; for --tuner {' or '.join(WORKER_TUNERS)} (default 1)",
    )


def check_workers_option(tuner: str, workers: int) -> None:
    """Raises ``ValueError`` when ``--workers`` asks for workers of a stock tuner.

    Example:
        >>> check_workers_option("hyperband", 2)
        Traceback (most recent call last):
        ...
        ValueError: `--workers 2` needs --tuner coarse_to_fine or rank_pruning, ...
    """
    if workers != 1 and tuner not in WORKER_TUNERS:
        raise ValueError(
            f"`--workers {workers}` needs --tuner {' or '.join(WORKER_TUNERS)}, "
            f"got --tuner {tuner}: Keras Tuner's own tuners search in one process "
            "(see the docs' parallel page for their distribution)."
        )


def _workers(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value == 0 or value < -1:
        raise argparse.ArgumentTypeError(
            f"must be an int >= 1, or -1 for one per GPU or CPU core, got {text!r}"
        )
    return value
