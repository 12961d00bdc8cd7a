"""How a round oracle promotes trials: in synchronous rounds, or asynchronously.

``promotion="sync"`` (kt_ext's only behaviour before) waits for a round's last
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

import bisect
import itertools
import math
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, Literal

from kt_ext._internal.checks import check_int
from kt_ext.oracles._budget import planned_epochs
from kt_ext.oracles._persistence import COMPLETED, IDLE, RUNNING, STOPPED
from kt_ext.oracles._plan import Round

if TYPE_CHECKING:
    from kt_ext.oracles._rounds import RoundOracle

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


def promotion_count(seen: int, factor: float) -> int:
    """How many of the ``seen`` results of a rung rank high enough to promote.

    The top ``1/factor`` (rounded down), as ASHA promotes.

    Example:
        >>> promotion_count(2, 3), promotion_count(3, 3), promotion_count(10, 3)
        (0, 1, 3)
    """
    return int(seen // factor)


class Promotion:
    """The oracle's promotion mode, and under ``"async"`` its rungs' results.

    Args:
        promotion: ``"sync"``, ``"async"``, or ``None`` (resolved by
            :meth:`resolve` from the number of workers; ``"sync"`` until then).

    Under ``"async"`` it keeps, for each rung (its epochs), the completed
    trials with a finite score ranked best first, those of them still
    candidates for a promotion, and the trials already promoted; all derived
    from the trials (not saved): :meth:`catch_up` reads the trials that ended
    since its last call.

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
        self.reset()

    def reset(self) -> None:
        """Forgets the rungs' results (after a reload: rebuilt from the trials)."""
        # Rung epochs -> [(sort key, trial id)], best first.
        self._results: dict[int, list[tuple[float, str]]] = {}
        # The same, without the trials promoted or refused by the strategy
        # (its rule is final): the candidates, best first.
        self._open: dict[int, list[tuple[float, str]]] = {}
        # Trials continued on the next rung (each once at most).
        self.promoted: set[str] | None = None
        # How much of the oracle's end order has been read.
        self._read = 0

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

    def catch_up(
        self, trials: Mapping[str, Any], end_order: list[str], direction: str
    ) -> None:
        """Ranks the trials that ended since the last call on their rung.

        Args:
            trials: Trial id -> Keras Tuner trial.
            end_order: Trial ids in the order they ended.
            direction: The objective's, ``"min"`` or ``"max"``.
        """
        if self.promoted is None:
            self.promoted = {
                parent
                for trial in trials.values()
                if (parent := trial.hyperparameters.values.get("tuner/trial_id"))
            }
        sign = -1.0 if direction == "max" else 1.0
        for trial_id in itertools.islice(end_order, self._read, None):
            trial = trials[trial_id]
            score = trial.score
            if trial.status != COMPLETED or score is None or not math.isfinite(score):
                continue
            rung = trial.hyperparameters.values.get("tuner/epochs")
            entry = (sign * score, trial_id)
            bisect.insort(self._results.setdefault(rung, []), entry)
            if trial_id not in self.promoted:
                bisect.insort(self._open.setdefault(rung, []), entry)
        self._read = len(end_order)

    def choose(
        self,
        rungs: list[int],
        factor: float,
        promotable: Callable[[str], bool],
        affordable: Callable[[int], bool],
    ) -> tuple[str, int] | None:
        """The trial to promote now (marked promoted), and its new epochs; or None.

        The highest rung first: a trial of rung ``k`` that ranks in the top
        :func:`promotion_count` of rung ``k``'s results so far (completed
        trials with a finite score), best first, not yet promoted and
        ``promotable`` (the strategy's rule, final once False: RankPruning's
        space only shrinks), when ``affordable(epochs)`` says the epochs to
        the next rung are. Costs a few bisections, at any number of trials.
        """
        promoted = self.promoted
        if promoted is None:  # nothing read yet, so no candidate either
            return None
        for below, above in reversed(list(itertools.pairwise(rungs))):
            results = self._results.get(below, [])
            candidates = self._open.get(below)
            if not candidates or not affordable(above - below):
                continue
            top = promotion_count(len(results), factor)
            while candidates and bisect.bisect_left(results, candidates[0]) < top:
                _, trial_id = candidates.pop(0)
                if promotable(trial_id):
                    promoted.add(trial_id)
                    return trial_id, above
        return None

    # -- the asynchronous search, for the oracle -------------------------------

    def populate(self, oracle: RoundOracle, trial_id: str) -> dict[str, Any]:
        """``oracle``'s next trial under ``promotion="async"``: no worker waits.

        A trial is promoted to the next rung as soon as it ranks in the top
        ``1/factor`` of its rung's results so far (the highest rung first, as
        ASHA does; ranked on the score reached, not on a prediction), else a
        fresh configuration is drawn at ``min_epochs``. A round is the trials
        handed out while it is the current one: it takes trials until they
        have been charged one rung's share of the budget (the epochs a
        synchronous round plans: ``epoch_budget / rungs``; with ``max_trials``
        only, ``max_trials / rungs`` trials), then the next round opens at
        once. A round ends (the strategy's ``_end_round``: it learns) when its
        trials and those of the rounds before it have all ended. IDLE only
        while the budget pays for nothing and trials run (they may refund).
        Called under the oracle's lock, from its ``populate_space``.
        """
        rungs, budget = oracle._plan.rungs, oracle._budget
        self.catch_up(oracle.trials, oracle.end_order, oracle.objective.direction)
        self._end_rounds(oracle, final=False)
        models = budget.models_per_trial
        chosen = self.choose(
            rungs,
            oracle.factor,
            oracle._promotable,
            lambda epochs: budget.affordable(epochs * models),
        )
        if chosen is not None:
            values, epochs = oracle._continued(chosen[0]), chosen[1]
        elif budget.affordable(rungs[0] * models):
            values, epochs = oracle._sample(), rungs[0]
            values["tuner/initial_epoch"] = 0
        elif oracle.ongoing_trials:
            return {"status": IDLE}
        else:
            self._end_rounds(oracle, final=True)
            oracle.save()  # Keras Tuner saves only when a trial starts
            return {"status": STOPPED}
        if not oracle.rounds or self._spent(oracle, oracle.rounds[-1]):
            oracle._plan.start(Round(epochs=epochs, carry=[], new=0))
        current = oracle.rounds[-1]
        current.epochs = max(current.epochs, epochs)
        current.trial_ids.append(trial_id)
        values["tuner/epochs"] = epochs
        values["tuner/round"] = oracle._plan.index
        budget.charge(trial_id, planned_epochs(values))
        return {"status": RUNNING, "values": values}

    @staticmethod
    def _spent(oracle: RoundOracle, current: Round) -> bool:
        """Whether an async round has taken its share (see :meth:`populate`)."""
        rungs = len(oracle._plan.rungs)
        if oracle.epoch_budget is None:
            return len(current.trial_ids) >= oracle.max_trials / rungs
        trained = oracle._budget.trained
        spent = sum(trained.get(trial_id, 0) for trial_id in current.trial_ids)
        return spent >= oracle.fold_budget / rungs

    @staticmethod
    def _end_rounds(oracle: RoundOracle, *, final: bool) -> None:
        """Ends, in order, the async rounds whose trials have all ended.

        A round ends once a later one has opened (or, ``final``, when the
        search stops) and none of its trials still runs or waits for a retry.
        """
        busy = oracle._busy_trials()
        for index, current in enumerate(oracle.rounds):
            if current.ended:
                continue
            closed = final or index < len(oracle.rounds) - 1
            if not closed or any(trial_id in busy for trial_id in current.trial_ids):
                return
            oracle._end_round(index, oracle._completed(current))
            current.ended = True
            if index < len(oracle.rounds) - 1:
                # The journal follows changes of the last round only.
                oracle._journal.restart()

    def get_state(self) -> dict[str, Any]:
        """The part's key of the oracle's state."""
        return {"promotion": self.value}

    def set_state(self, state: Mapping[str, Any]) -> None:
        """Takes the saved value (``"sync"`` in a state saved without one)."""
        self.value = state.get("promotion", "sync")
        self.fixed = True
        self.reset()
