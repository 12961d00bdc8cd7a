"""Command-line budget shared by the examples (the tests run them tiny)."""

from __future__ import annotations

import argparse
import tempfile


def parse_budget(
    description: str, *, max_epochs: int, max_trials: int | None = None
) -> argparse.Namespace:
    """Parses ``--max-epochs``, ``--directory`` and, if given, ``--max-trials``."""
    parser = argparse.ArgumentParser(
        description=description, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-epochs", type=int, default=max_epochs)
    if max_trials is not None:
        parser.add_argument("--max-trials", type=int, default=max_trials)
    parser.add_argument(
        "--directory",
        default=None,
        help="Keras Tuner's folder (default: a new temporary folder)",
    )
    args = parser.parse_args()
    args.directory = args.directory or tempfile.mkdtemp(prefix="kt_ext_example_")
    return args
