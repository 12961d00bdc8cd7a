"""The seam to Keras Tuner's oracle internals: what an upgrade could break there.

Keras Tuner has no public hook for fidelity, retries or saving state, so
kt_ext's oracles build on its private parts. All of them are here:

- every import of a private Keras Tuner module that the oracles, the
  analysis and the comparison need, under a name the rest of kt_ext uses;
- a named function for each read or write of a private attribute of an
  Oracle (``retry_queue(oracle)``, ``tried_hashes(oracle)``, ...);
- every copied or overridden private ``Oracle`` method body, in
  :class:`OracleSeam`, which kt_ext's oracles derive from, and the chief's
  server loop, :func:`serve_oracle`.

What a tuner trains, and Keras's and TensorFlow's internals, are in
:mod:`kt_ext._internal.seam_training`. :data:`UPSTREAM` lists the Keras Tuner
functions whose bodies this module copies or depends on; ``tests/test_seam.py``
hashes their source for each keras-tuner version in the declared range and
fails, naming what to re-check, when one changes.
"""

from __future__ import annotations

import os
import sys
import time
import types
from collections.abc import Callable, Mapping
from concurrent import futures
from typing import Any

import keras_tuner
from keras_tuner.engine import trial as trial_module
from keras_tuner.src import backend as _backend
from keras_tuner.src import utils as _utils
from keras_tuner.src.distribute import utils as _dist_utils
from keras_tuner.src.engine import base_tuner as _base_tuner_module
from keras_tuner.src.engine import metrics_tracking as _metrics_tracking
from keras_tuner.src.engine import oracle as _oracle_module
from keras_tuner.src.engine.objective import create_objective

from kt_ext._internal.names import failure_reason

__all__ = [
    "UPSTREAM",
    "Display",
    "MetricHistory",
    "MetricsTracker",
    "OracleSeam",
    "create_objective",
    "display_of",
    "hold_trial_end_clearing",
    "in_distributed_mode",
    "in_keras_tuner_search",
    "is_chief_process",
    "keras_tuner_notebook_flag",
    "project_dir",
    "release_trial_end_clearing",
    "retry_queue",
    "save_json",
    "serve_oracle",
    "set_display",
    "set_retry_queue",
    "state_path",
    "trial_end_clearing_held",
    "trial_file",
    "trial_files",
    "trial_hashes",
    "tried_hashes",
]

#: Keras Tuner functions whose bodies kt_ext's oracles copy or depend on, and
#: what in kt_ext to re-check when one of them changes upstream.
UPSTREAM: dict[str, str] = {
    "keras_tuner.src.engine.oracle.Oracle.create_trial": (
        "RoundOracle.create_trial (retries charged to the budget) and "
        "OracleSeam's retry_queue/tried_hashes/trial_hashes"
    ),
    "keras_tuner.src.engine.oracle.Oracle.end_trial": (
        "RoundOracle.end_trial/update_trial (late reports of released workers) "
        "and the journal's saved keys"
    ),
    "keras_tuner.src.engine.oracle.Oracle.reload": "OracleSeam.reload (a copy)",
    "keras_tuner.src.engine.oracle.Oracle._check_consecutive_failures": (
        "OracleSeam._check_consecutive_failures (an incremental copy that "
        "skips the failures ignores_failure names)"
    ),
    "keras_tuner.src.engine.oracle.Oracle._compute_values_hash": (
        "OracleSeam._compute_values_hash (overridden)"
    ),
    "keras_tuner.src.engine.oracle.Oracle._save_trial": (
        "OracleSeam._save_trial (overridden: atomic writes)"
    ),
    "keras_tuner.src.engine.oracle.Oracle.get_state": (
        "the journal plan of RoundOracle (keys that grow with the trials)"
    ),
    "keras_tuner.src.distribute.oracle_chief.start_server": (
        "serve_oracle (a copy that releases dead workers)"
    ),
    "keras_tuner.src.distribute.oracle_chief.exit_chief": "serve_oracle",
    "keras_tuner.src.distribute.utils.has_chief_oracle": (
        "in_distributed_mode (search(workers=N) refuses to run inside Keras "
        "Tuner's distribution: KERASTUNER_ORACLE_IP decides it)"
    ),
    "keras_tuner.src.engine.metrics_tracking.MetricsTracker": (
        "RoundOracle's rerun of an interrupted trial; analysis reads histories"
    ),
    "keras_tuner.src.engine.oracle.Display": (
        "kt_ext.tuners._progress.SearchDisplay (a subclass: its state, its "
        "bookkeeping in on_trial_begin, the oracle calling on_trial_begin/"
        "on_trial_end) and display_of/set_display (Oracle._display)"
    ),
    "keras_tuner.src.utils.try_clear": (
        "hold_trial_end_clearing (replaced while held; IS_NOTEBOOK is read there only)"
    ),
    "keras_tuner.src.engine.base_tuner.BaseTuner.search": (
        "in_keras_tuner_search (its frame marks a trial's fit); "
        "hold_trial_end_clearing (the trial display clears after fit)"
    ),
}

#: Keras Tuner's trial display, which the oracle calls when a trial begins and
#: ends; kt_ext's tuners replace it with their search progress.
Display = _oracle_module.Display
MetricsTracker = _metrics_tracking.MetricsTracker
MetricHistory = _metrics_tracking.MetricHistory
save_json = _utils.save_json


def is_chief_process() -> bool:
    """Whether this process serves the oracle in Keras Tuner's distributed mode.

    Example:
        >>> is_chief_process()  # KERASTUNER_TUNER_ID is not "chief" here
        False
    """
    return _dist_utils.is_chief_oracle()


def in_distributed_mode() -> bool:
    """Whether Keras Tuner's ``KERASTUNER_*`` variables are set in this process.

    Example:
        >>> in_distributed_mode()
        False
    """
    return _dist_utils.has_chief_oracle()


# -- Keras Tuner's output between trials --------------------------------------


class _TrialEndClearing:
    """What :func:`hold_trial_end_clearing` changed, to put it back."""

    is_notebook: bool | None = None  # Keras Tuner's flag before the hold
    try_clear: Any = None  # Keras Tuner's own try_clear


def hold_trial_end_clearing() -> None:
    """Keras Tuner's end-of-trial clearing writes a newline until the trial ends.

    Keras Tuner's trial display clears the output when a trial ends
    (``utils.try_clear``, its only use of ``utils.IS_NOTEBOOK``). In a notebook
    that clears the cell, trial summaries included; in plain ``python`` it
    writes IPython's escape codes whenever IPython is installed, as Keras Tuner
    then believes it runs in a notebook. While held, the clearing is the newline
    Keras Tuner writes in a terminal; the next clearing (the end of the trial)
    or :func:`release_trial_end_clearing` puts ``IS_NOTEBOOK`` and
    ``try_clear`` back. Holding again while held changes nothing.

    Example:
        >>> hold_trial_end_clearing()
        >>> release_trial_end_clearing()
    """
    if _TrialEndClearing.is_notebook is not None:
        return
    _TrialEndClearing.is_notebook = _utils.IS_NOTEBOOK
    _TrialEndClearing.try_clear = _utils.try_clear
    _utils.IS_NOTEBOOK = False
    _utils.try_clear = _clear_then_release


def release_trial_end_clearing() -> None:
    """Puts Keras Tuner's end-of-trial clearing back as it was (if held).

    Example:
        >>> release_trial_end_clearing()  # nothing held: nothing to do
    """
    if _TrialEndClearing.is_notebook is None:
        return
    _utils.IS_NOTEBOOK = _TrialEndClearing.is_notebook
    _utils.try_clear = _TrialEndClearing.try_clear
    _TrialEndClearing.is_notebook = None
    _TrialEndClearing.try_clear = None


def trial_end_clearing_held() -> bool:
    """Whether :func:`hold_trial_end_clearing` is in effect.

    Example:
        >>> trial_end_clearing_held()
        False
    """
    return _TrialEndClearing.is_notebook is not None


def keras_tuner_notebook_flag() -> bool:
    """Keras Tuner's ``utils.IS_NOTEBOOK``: whether it clears output as in a notebook.

    Example:
        >>> isinstance(keras_tuner_notebook_flag(), bool)
        True
    """
    return bool(_utils.IS_NOTEBOOK)


def _clear_then_release() -> None:
    clear = _TrialEndClearing.try_clear
    clear()  # IS_NOTEBOOK is False: Keras Tuner prints a newline
    release_trial_end_clearing()


def in_keras_tuner_search() -> bool:
    """Whether the caller runs inside Keras Tuner's ``BaseTuner.search`` loop.

    Looks for the frame of ``BaseTuner.search`` on this thread's stack, so a
    ``fit`` of a trial is told from a ``fit`` of the user's own.

    Example:
        >>> in_keras_tuner_search()
        False
    """
    code = _base_tuner_module.BaseTuner.search.__code__
    frame: types.FrameType | None = sys._getframe(1)
    while frame is not None:
        if frame.f_code is code:
            return True
        frame = frame.f_back
    return False


# -- private attributes of an Oracle, by name -----------------------------------


def display_of(oracle: Any) -> Any:
    """The oracle's trial display (``_display``); None for a remote oracle.

    Example:
        >>> type(display_of(keras_tuner.Oracle("loss"))).__name__
        'Display'
    """
    return getattr(oracle, "_display", None)


def set_display(oracle: keras_tuner.Oracle, display: Any) -> None:
    """Replaces the display the oracle calls when a trial begins and ends."""
    oracle._display = display


def retry_queue(oracle: keras_tuner.Oracle) -> list[str]:
    """The ids of the trials waiting for a retry; the last one goes first.

    Example:
        >>> retry_queue(keras_tuner.Oracle("loss"))
        []
    """
    return oracle._retry_queue


def set_retry_queue(oracle: keras_tuner.Oracle, trial_ids: list[str]) -> None:
    """Replaces the queue of trials waiting for a retry."""
    oracle._retry_queue = trial_ids


def tried_hashes(oracle: keras_tuner.Oracle) -> set[str]:
    """The hashes of every configuration tried so far (``_tried_so_far``).

    Example:
        >>> tried_hashes(keras_tuner.Oracle("loss"))
        set()
    """
    return oracle._tried_so_far


def trial_hashes(oracle: keras_tuner.Oracle) -> dict[str, str]:
    """Each trial's configuration hash, by trial id (``_id_to_hash``).

    Example:
        >>> dict(trial_hashes(keras_tuner.Oracle("loss")))
        {}
    """
    return oracle._id_to_hash


def project_dir(oracle: keras_tuner.Oracle) -> str:
    """The folder of the oracle's project (``directory/project_name``)."""
    return oracle._project_dir


def state_path(oracle: keras_tuner.Oracle) -> str:
    """The oracle's state file, ``oracle.json``."""
    return oracle._get_oracle_fname()


def trial_file(oracle: keras_tuner.Oracle, trial_id: str) -> str:
    """The ``trial.json`` file of ``trial_id``."""
    return os.path.join(oracle._get_trial_dir(trial_id), "trial.json")


def trial_files(oracle: keras_tuner.Oracle) -> list[str]:
    """Every ``trial.json`` of the oracle's project, sorted."""
    pattern = os.path.join(project_dir(oracle), "trial_*", "trial.json")
    return sorted(_backend.io.glob(pattern))


# -- the Oracle's private methods that kt_ext overrides -------------------------


class OracleSeam(keras_tuner.Oracle):
    """``keras_tuner.Oracle`` with the private methods kt_ext overrides.

    Subclasses fill in public hooks: :meth:`values_hash`,
    :meth:`save_trial_state`, :meth:`read_state` and :meth:`after_reload`.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        # Where the last consecutive-failure check stopped (see below).
        self._failure_scan: tuple[list[str], int, int, int, str] | None = None
        super().__init__(*args, **kwargs)

    def values_hash(self, values: Mapping[str, Any]) -> str:
        """The hash by which a configuration counts as tried (hook)."""
        return super()._compute_values_hash(values)

    def save_trial_state(self, trial: trial_module.Trial) -> None:
        """Writes ``trial``'s ``trial.json`` (hook)."""
        super()._save_trial(trial)

    def read_state(self) -> dict[str, Any]:
        """The saved state that :meth:`reload` restores (hook)."""
        return _utils.load_json(state_path(self))

    def after_reload(self) -> None:
        """Called at the end of :meth:`reload` (hook)."""

    def ignores_failure(self, trial: trial_module.Trial) -> bool:
        """Whether a FAILED ``trial`` is left out of the consecutive failures.

        Such a trial neither counts toward ``max_consecutive_failed_trials``
        nor breaks a run of failures (hook; Keras Tuner leaves none out).
        """
        return False

    def _compute_values_hash(self, values: Mapping[str, Any]) -> str:
        return self.values_hash(values)

    def _save_trial(self, trial: trial_module.Trial) -> None:
        self.save_trial_state(trial)

    def reload(self) -> None:
        """Keras Tuner's ``Oracle.reload``, with the state from :meth:`read_state`.

        Raises:
            RuntimeError: The saved state lacks a key (as in Keras Tuner).
        """
        state = self.read_state()
        for path in trial_files(self):
            trial = trial_module.Trial.load(path)
            self.trials[trial.trial_id] = trial
        try:
            self.set_state(state)
        except KeyError as error:
            raise RuntimeError(
                "Error reloading `Oracle` from existing project. If you did not "
                "mean to reload from an existing project, change the "
                "`project_name` or pass `overwrite=True` when creating the "
                f"`Tuner`. Found existing project at: {project_dir(self)}"
            ) from error
        for trial in self.ongoing_trials.values():
            retry_queue(self).append(trial.trial_id)
        self.ongoing_trials: dict[str, Any] = {}
        self.after_reload()

    def _check_consecutive_failures(self) -> None:
        """Keras Tuner's check, reading only the trials ended since last time.

        Keras Tuner scans every ended trial at each ``end_trial`` (O(trials))
        and raises where ``max_consecutive_failed_trials`` failures in a row
        first occur. Ended trials keep their status, so the scan goes on from
        where it stopped, with the run of failures it ended on; it starts over
        when ``end_order`` is another list, shrank, or the limit changed.
        FAILED trials that :meth:`ignores_failure` are skipped. The error's
        first line names the run's first failure (see
        :func:`consecutive_failures_message`).
        """
        limit, order = self.max_consecutive_failed_trials, self.end_order
        scan = self._failure_scan
        start, run, first = 0, 0, ""
        if scan and scan[0] is order and scan[1] <= len(order) and scan[3] == limit:
            start, run, first = scan[1], scan[2], scan[4]
        for trial_id in order[start:]:
            trial = self.trials[trial_id]
            failed = trial.status == trial_module.TrialStatus.FAILED
            if failed and self.ignores_failure(trial):
                continue
            if failed and run == 0:
                first = trial_id
            run = run + 1 if failed else 0
            if run == limit:
                raise RuntimeError(
                    consecutive_failures_message(limit, self.trials[first], trial)
                )
        self._failure_scan = (order, len(order), run, limit, first)


#: How Keras Tuner's error after too many failed trials in a row begins.
_CONSECUTIVE_FAILURES = "Number of consecutive failures exceeded the limit"


def is_consecutive_failures(error: BaseException) -> bool:
    r"""Whether ``error`` is the oracle's "too many failures in a row" error.

    Example:
        >>> is_consecutive_failures(RuntimeError(
        ...     "Number of consecutive failures exceeded the limit of 3.\n"))
        True
    """
    return isinstance(error, RuntimeError) and str(error).startswith(
        _CONSECUTIVE_FAILURES
    )


def consecutive_failures_message(
    limit: int, first: trial_module.Trial, last: trial_module.Trial
) -> str:
    """Keras Tuner's message, led by the first failure of the run.

    Keras Tuner's first line names only the limit, and the last trial's
    traceback follows; the first failure's type and message now come first.

    Example:
        >>> trial = trial_module.Trial(None, trial_id="00", status="FAILED")
        >>> trial.message = "ValueError: Invalid dtype: str96"
        >>> consecutive_failures_message(3, trial, trial).splitlines()[0][56:]
        'the first, trial 00, failed with ValueError: Invalid dtype: str96'
    """
    return (
        f"{_CONSECUTIVE_FAILURES} of {limit}: the first, trial {first.trial_id}, "
        f"failed with {failure_reason(first.message)}\n"
        f"The last one's traceback:\n{last.message or ''}"
    )


# -- the chief of Keras Tuner's distributed mode -------------------------------


def serve_oracle(
    oracle: keras_tuner.Oracle,
    poll_s: float,
    on_poll: Callable[[], Any],
    address: str | None = None,
) -> None:
    """Keras Tuner's ``start_server``, calling ``on_poll`` every ``poll_s`` s.

    Serves ``oracle`` to the workers on ``address`` (``"ip:port"``; default
    ``KERASTUNER_ORACLE_IP:PORT``) and returns once a worker has been told the
    search is over and the chief may exit (Keras Tuner's ``exit_chief``).

    Example:
        >>> serve_oracle(tuner.oracle, 1.0, lambda: None)  # doctest: +SKIP
    """
    # Imported here, as Keras Tuner does, to keep protobuf and gRPC optional.
    import grpc
    from keras_tuner.src import protos
    from keras_tuner.src.distribute import oracle_chief

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    servicer = oracle_chief.OracleServicer(oracle)
    protos.get_service_grpc().add_OracleServicer_to_server(servicer, server)
    if address is None:
        ip, port = (os.environ[f"KERASTUNER_ORACLE_{k}"] for k in ("IP", "PORT"))
        address = f"{ip}:{port}"
    server.add_insecure_port(address)
    server.start()
    try:
        while True:
            time.sleep(poll_s)
            on_poll()
            if servicer.stop_triggered and oracle_chief.exit_chief(oracle):
                break
    finally:
        server.stop(grace=None)
