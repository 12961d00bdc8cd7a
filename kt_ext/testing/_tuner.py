"""A real Keras Tuner search loop over a synthetic objective, without Keras.

`run_oracle` drives an oracle directly; `SyntheticTuner` instead runs Keras
Tuner's own `search()` loop (trial files, retries, IDLE back-off, distributed
chief and workers), with "training" that reads the objective's learning curve.
"""

from __future__ import annotations

import math
import time
from typing import Any

import keras_tuner
from keras_tuner import errors
from keras_tuner.engine.trial import Trial, TrialStatus

from kt_ext._internal.checks import check_int, check_number
from kt_ext.testing._objectives import SyntheticObjective
from kt_ext.tuners import FidelityTuner


class SyntheticTuner(FidelityTuner):
    """Runs any oracle's search on a synthetic objective in Keras Tuner's loop.

    Each trial trains from ``tuner/initial_epoch`` (else 0) to ``tuner/epochs``
    (else ``epochs``), reporting every epoch's score with ``update_trial`` as
    `run_oracle` does, and stops early when the oracle answers STOPPED. A
    non-finite score fails the trial. Everything else, including Keras Tuner's
    distributed mode, is ``FidelityTuner``'s.

    Args:
        oracle: An oracle created with ``objective=objective.objective`` and
            ``hyperparameters=objective.hyperparameters()`` (see `make_oracle`).
        objective: The synthetic objective to "train".
        seconds_per_epoch: Sleep per epoch, to make trials take time.
        epochs: Epochs of a trial without ``tuner/epochs``.
        **kwargs: ``keras_tuner.Tuner`` arguments (``directory``,
            ``project_name``, ``overwrite``, ...).

    Example:
        >>> from kt_ext.oracles import CoarseToFineOracle
        >>> from kt_ext.testing import get_objective, make_oracle
        >>> objective = get_objective("lr_only", seed=0)
        >>> oracle = make_oracle(CoarseToFineOracle, objective, max_epochs=3, seed=1)
        >>> import tempfile
        >>> tuner = SyntheticTuner(oracle, objective, directory=tempfile.mkdtemp())
        >>> tuner.search()  # no model is trained
        >>> len(tuner.oracle.trials) > 0
        True
    """

    def __init__(
        self,
        oracle: keras_tuner.Oracle,
        objective: SyntheticObjective,
        *,
        seconds_per_epoch: float = 0.0,
        epochs: int = 1,
        **kwargs: Any,
    ) -> None:
        check_number("seconds_per_epoch", seconds_per_epoch, low=0, high=math.inf)
        check_int("epochs", epochs, 1)
        super().__init__(oracle, hypermodel=None, **kwargs)
        self.objective = objective
        self.seconds_per_epoch = seconds_per_epoch
        self.epochs = epochs

    def run_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> list[float]:
        """Reports the trial's epochs one by one; returns its learning curve."""
        values = trial.hyperparameters.values
        start = int(values.get("tuner/initial_epoch", 0))
        stop = int(values.get("tuner/epochs", self.epochs))
        curve: list[float] = []
        for epoch in range(start, stop):
            time.sleep(self.seconds_per_epoch)
            score = self.objective.evaluate(values, epoch + 1)
            curve.append(score)
            metrics = {self.objective.metric: score}
            reported = self.oracle.update_trial(trial.trial_id, metrics, step=epoch)
            if not math.isfinite(score):
                raise errors.FailedTrialError(
                    f"{self.objective.metric} is {score} at epoch {epoch + 1}: "
                    "the configuration diverged."
                )
            if reported.status == TrialStatus.STOPPED:
                break
        return curve

    def _run_and_update_trial(self, trial: Trial, *args: Any, **kwargs: Any) -> None:
        # Every epoch is already reported: Keras Tuner's final report would
        # repeat it (with a deprecation warning).
        self.run_trial(trial, *args, **kwargs)

    def _populate_initial_space(self) -> None:
        """The oracle already holds the objective's space: nothing to build."""
