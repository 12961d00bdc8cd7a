"""How a round oracle promotes trials: in synchronous rounds, or asynchronously.

``promotion="sync"`` (kt_ext's behaviour before 0.2) waits for a round's last
trial before the next round is planned: a worker that asks meanwhile gets
IDLE. ``promotion="async"`` never makes a worker wait while the budget lasts.
``None`` (the default) is ``"sync"`` unless the search runs with several
workers (:meth:`Promotion.resolve`, which ``search(workers=N)`` calls before
the search starts). The value is saved in the oracle's state, and a rerun that
gives another one explicitly is refused (a rerun that gives ``None`` takes the
saved one; a search saved before the setting existed was ``"sync"``).
:class:`Promotion` is the part of the oracle that holds the value.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from kt_ext._internal.checks import check_int

__all__ = ["PROMOTIONS", "Promotion", "PromotionName", "check_promotion"]

PromotionName = Literal["sync", "async"]

#: The values ``promotion`` takes (besides ``None``).
PROMOTIONS: tuple[str, ...] = ("sync", "async")


def check_promotion(promotion: Any) -> None:
    """Raises a ``ValueError`` unless ``promotion`` is ``"sync"``, ``"async"``
    or ``None``.

    Example:
        >>> check_promotion("async")
        >>> check_promotion("asha")
        Traceback (most recent call last):
        ...
        ValueError: `promotion` must be 'sync', 'async' or None, got 'asha'.
    """
    if promotion is not None and promotion not in PROMOTIONS:
        raise ValueError(
            f"`promotion` must be 'sync', 'async' or None, got {promotion!r}."
        )


class Promotion:
    """The oracle's promotion mode: given, resolved, saved.

    Args:
        promotion: ``"sync"``, ``"async"``, or ``None`` (resolved by
            :meth:`resolve` from the number of workers; ``"sync"`` until then).

    Example:
        >>> part = Promotion(None)
        >>> part.value, part.resolve(4, started=False), part.value
        ('sync', 'async', 'async')
        >>> Promotion("sync").resolve(4, started=False)
        'sync'
    """

    def __init__(self, promotion: PromotionName | None) -> None:
        check_promotion(promotion)
        self.given = promotion
        self.value: str = promotion or "sync"
        # Set once the value can no longer follow the number of workers: given
        # explicitly, or read from a saved search.
        self.fixed = promotion is not None

    @property
    def is_async(self) -> bool:
        """Whether trials are promoted asynchronously."""
        return self.value == "async"

    def resolve(self, workers: int, *, started: bool) -> str:
        """The value for a search with ``workers`` workers (see the module).

        ``None`` resolves to ``"async"`` for more than one worker, else
        ``"sync"``; an explicit value, a saved search's, or that of a search
        already ``started`` in this process stays.

        Raises:
            ValueError: ``workers`` is not a positive int (naming it).
        """
        check_int("workers", workers, 1)
        if not (self.fixed or started):
            self.value = "async" if workers > 1 else "sync"
        return self.value

    def get_state(self) -> dict[str, Any]:
        """The part's key of the oracle's state."""
        return {"promotion": self.value}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Takes the saved value (``"sync"`` in a state saved without one)."""
        self.value = state.get("promotion", "sync")
        self.fixed = True
