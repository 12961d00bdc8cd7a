"""The current search space of a round-based oracle, as plain JSON.

A *space* maps each entry name to either ``{"min", "max", "sampling"}`` (a
numeric range in value space) or ``{"values": [...]}`` (the allowed choices; a
frozen entry has one value). It is the format of DESIGN.md's
``narrowing_history`` and lives in the oracles' ``get_state``. Functions here
never mutate the ``HyperParameters`` they read, nor the space they are given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from typing import Any

import keras_tuner
import numpy as np
from keras_tuner.engine import hyperparameters as hp_module

from kt_ext._internal.names import is_bookkeeping

Space = dict[str, dict[str, Any]]


def entry_space(hp: hp_module.HyperParameter) -> dict[str, Any]:
    """The full range or choices of one KT hyperparameter.

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Float("lr", 1e-4, 1e-1, sampling="log")
        >>> entry_space(hps.space[0])
        {'min': 0.0001, 'max': 0.1, 'sampling': 'log'}
    """
    if isinstance(hp, hp_module.Fixed):
        return {"values": [hp.value]}
    if isinstance(hp, hp_module.Boolean):
        return {"values": [False, True]}
    if isinstance(hp, hp_module.Choice):
        return {"values": list(hp.values)}
    return {
        "min": hp.min_value,
        "max": hp.max_value,
        "sampling": hp.sampling or "linear",
    }


def initial_space(hyperparameters: keras_tuner.HyperParameters) -> Space:
    """The space spanned by every (non-bookkeeping) entry of ``hyperparameters``.

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Float("learning_rate", 1e-4, 1e-1, sampling="log")
        >>> _ = hps.Choice("activation", ["relu", "tanh"])
        >>> initial_space(hps)["activation"]
        {'values': ['relu', 'tanh']}
    """
    return {
        hp.name: entry_space(hp)
        for hp in hyperparameters.space
        if not is_bookkeeping(hp.name)
    }


def sample_values(
    hyperparameters: keras_tuner.HyperParameters,
    space: Mapping[str, Mapping[str, Any]],
    rng: np.random.Generator,
) -> dict[str, Any]:
    """One configuration drawn uniformly inside ``space``.

    Numeric ranges are sampled uniformly in KT's unit-cube view of the entry
    (so log-scaled entries are log-uniform; ints and steps are respected);
    choices uniformly among the allowed values. Conditional entries get a value
    only where their conditions hold. Entries missing from ``space`` use their
    full range.

    Example:
        >>> import keras_tuner as kt
        >>> hps = kt.HyperParameters()
        >>> _ = hps.Int("units", 16, 256, sampling="log")
        >>> values = sample_values(
        ...     hps, {"units": {"min": 32, "max": 64, "sampling": "log"}},
        ...     np.random.default_rng(0))
        >>> 32 <= values["units"] <= 64
        True
    """
    hps = keras_tuner.HyperParameters()
    for hp in hyperparameters.space:
        hps.merge([hp])
        if is_bookkeeping(hp.name) or not hps.is_active(hp):
            continue
        entry = space.get(hp.name) or entry_space(hp)
        hps.values[hp.name] = _sample_entry(hp, entry, rng)
    return dict(hps.values)


def _sample_entry(
    hp: hp_module.HyperParameter, entry: Mapping[str, Any], rng: np.random.Generator
) -> Any:
    if "values" in entry:
        values = entry["values"]
        return values[int(rng.integers(len(values)))]
    low, high = entry["min"], entry["max"]
    prob = rng.uniform(hp.value_to_prob(low), hp.value_to_prob(high))
    value = hp.prob_to_value(float(prob))
    # Rounding to a step or an int can land just outside the range.
    return type(value)(min(max(value, low), high))


def values_key(values: Mapping[str, Any]) -> str:
    """A stable hash of a configuration, ignoring ``tuner/...`` entries.

    Example:
        >>> values_key({"a": 1, "tuner/epochs": 3}) == values_key({"a": 1})
        True
    """
    plain = {k: v for k, v in values.items() if not is_bookkeeping(k)}
    text = json.dumps(plain, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:32]
