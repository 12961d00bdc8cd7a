"""The search progress of kt_ext's tuners, in place of Keras Tuner's trial tables.

Keras Tuner's oracle calls its display when a trial begins and ends; kt_ext's
tuners give their oracle a :class:`SearchDisplay` instead (through the seam),
which shows the whole search: trials, epochs spent of the budget, the best
score so far and an estimated time to the end.

- In a terminal: one line, rewritten in place (with a carriage return, no
  escape codes) after every epoch, that ends the search as its summary.
- In a notebook: the same line, updated in place in the cell's output, above
  a compact log of one line per finished trial that is never cleared.
- Anywhere else (a log file, a pipe): one plain line per finished trial, and
  one when the search ends.

``verbose=0`` given to ``search()`` shows nothing, as in Keras Tuner.
"""

from __future__ import annotations

import contextlib
import math
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import keras
import keras_tuner
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext._internal.seam_oracle import Display, display_of, set_display
from kt_ext.callbacks._clear_output import (
    ClearTrainingOutput,
    StatusLine,
    in_notebook,
    search_display_running,
)

#: How the tuners' message for a trial stopped by pruning begins.
STOPPED_EARLY = "stopped early"

#: Seconds between two redraws of the line within a trial.
_REDRAW_S = 0.25


def install_search_display(oracle: keras_tuner.Oracle, name: str) -> None:
    """Gives ``oracle`` a :class:`SearchDisplay` named ``name`` (once).

    What Keras Tuner's display holds (its verbosity and saved state) carries
    over.
    """
    current = display_of(oracle)
    if current is None or isinstance(current, SearchDisplay):
        return
    display = SearchDisplay(oracle, verbose=current.verbose, name=name)
    display.set_state(current.get_state())
    set_display(oracle, display)


@contextlib.contextmanager
def search_progress(
    oracle: Any, fit_kwargs: dict[str, Any]
) -> Iterator[dict[str, Any]]:
    """Shows a search's progress while the ``with`` block runs the search.

    Yields the ``fit`` arguments to search with: a callback that tells the
    display each epoch is added to ``callbacks``. An oracle without a
    :class:`SearchDisplay` (a distributed worker's remote oracle) gets them
    unchanged.
    """
    display = display_of(oracle)
    if not isinstance(display, SearchDisplay):
        yield fit_kwargs
        return
    callbacks = list(fit_kwargs.get("callbacks") or [])
    silent = fit_kwargs.get("verbose", "auto") == 0
    keras_quiet = silent or any(
        isinstance(callback, ClearTrainingOutput) for callback in callbacks
    )
    display.begin_search(keras_prints=not keras_quiet)
    kwargs = fit_kwargs
    if not silent:
        kwargs = {**fit_kwargs, "callbacks": [*callbacks, _EpochReports(display)]}
    try:
        with search_display_running(display):
            yield kwargs
    except BaseException:
        display.end_search(finished=False)
        raise
    display.end_search()


class _EpochReports(keras.callbacks.Callback):
    """Tells a :class:`SearchDisplay` when an epoch begins and ends."""

    # Its batch hook reads no logs: Keras may call it asynchronously.
    async_safe = True

    def __init__(self, display: SearchDisplay) -> None:
        super().__init__()
        self.display = display

    def __deepcopy__(self, memo: dict[int, Any]) -> _EpochReports:
        # Keras Tuner copies callbacks for every trial: all copies report to
        # the same display.
        return _EpochReports(self.display)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.display.on_epoch_begin(epoch, (self.params or {}).get("epochs"))

    def on_train_batch_end(
        self, batch: int, logs: dict[str, Any] | None = None
    ) -> None:
        self.display.on_batch_end()

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        self.display.on_epoch_end(logs)


class _Running:
    """A trial that runs in this process, as the display follows it."""

    def __init__(self, trial: Trial, planned: float) -> None:
        self.trial_id = trial.trial_id
        self.started = time.monotonic()
        self.planned = planned  # epochs charged for it, executions included
        self.seen = 0  # epochs ended so far
        self.epoch = ""


class SearchDisplay(Display):
    """Keras Tuner's trial display, showing the whole search instead.

    Keeps Keras Tuner's state (search and trial start times, trial numbers)
    so that a search saved with either display resumes with the other.

    Args:
        oracle: The oracle that calls it.
        verbose: 0 shows nothing; set by ``search(verbose=...)`` as in Keras
            Tuner.
        name: Shown first on the line (the tuner's class name).

    Example:
        >>> from kt_ext.oracles import CoarseToFineOracle
        >>> oracle = CoarseToFineOracle(objective="val_loss", max_epochs=3)
        >>> install_search_display(oracle, "CoarseToFine")
        >>> type(oracle._display).__name__
        'SearchDisplay'
    """

    def __init__(
        self, oracle: keras_tuner.Oracle, verbose: int = 1, name: str = "search"
    ) -> None:
        super().__init__(oracle, verbose=verbose)
        self.name = name
        self._mode: str | None = None
        self._line: StatusLine | None = None
        self._keras_prints = True
        self._running: dict[str, _Running] = {}
        self._current: _Running | None = None  # the trial this process trains
        self._clock: tuple[float, float] | None = None  # (time, epochs done)
        self._drawn_at = 0.0
        self._ended = 0  # trials ended since the clock started
        self._last = ""  # what the line says of the last trial that ended

    # -- the search ------------------------------------------------------------

    def begin_search(self, keras_prints: bool = True) -> None:
        """Called when ``search()`` starts in this process."""
        self._keras_prints = keras_prints
        self._mode = None
        self._clock = None
        self._ended = 0
        self._last = ""

    def end_search(self, finished: bool = True) -> None:
        """Called when ``search()`` ends; ``finished`` is False when it raised."""
        self._current = None
        if self.verbose < 1 or self._mode is None:
            return
        how = "done in" if finished else "stopped after"
        text = self._status(f"{how} {_duration(self._elapsed())}", eta=False)
        if self._mode == "plain":
            print(text, flush=True)
        else:
            self._line.show(text)
            self._line.finish()

    # -- Keras Tuner's display interface ------------------------------------------

    def on_trial_begin(self, trial: Trial) -> None:
        # Keras Tuner's bookkeeping, kept in the oracle's saved state.
        start = datetime.now()
        self.trial_start[trial.trial_id] = start
        if self.search_start is None:
            self.search_start = start
        self.trial_number[trial.trial_id] = len(self.oracle.trials)
        running = _Running(trial, self._planned(trial))
        self._running[trial.trial_id] = running
        self._current = running
        if self.verbose < 1:
            return
        self._start_clock()
        running.epoch = f"trial {trial.trial_id}"
        if self._live():
            self._draw(running.epoch)

    def on_trial_end(self, trial: Trial) -> None:
        running = self._running.pop(trial.trial_id, None)
        if self._current is running:
            self._current = None
        if self.verbose < 1:
            return
        self._start_clock()
        self._ended += 1
        summary = self._trial_summary(trial, running)
        if self._mode == "plain":
            print(self._status(f"trial {summary}"), flush=True)
            return
        if self._mode == "notebook":
            print(f"trial {summary}", flush=True)  # the compact log
            self._last = f"last: trial {summary}"
        else:
            self._last = f"last: {self._short_summary(trial)}"
        self._draw(self._last)
        if self._mode == "terminal" and self._keras_prints:
            # Keras writes the next trial's epochs below: the line stays.
            self._line.finish()

    # -- epochs, from the callback `search_progress` adds ---------------------

    def on_epoch_begin(self, epoch: int, epochs: int | None) -> None:
        running = self._current
        if running is None or self.verbose < 1:
            return
        of = f"/{epochs}" if epochs else ""
        running.epoch = f"trial {running.trial_id} | epoch {epoch + 1}{of}"
        if self._live():
            self._draw(running.epoch)

    def on_batch_end(self) -> None:
        running = self._current
        if running is None or self.verbose < 1 or not self._live():
            return
        if time.monotonic() - self._drawn_at >= _REDRAW_S:
            self._draw(running.epoch)

    def on_epoch_end(self, logs: dict[str, Any] | None) -> None:
        running = self._current
        if running is None:
            return
        running.seen += 1
        if self.verbose >= 1 and self._live():
            self._draw(running.epoch)

    def _live(self) -> bool:
        """Whether the line is redrawn while a trial trains.

        Not in a log, and not in a terminal where Keras writes its epochs:
        there the line is written when a trial ends, and stays.
        """
        return self._mode == "notebook" or (
            self._mode == "terminal" and not self._keras_prints
        )

    # -- what the line says ------------------------------------------------------

    def status(self) -> str:
        """The line as it would read now, naming the trial that runs."""
        current = self._current
        return self._status(current.epoch if current else self._last)

    def _status(self, what: str, *, eta: bool = True) -> str:
        """The line: what happens, epochs, ETA, best, trials, ...

        In a terminal, the parts that matter least are left out first where
        the line would not fit its width (it could not be rewritten if it
        wrapped).
        """
        oracle = self.oracle
        parts: list[tuple[int, str]] = [(6, self.name)]  # (rank, text)
        if what:
            parts.append((0, what))
        done, budget = self._done(), getattr(oracle, "epoch_budget", None)
        if budget:
            parts.append((1, f"{done:g}/{budget} epochs ({100 * done / budget:.0f}%)"))
        else:
            parts.append((1, f"{done:g} epochs"))
        trials = len(oracle.trials)
        max_trials = getattr(oracle, "max_trials", None)
        parts.append(
            (4, f"{trials}/{max_trials} trials" if max_trials else f"{trials} trials")
        )
        stopped = self._stopped_count()
        if stopped:
            parts.append((5, f"{stopped} stopped early"))
        best = oracle.get_best_trials(1)
        if best and best[0].score is not None:
            text = f"best {oracle.objective.name} {best[0].score:.4g}"
            if self._mode != "terminal":
                text += f" (trial {best[0].trial_id})"
            parts.append((3, text))
        if eta:
            remaining = self._eta(done, budget)
            if remaining is not None:
                parts.append((2, f"ETA {_duration(remaining)}"))
            parts.append((7, f"{_duration(self._elapsed())} elapsed"))
        width = self._line.width() if self._line is not None else None
        return _fit(parts, width)

    def _trial_summary(self, trial: Trial, running: _Running | None) -> str:
        """``0007 val_loss 0.4312, 3 epochs in 2.1 s, stopped early at ...``."""
        status = trial.status
        text = f"{trial.trial_id}"
        if status == TrialStatus.COMPLETED and trial.score is not None:
            text += f" {self.oracle.objective.name} {trial.score:.4g}"
        else:
            text += f" {str(status).lower()}"
        epochs = getattr(self.oracle, "epochs_trained", {}).get(trial.trial_id)
        if epochs is None and running is not None:
            epochs = running.seen
        details = []
        if epochs is not None:
            details.append(f"{epochs:g} epoch{'' if epochs == 1 else 's'}")
        if running is not None:
            details.append(f"{time.monotonic() - running.started:.1f} s")
        note = self._note(trial)
        if note:
            details.append(note)
        return text + (f" ({', '.join(details)})" if details else "")

    def _short_summary(self, trial: Trial) -> str:
        """``0007 0.4312 stopped early``: a trial's end on a terminal's line."""
        if trial.status == TrialStatus.COMPLETED and trial.score is not None:
            text = f"{trial.trial_id} {trial.score:.4g}"
        else:
            text = f"{trial.trial_id} {str(trial.status).lower()}"
        if self._note(trial).startswith(STOPPED_EARLY):
            text += f" {STOPPED_EARLY}"
        return text

    def _note(self, trial: Trial) -> str:
        message = (trial.message or "").strip()
        if message.startswith(STOPPED_EARLY):
            return message.splitlines()[0]
        stopped_at = getattr(self.oracle, "stopped_trials", {})
        if trial.trial_id in stopped_at and trial.status == TrialStatus.COMPLETED:
            return f"{STOPPED_EARLY} at epoch {stopped_at[trial.trial_id] + 1}"
        if trial.status != TrialStatus.COMPLETED and message:
            return message.splitlines()[-1][:120]
        return ""

    def _stopped_count(self) -> int:
        stopped_at = getattr(self.oracle, "stopped_trials", {})
        return sum(
            1
            for trial in self.oracle.trials.values()
            if (trial.message or "").startswith(STOPPED_EARLY)
            or (
                trial.trial_id in stopped_at
                and trial.status == TrialStatus.COMPLETED
                and trial.trial_id not in self._running
            )
        )

    # -- epochs and time ---------------------------------------------------------

    def _planned(self, trial: Trial) -> float:
        values = trial.hyperparameters.values
        if "tuner/epochs" not in values:
            return 0.0
        executions = getattr(self.oracle, "executions_per_trial", 1) or 1
        folds = getattr(self.oracle, "cv_folds", 1) or 1
        own = values["tuner/epochs"] - values.get("tuner/initial_epoch", 0)
        return float(own * executions * folds)

    def _done(self) -> float:
        """Epochs trained so far: those charged, less what running trials owe."""
        used = getattr(self.oracle, "epochs_used", None)
        owed = sum(max(0.0, r.planned - r.seen) for r in self._running.values())
        if used is None:
            return float(sum(r.seen for r in self._running.values()))
        return max(0.0, float(used) - owed)

    def _start_clock(self) -> None:
        if self._mode is None:
            self._mode = (
                "notebook"
                if in_notebook()
                else "terminal"
                if StatusLine.for_output(False).kind == "terminal"
                else "plain"
            )
            self._line = StatusLine(self._mode if self._mode != "plain" else "off")
        if self._clock is None:
            self._clock = (time.monotonic(), self._done())

    def _elapsed(self) -> float:
        return 0.0 if self._clock is None else time.monotonic() - self._clock[0]

    def _eta(self, done: float, budget: float | None) -> float | None:
        """Seconds left at this session's pace; None when it cannot be told."""
        if self._clock is None:
            return None
        elapsed, trained = self._elapsed(), done - self._clock[1]
        if budget:
            if trained <= 0:
                return None
            return elapsed / trained * max(0.0, budget - done)
        max_trials = getattr(self.oracle, "max_trials", None)
        if max_trials and self._ended > 0:
            left = max_trials - len(self.oracle.trials) + len(self._running)
            return elapsed / self._ended * max(0, left)
        return None

    def _draw(self, what: str) -> None:
        if self._line is None:
            return
        self._line.show(self._status(what))
        self._drawn_at = time.monotonic()


def _fit(parts: list[tuple[int, str]], width: int | None) -> str:
    """``parts`` joined in order, leaving out the highest ranks until it fits.

    Example:
        >>> _fit([(1, "a"), (0, "bb"), (2, "ccc")], 6)
        'a | bb'
    """
    kept = list(parts)
    while width is not None and len(kept) > 1:
        line = " | ".join(text for _, text in kept)
        if len(line) <= width:
            break
        kept.remove(max(kept, key=lambda part: part[0]))
    return " | ".join(text for _, text in kept)


def _duration(seconds: float) -> str:
    """``1:02:03``, or ``2:03`` under an hour.

    Example:
        >>> _duration(62.4), _duration(3723)
        ('1:02', '1:02:03')
    """
    if not math.isfinite(seconds):
        return "?"
    total = round(seconds)
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"
