"""A callback that keeps the output of long searches readable."""

from __future__ import annotations

from typing import Any

import keras

from kt_ext._seam_training import stop_notebook_escape_codes

_MODES = ("auto", "notebook", "terminal")


def _in_notebook() -> bool:
    """Whether code runs in a Jupyter kernel (IPython's ``ZMQInteractiveShell``)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    # Subclasses count too: Colab's shell derives from ZMQInteractiveShell.
    shell_classes = type(get_ipython()).__mro__
    return any(cls.__name__ == "ZMQInteractiveShell" for cls in shell_classes)


def _clear_notebook_output() -> None:
    try:
        from IPython.display import clear_output
    except ImportError as error:
        raise ImportError(
            "ClearTrainingOutput(mode='notebook') needs IPython: "
            "pip install 'kt_ext[notebook]'."
        ) from error
    clear_output(wait=True)


class ClearTrainingOutput(keras.callbacks.Callback):
    """Removes Keras' per-epoch training output during a search.

    Keras Tuner already clears a notebook's output when a trial ends; this
    callback also keeps the epochs of a trial from piling up. Keras Tuner's own
    trial headers and summaries are left as they are.

    - In a Jupyter notebook the cell's output is cleared (with ``wait=True``, so
      it does not flicker) when each epoch begins, so that only the current
      epoch's progress shows, and again when training ends. IPython cannot clear
      part of a cell, so the trial header goes when the first epoch starts.
    - In a terminal, file or pipe, Keras' progress output (the ``Epoch i/n``
      lines and progress bars) is switched off, and Keras Tuner's end-of-trial
      clearing, which wrongly writes IPython's escape codes in plain ``python``
      when IPython is installed, becomes the newline it writes in a terminal: logs
      get no escape codes.

    Args:
        mode: ``"notebook"``, ``"terminal"``, or ``"auto"`` to pick the notebook
            behaviour inside a Jupyter kernel (needs the ``notebook`` extra,
            IPython) and the terminal one everywhere else.

    Raises:
        ValueError: If ``mode`` is unknown.

    Example:
        >>> tuner.search(x, y, epochs=20, callbacks=[ClearTrainingOutput()])
        ... # doctest: +SKIP
    """

    def __init__(self, mode: str = "auto") -> None:
        if mode not in _MODES:
            raise ValueError(f"`mode` must be one of {_MODES}, got {mode!r}.")
        super().__init__()
        self.mode = mode
        self._notebook = False

    def __deepcopy__(self, memo: dict[int, Any]) -> ClearTrainingOutput:
        # Keras Tuner deep-copies callbacks for every trial; copying the attached
        # model as well would be slow or fail, so only the configuration is copied.
        return ClearTrainingOutput(mode=self.mode)

    def set_params(self, params: dict[str, Any]) -> None:
        self._notebook = self.mode == "notebook" or (
            self.mode == "auto" and _in_notebook()
        )
        if not self._notebook:
            # Keras' `CallbackList` appends its `ProgbarLogger` after the user's
            # callbacks and passes this same dict to each one's `set_params`; the
            # progress logger reads `verbose` from it only then, so setting it to 0
            # here silences that fit (or evaluate, or predict) and nothing else.
            params["verbose"] = 0
            stop_notebook_escape_codes()
        super().set_params(params)

    def on_epoch_begin(self, epoch: int, logs: dict[str, Any] | None = None) -> None:
        if self._notebook:
            _clear_notebook_output()

    def on_train_end(self, logs: dict[str, Any] | None = None) -> None:
        if self._notebook:
            _clear_notebook_output()
