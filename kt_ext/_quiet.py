"""Silencing known, harmless noise during searches kt_ext runs itself."""

from __future__ import annotations

import contextlib
import logging
import warnings
from collections.abc import Iterator


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
