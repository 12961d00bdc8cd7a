"""Model-based sampling and learning-curve extrapolation: pure maths, no Keras."""

from __future__ import annotations

import math

import keras_tuner as kt
import numpy as np

from kt_ext.oracles._curve_fit import predict_final
from kt_ext.oracles._sampling import (
    fit_model,
    kde_draw,
    propose,
    round_percentiles,
    split_good_bad,
)


def test_percentiles_rank_within_a_round_and_share_ties():
    assert round_percentiles([0.1, 0.1, 0.9], "max") == [0.25, 0.25, 1.0]
    assert round_percentiles([3.0], "min") == [1.0]
    assert round_percentiles([], "max") == []


def test_split_keeps_at_least_one_good():
    assert split_good_bad([0.2, 0.1], 0.01) == ([0], [1])


def test_kde_draws_stay_inside_the_box():
    draws = kde_draw(np.array([0.0, 1.0]), 0.5, 0.3, 0.6, 500, np.random.default_rng(1))
    assert draws.min() >= 0.3 and draws.max() <= 0.6


def _space():
    hps = kt.HyperParameters()
    hps.Float("lr", 1e-5, 1e-1, sampling="log")
    hps.Choice("act", ["relu", "tanh", "gelu"])
    with hps.conditional_scope("act", ["relu"]):
        hps.Int("units", 16, 256)
    space = {
        "lr": {"min": 1e-4, "max": 1e-1, "sampling": "log"},
        "act": {"values": ["relu", "tanh"]},
        "units": {"min": 16, "max": 256, "sampling": "linear"},
    }
    return hps, space


def test_proposals_respect_the_space_and_follow_the_good_trials():
    hps, space = _space()
    rng = np.random.default_rng(0)
    # Good trials: high lr with relu; bad: low lr with tanh.
    seen = [({"lr": 3e-2, "act": "relu", "units": 128}, 1.0)] * 6 + [
        ({"lr": 2e-4, "act": "tanh"}, 0.0)
    ] * 12
    model = fit_model(hps, space, seen)
    proposals = [propose(hps, space, model, rng) for _ in range(40)]
    for values in proposals:
        assert 1e-4 <= values["lr"] <= 1e-1
        assert values["act"] in ("relu", "tanh")
        assert ("units" in values) == (values["act"] == "relu")
    assert np.median([math.log10(v["lr"]) for v in proposals]) > -2.5
    assert sum(v["act"] == "relu" for v in proposals) > 30


def test_too_few_observations_give_no_model():
    hps, space = _space()
    assert fit_model(hps, space, [({"lr": 1e-3, "act": "relu"}, 1.0)]) is None
    values = propose(hps, space, None, np.random.default_rng(0))
    assert 1e-4 <= values["lr"] <= 1e-1


def test_prediction_extrapolates_an_exponential_curve():
    tau, final = 4.0, 0.9
    curve = [final * (1 - math.exp(-k / tau)) for k in range(1, 4)]
    predicted = predict_final(curve, 27, "max")
    assert abs(predicted - final * (1 - math.exp(-27 / tau))) < 1e-9
    loss = [2.0 - value for value in curve]
    assert abs(predict_final(loss, 27, "min") - (2.0 - predicted)) < 1e-9


def test_prediction_never_worse_than_reached_and_plain_without_a_trend():
    assert predict_final([0.5, 0.7, 0.6], 27, "max") == 0.7
    assert predict_final([0.5, 0.6], 27, "max") == 0.6
    assert predict_final([0.5, math.nan, 0.6], 27, "max") == 0.6
    assert math.isnan(predict_final([math.nan], 27, "max"))
    # A fast starter that has plateaued is predicted below a slow steady one.
    fast = [0.80, 0.82, 0.821]
    slow = [0.50, 0.65, 0.75]
    assert predict_final(slow, 27, "max") > predict_final(fast, 27, "max")
