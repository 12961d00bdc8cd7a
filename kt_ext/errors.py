"""Exceptions raised by kt_ext."""

from __future__ import annotations


class KtExtError(Exception):
    """Base class of kt_ext's own exceptions."""


class DatasetNotAvailableError(KtExtError, FileNotFoundError):
    """A named data set is not on this machine (nothing is downloaded)."""
