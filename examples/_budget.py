"""Command-line budget shared by the examples (the tests run them tiny)."""

from __future__ import annotations

import argparse
import tempfile


def parse_budget(
    description: str,
    *,
    max_epochs: int,
    max_trials: int | None = None,
    directory: str | None = None,
) -> argparse.Namespace:
    """Parses ``--max-epochs``, ``--directory`` and, if given, ``--max-trials``.

    Without ``directory`` the default folder is a new temporary one.
    """
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-epochs", type=int, default=max_epochs)
    if max_trials is not None:
        parser.add_argument("--max-trials", type=int, default=max_trials)
    parser.add_argument(
        "--directory",
        default=directory,
        help=f"Keras Tuner's folder (default: {directory or 'a new temporary folder'})",
    )
    args = parser.parse_args()
    args.directory = args.directory or tempfile.mkdtemp(prefix="kt_ext_example_")
    return args
