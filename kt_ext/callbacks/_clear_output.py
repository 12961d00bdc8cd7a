"""A callback that keeps the output of long searches readable.

Also the one status line that it and kt_ext's search progress
(:mod:`kt_ext.tuners._progress`) rewrite in place: with a carriage return in
a terminal, through a display handle in a notebook, and not at all in a log
or a pipe.
"""

from __future__ import annotations

import contextlib
import shutil
import sys
import time
from collections.abc import Iterator
from typing import Any

import keras

from kt_ext._internal.seam_oracle import (
    hold_trial_end_clearing,
    in_keras_tuner_search,
    release_trial_end_clearing,
)

_MODES = ("auto", "notebook", "terminal")

#: Seconds between two redraws of a status line within an epoch.
_REDRAW_S = 0.25


def in_notebook() -> bool:
    """Whether code runs in a Jupyter kernel (IPython's ``ZMQInteractiveShell``).

    Example:
        >>> in_notebook()
        False
    """
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    # Subclasses count too: Colab's shell derives from ZMQInteractiveShell.
    shell_classes = type(get_ipython()).__mro__
    return any(cls.__name__ == "ZMQInteractiveShell" for cls in shell_classes)


def _display_module() -> Any:
    try:
        from IPython import display
    except ImportError as error:
        raise ImportError(
            "Output in a notebook needs IPython: pip install 'kt_ext[notebook]'."
        ) from error
    return display


class StatusLine:
    """One line of text, rewritten in place.

    - ``"terminal"``: on standard output with a carriage return, padded with
      spaces over the previous text and cut to the terminal's width (so it
      never wraps); no escape codes.
    - ``"notebook"``: a display handle in the cell's output, updated in place;
      what the cell prints meanwhile stays.
    - ``"off"``: nothing is written (a log file, a pipe).

    Example:
        >>> line = StatusLine("off")
        >>> line.show("epoch 1/3")
        >>> line.text
        'epoch 1/3'
    """

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.text = ""
        self._shown = 0  # characters now on the terminal's line
        self._handle: Any = None

    @classmethod
    def for_output(cls, notebook: bool) -> StatusLine:
        """A notebook line, a terminal line if standard output is one, else off."""
        if notebook:
            return cls("notebook")
        isatty = getattr(sys.stdout, "isatty", None)
        return cls("terminal" if isatty is not None and isatty() else "off")

    def width(self) -> int | None:
        """Characters that fit on a terminal's line; None elsewhere."""
        if self.kind != "terminal":
            return None
        return max(20, shutil.get_terminal_size().columns - 1)

    def show(self, text: str) -> None:
        """Replaces the line's text (cut to a terminal's width)."""
        self.text = text
        if self.kind == "terminal":
            text = text[: self.width()]
            sys.stdout.write("\r" + text.ljust(self._shown))
            sys.stdout.flush()
            self._shown = len(text)
        elif self.kind == "notebook":
            display = _display_module()
            content = {"text/plain": text}
            if self._handle is None:
                self._handle = display.display(content, raw=True, display_id=True)
            else:
                self._handle.update(content, raw=True)

    def clear(self) -> None:
        """Blanks the line (a terminal's cursor goes back to its start)."""
        if self.kind == "terminal" and self._shown:
            sys.stdout.write("\r" + " " * self._shown + "\r")
            sys.stdout.flush()
            self._shown = 0
        elif self.kind == "notebook" and self._handle is not None:
            self._handle.update({"text/plain": ""}, raw=True)
        self.text = ""

    def finish(self) -> None:
        """Leaves the text where it is; a terminal's next output starts below."""
        if self.kind == "terminal" and self._shown:
            sys.stdout.write("\n")
            sys.stdout.flush()
            self._shown = 0


# The notebook line of ClearTrainingOutput, one per cell run: the callback is
# deep-copied for every trial, and each copy updates the same line.
_cell_lines: dict[Any, StatusLine] = {}


def _cell_line() -> StatusLine:
    try:
        from IPython import get_ipython
    except ImportError:
        get_ipython = None
    shell = get_ipython() if get_ipython is not None else None
    if shell is None:
        # mode="notebook" outside IPython: there is no cell to write to.
        return StatusLine.for_output(False)
    key = shell.execution_count
    if key not in _cell_lines:
        _cell_lines.clear()
        _cell_lines[key] = StatusLine("notebook")
    return _cell_lines[key]


# How many kt_ext search displays run now (see `search_display_running`).
_search_displays: list[object] = []


@contextlib.contextmanager
def search_display_running(display: object) -> Iterator[None]:
    """Marks that ``display``, a kt_ext tuner's search progress, shows training.

    :class:`ClearTrainingOutput` then only silences Keras: its own line and
    its hold on Keras Tuner's clearing are not needed.
    """
    _search_displays.append(display)
    try:
        yield
    finally:
        _search_displays.remove(display)


def format_logs(logs: dict[str, Any] | None) -> str:
    """Epoch logs as ``name value`` pairs, four significant digits.

    Example:
        >>> format_logs({"loss": 0.523456, "val_loss": 0.61})
        'loss 0.5235, val_loss 0.61'
    """
    pairs = []
    for name, value in (logs or {}).items():
        try:
            pairs.append(f"{name} {float(value):.4g}")
        except (TypeError, ValueError):
            continue
    return ", ".join(pairs)


class ClearTrainingOutput(keras.callbacks.Callback):
    """Keeps a search's output to one live line per trial and its summaries.

    Keras' per-epoch output (the ``Epoch i/n`` lines and progress bars) is
    switched off; instead one line, rewritten in place, shows the epoch and
    the last epoch's metrics while a trial trains:

    - in a Jupyter notebook, a line in the cell's output updated in place
      (nothing is cleared: Keras Tuner's trial summaries stay, one after the
      other);
    - in a terminal, a line rewritten with a carriage return and blanked when
      training ends;
    - in a file or a pipe, nothing while a trial trains, and no escape codes.

    With kt_ext's tuners their search progress line shows the epochs as
    well, so this callback only silences Keras there. With Keras Tuner's own
    tuners, their end-of-trial clearing (which would clear a notebook's cell,
    and writes IPython's escape codes in plain ``python`` whenever IPython is
    installed) is the newline Keras Tuner writes in a terminal while a trial
    runs; Keras Tuner's setting is put back when the trial ends (or, outside a
    search, when training ends). ``verbose=0`` leaves everything as it is:
    nothing is shown.

    Args:
        mode: ``"notebook"``, ``"terminal"``, or ``"auto"`` to pick the notebook
            behaviour inside a Jupyter kernel (needs the ``notebook`` extra,
            IPython) and the terminal one everywhere else.

    Raises:
        ValueError: If ``mode`` is unknown.

    Example:
        >>> callback = ClearTrainingOutput(mode="terminal")
        >>> tuner.search(x, y, epochs=20, callbacks=[callback])  # doctest: +SKIP
    """

    # Its batch hook reads no logs: Keras may call it asynchronously.
    async_safe = True

    def __init__(self, mode: str = "auto") -> None:
        if mode not in _MODES:
            raise ValueError(f"`mode` must be one of {_MODES}, got {mode!r}.")
        super().__init__()
        self.mode = mode
        self._line: StatusLine | None = None
        self._epoch = ""
        self._last_logs = ""
        self._drawn_at = 0.0

    def __deepcopy__(self, memo: dict[int, Any]) -> ClearTrainingOutput:
        # Keras Tuner deep-copies callbacks for every trial; copying the attached
        # model as well would be slow or fail, so only the configuration is copied.
        return ClearTrainingOutput(mode=self.mode)

    def set_params(self, params: dict[str, Any]) -> None:
        self._line = None
        if params.get("verbose", 1) != 0:
            # Keras' `CallbackList` appends its `ProgbarLogger` after the user's
            # callbacks and passes this same dict to each one's `set_params`; the
            # progress logger reads `verbose` from it only then, so setting it to 0
            # here silences that fit (or evaluate, or predict) and nothing else.
            params["verbose"] = 0
            if not _search_displays:
                notebook = self.mode == "notebook" or (
                    self.mode == "auto" and in_notebook()
                )
                hold_trial_end_clearing()
                self._line = _cell_line() if notebook else StatusLine.for_output(False)
        super().set_params(params)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._line is None:
            return
        epochs = (self.params or {}).get("epochs")
        self._epoch = f"epoch {epoch + 1}/{epochs}" if epochs else f"epoch {epoch + 1}"
        self._draw()

    def on_train_batch_end(
        self, batch: int, logs: dict[str, Any] | None = None
    ) -> None:
        if self._line is None or time.monotonic() - self._drawn_at < _REDRAW_S:
            return
        steps = (self.params or {}).get("steps")
        self._draw(batch=f"{batch + 1}/{steps}" if steps else f"{batch + 1}")

    def on_epoch_end(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._line is None:
            return
        self._last_logs = format_logs(logs)
        self._draw()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._line is None:
            return
        self._line.clear()
        self._line = None
        if not in_keras_tuner_search():
            # Keras Tuner's trial display puts its clearing back when the trial
            # ends; a fit of the user's own has no trial end.
            release_trial_end_clearing()

    def _draw(self, batch: str = "") -> None:
        parts = [self._epoch]
        if batch:
            parts.append(f"batch {batch}")
        if self._last_logs:
            parts.append(self._last_logs)
        self._line.show(" | ".join(parts))
        self._drawn_at = time.monotonic()
