"""Exceptions raised by kt_ext."""

from __future__ import annotations


class KtExtError(Exception):
    """Base class of kt_ext's own exceptions.

    Example:
        >>> from kt_ext.errors import DatasetNotAvailableError
        >>> issubclass(DatasetNotAvailableError, KtExtError)
        True
    """


class DatasetNotAvailableError(KtExtError, FileNotFoundError):
    """A named data set is not on this machine (nothing is downloaded).

    It is also a ``FileNotFoundError``, so either can be caught.

    Example:
        >>> try:
        ...     raise DatasetNotAvailableError("fashion_mnist is not cached")
        ... except FileNotFoundError as error:
        ...     print(type(error).__name__)
        DatasetNotAvailableError
    """
