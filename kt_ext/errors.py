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


#: How a Python user starts over (what :class:`ResumeError` says by default).
START_OVER = (
    "start a new search with overwrite=True (which deletes the saved one) or a "
    "new project_name"
)


class ResumeError(KtExtError, ValueError):
    """A saved search cannot be resumed as asked; nothing was changed on disk.

    Its message says what differs, how to resume, and how to start over with
    the tuner's arguments; :meth:`explain` says the same with other words for
    starting over (the command line names its options).

    Attributes:
        problem: What differs from the saved search.
        remedy: How to resume it instead, e.g. "Pass the saved settings to
            resume it".

    Example:
        >>> error = ResumeError("The search saved in 'runs/a' has cv=3.", "Pass cv=3")
        >>> print(error)
        The search saved in 'runs/a' has cv=3. Pass cv=3, or start a new search with overwrite=True (which deletes the saved one) or a new project_name. Nothing was changed on disk.
        >>> error.explain("start over with --overwrite")
        "The search saved in 'runs/a' has cv=3. Pass cv=3, or start over with --overwrite. Nothing was changed on disk."
    """  # noqa: E501

    def __init__(self, problem: str, remedy: str) -> None:
        self.problem = problem
        self.remedy = remedy
        super().__init__(self.explain(START_OVER))

    def explain(self, start_over: str) -> str:
        """The message, with ``start_over`` saying how to start afresh."""
        gap = "" if self.problem.endswith("\n") else " "
        return (
            f"{self.problem}{gap}{self.remedy}, or {start_over}. "
            "Nothing was changed on disk."
        )
