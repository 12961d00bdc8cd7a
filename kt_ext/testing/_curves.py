"""The pure maths of the synthetic objectives: curves, penalties and noise.

Small typed functions with no Keras Tuner in sight, so each is tested alone;
`kt_ext.testing._objectives` builds the objectives from them.
"""

from __future__ import annotations

import hashlib
import math
import numbers
from collections.abc import Mapping
from typing import Any

import numpy as np


def learning_curve(epoch: float, start: float, final: float, tau: float) -> float:
    """Score after `epoch` epochs of an exponential curve from `start` to `final`.

    Args:
        epoch: Epochs trained (0 gives `start`).
        start: Score before training.
        final: Score after infinitely many epochs.
        tau: Epochs to cover 63% of the way (smaller learns faster).

    Returns:
        The score after `epoch` epochs.

    Example:
        >>> round(learning_curve(1.0, 0.0, 1.0, 1.0), 3)
        0.632
    """
    return final + (start - final) * math.exp(-epoch / tau)


def log_bowl(value: float, center: float, below: float, above: float) -> float:
    """Quadratic penalty in log10 space, 0 at `center`, steeper on one side.

    Args:
        value: A positive value, e.g. a learning rate.
        center: The best value.
        below: Decades below `center` at which the penalty is 0.5.
        above: Decades above `center` at which the penalty is 0.5.

    Returns:
        The penalty, at least 0.

    Example:
        >>> log_bowl(1e-3, 1e-2, 1.0, 0.5), log_bowl(1e-1, 1e-2, 1.0, 0.5)
        (0.5, 2.0)
    """
    distance = math.log10(value) - math.log10(center)
    distance /= below if distance < 0 else above
    return 0.5 * distance * distance


def learning_rate_tau(learning_rate: float, reference: float, base_tau: float) -> float:
    """Curve time constant: `base_tau` at `reference`, shorter for higher rates.

    Args:
        learning_rate: The configuration's learning rate.
        reference: The learning rate at which the time constant is `base_tau`.
        base_tau: Epochs to cover 63% of the curve at `reference`.

    Returns:
        The time constant in epochs.

    Example:
        >>> learning_rate_tau(4e-3, 1e-3, 3.0)
        1.5
    """
    return base_tau * math.sqrt(reference / learning_rate)


def final_score(penalty: float, start: float, best: float) -> float:
    """Asymptotic score of a configuration: `best` at penalty 0, `start` at infinity.

    Args:
        penalty: How far the configuration is from the optimum (at least 0).
        start: Score before training.
        best: Score of the optimum after infinitely many epochs.

    Returns:
        The final score, between `start` and `best`.

    Example:
        >>> final_score(0.0, 2.3, 0.25)
        0.25
    """
    return start + (best - start) * math.exp(-penalty)


def canonical(value: Any) -> str:
    """A text form of a value that is the same for Python and NumPy scalars.

    Args:
        value: A hyperparameter value.

    Returns:
        Its canonical text.

    Example:
        >>> canonical(np.float64(0.1)) == canonical(0.1)
        True
    """
    if isinstance(value, bool | np.bool_):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        return repr(float(value))
    return str(value)


def stable_normal(seed: int, config: Mapping[str, Any], epoch: int) -> float:
    """A standard normal draw fixed by (seed, configuration, epoch).

    It hashes the sorted items with BLAKE2b (not Python's salted `hash()`) and
    turns the digest into a normal draw (Box-Muller), so it is the same in
    every process, trial order and platform.

    Args:
        seed: The objective's seed.
        config: Hyperparameter values.
        epoch: The epoch (1-based).

    Returns:
        A draw from N(0, 1).

    Example:
        >>> stable_normal(0, {"a": 1}, 3) == stable_normal(0, {"a": 1}, 3)
        True
    """
    items = ";".join(f"{name}={canonical(config[name])}" for name in sorted(config))
    key = f"{seed}|{epoch}|{items}".encode()
    digest = hashlib.blake2b(key, digest_size=16).digest()
    uniform_1 = (int.from_bytes(digest[:8], "little") + 0.5) / 2.0**64
    uniform_2 = int.from_bytes(digest[8:], "little") / 2.0**64
    return math.sqrt(-2.0 * math.log(uniform_1)) * math.cos(2.0 * math.pi * uniform_2)
