"""Oracle history plots: their data functions (checked as data) and the figures."""

from __future__ import annotations

import numpy as np
import pytest

from kt_ext.analysis import (
    narrowing_data,
    plot_narrowing_history,
    plot_pruning_log,
    pruning_series,
)


def test_narrowing_data(narrowing_history):
    data = narrowing_data(narrowing_history)
    np.testing.assert_array_equal(data.rounds, [0, 1])
    np.testing.assert_array_equal(data.epochs, [1, 3])
    np.testing.assert_array_equal(data.trials, [3, 2])
    np.testing.assert_array_equal(data.best_scores, [0.6, 0.8])
    lr, activation = data.entries
    assert (lr.name, lr.sampling) == ("learning_rate", "log")
    np.testing.assert_array_equal(lr.low, [1e-5, 1e-3])
    np.testing.assert_array_equal(lr.high, [1e-1, 1e-2])
    assert lr.values == ((), ())
    assert activation.sampling is None
    assert np.isnan(activation.low).all()
    assert activation.values == (("relu", "tanh", "gelu"), ("relu", "gelu"))


def test_narrowing_data_with_an_entry_that_appears_later(narrowing_history):
    narrowing_history[0]["best_score"] = None
    narrowing_history[1]["space"]["units"] = {
        "min": 32,
        "max": 64,
        "sampling": "linear",
    }
    data = narrowing_data(narrowing_history)
    np.testing.assert_array_equal(data.best_scores, [np.nan, 0.8])
    units = data.entries[-1]
    np.testing.assert_array_equal(units.low, [np.nan, 32])
    assert len(plot_narrowing_history(narrowing_history).axes) == 4


def test_plot_narrowing_history(narrowing_history):
    figure = plot_narrowing_history(narrowing_history)
    panels = figure.axes
    assert [ax.get_title() for ax in panels] == [
        "best score after each round",
        "learning_rate",
        "activation",
    ]
    assert panels[1].get_yscale() == "log"


def test_pruning_series(pruning_log):
    units, lr, activation = pruning_series(pruning_log)
    assert units.name == "units" and units.actions == ("freeze",)
    np.testing.assert_array_equal(lr.rho, [0.7])
    np.testing.assert_array_equal(activation.rounds, [1])
    np.testing.assert_array_equal(activation.p_values, [0.04])
    assert activation.actions == ("remove",)
    figure = plot_pruning_log(pruning_log)
    (ax,) = figure.axes
    legend = [text.get_text() for text in ax.get_legend().get_texts()]
    assert legend == [
        "units",
        "learning_rate",
        "activation",
        "narrow",
        "remove",
        "freeze",
    ]


@pytest.mark.parametrize(
    ("function", "records", "missing"),
    [
        (narrowing_data, [{"round": 0, "epochs": 1}], "trial_ids"),
        (pruning_series, [{"round": 0, "name": "x", "rho": 0.1}], "action"),
    ],
)
def test_records_missing_a_key_are_rejected(function, records, missing):
    with pytest.raises(ValueError, match=missing):
        function(records)


def test_a_single_pruning_decision_has_whole_rounds(pruning_log):
    ax = plot_pruning_log(pruning_log[:1]).axes[0]
    assert ax.get_xticks().tolist() == [0]
    ax = plot_pruning_log(pruning_log).axes[0]
    assert ax.get_xticks().tolist() == [0, 1]


def test_narrowing_choices_are_in_ascending_order(narrowing_history):
    narrowing_history[0]["space"]["lr"] = {"values": [0.001, 0.01, 0.0001]}
    narrowing_history[1]["space"]["lr"] = {"values": [0.01, 0.001]}
    ax = plot_narrowing_history(narrowing_history).axes[-1]
    assert [label.get_text() for label in ax.get_yticklabels()] == [
        "0.0001",
        "0.001",
        "0.01",
    ]
