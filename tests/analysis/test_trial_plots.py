"""Trial plots: their data functions (checked as data) and the figures."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from matplotlib.figure import Figure

from kt_ext.analysis import (
    best_so_far,
    hyperparameter_scores,
    plot_best_so_far,
    plot_correlations,
    plot_hyperparameters,
    rank_correlations,
    trials_dataframe,
)


def frame(direction: str, wall_time: list[float] | None = None) -> pd.DataFrame:
    df = pd.DataFrame(
        {
            "trial_id": ["0", "1", "2", "3", "4"],
            "status": ["FAILED", "COMPLETED", "COMPLETED", "COMPLETED", "RUNNING"],
            "score": [np.nan, 0.5, 0.3, 0.7, np.nan],
            "epochs": [1, 2, np.nan, 3, 1],
            "wall_time": wall_time or [np.nan] * 5,
        }
    )
    df.attrs.update(objective="val_accuracy", direction=direction, sampling={})
    return df


def test_best_so_far_follows_the_direction():
    curve = best_so_far(frame("max"))
    assert curve.trial_ids == ("0", "1", "2", "3", "4")
    np.testing.assert_array_equal(curve.epochs, [1, 3, 3, 6, 7])
    np.testing.assert_array_equal(curve.best, [np.nan, 0.5, 0.5, 0.7, 0.7])
    assert curve.wall_time is None
    assert (curve.objective, curve.direction) == ("val_accuracy", "max")
    np.testing.assert_array_equal(
        best_so_far(frame("min")).best, [np.nan, 0.5, 0.3, 0.3, 0.3]
    )


def test_best_so_far_against_wall_time_when_known():
    df = frame("max", wall_time=[1.0, 2.0, np.nan, 4.0, 0.5])
    np.testing.assert_array_equal(best_so_far(df).wall_time, [1, 3, 3, 7, 7.5])
    assert len(plot_best_so_far(df).axes) == 2
    assert len(plot_best_so_far(frame("max")).axes) == 1


def test_best_so_far_of_a_search(lr_random):
    df = trials_dataframe(lr_random.directory)
    curve = best_so_far(df)
    assert curve.epochs[-1] == 3 * len(df)
    assert curve.best[-1] == df["score"].max()
    assert (np.diff(curve.best) >= 0).all()


def test_hyperparameter_scores_log_linear_and_choices(lr_random):
    df = trials_dataframe(lr_random.directory)
    lr = hyperparameter_scores(df, "learning_rate")
    assert lr.log and lr.sampling == "log"
    assert lr.groups == {}
    np.testing.assert_array_equal(lr.values, df["hp_learning_rate"])
    np.testing.assert_array_equal(lr.scores, df["score"])
    assert not hyperparameter_scores(df, "units").log
    activation = hyperparameter_scores(df, "activation")
    assert set(activation.groups) == {"relu", "tanh", "gelu"}
    assert sum(len(scores) for scores in activation.groups.values()) == len(df)
    relu = df.loc[df["hp_activation"] == "relu", "score"]
    np.testing.assert_array_equal(activation.groups["relu"], relu)
    with pytest.raises(ValueError, match="`name` must be one of"):
        hyperparameter_scores(df, "momentum")


def test_hyperparameter_scores_skip_inactive_entries(mlp_hyperband):
    df = trials_dataframe(mlp_hyperband.directory)
    data = hyperparameter_scores(df, "reg_strength")
    assert len(data.values) == df["hp_reg_strength"].notna().sum() < len(df)


def test_plot_hyperparameters_uses_log_axes_for_log_entries(lr_random):
    df = trials_dataframe(lr_random.directory)
    figure = plot_hyperparameters(df)
    assert isinstance(figure, Figure)
    panels = figure.axes
    assert [ax.get_xlabel() for ax in panels] == list(df.attrs["sampling"])
    assert [ax.get_xscale() for ax in panels[:3]] == ["log", "linear", "linear"]
    assert len(plot_hyperparameters(df, ["units"]).axes) == 1


def test_plot_correlations_draws_one_bar_per_finite_rho(lr_random):
    correlations = rank_correlations(trials_dataframe(lr_random.directory))
    figure = plot_correlations(correlations)
    (ax,) = figure.axes
    assert len(ax.patches) == len(correlations)
    labels = [label.get_text() for label in ax.get_yticklabels()]
    assert labels[0] == "learning_rate"
    assert "activation=relu" in labels


def test_choices_are_in_ascending_or_declared_order():
    df = frame("max")
    df["status"] = "COMPLETED"
    df["score"] = [0.1, 0.2, 0.3, 0.4, 0.5]
    df["hp_lr"] = [0.001, 0.01, 0.0001, 0.001, 0.01]
    df["hp_act"] = ["tanh", "relu", "tanh", "gelu", "relu"]
    df.attrs.update(
        sampling={"lr": "choice", "act": "choice"},
        choices={"lr": [0.001, 0.01, 0.0001], "act": ["relu", "gelu", "tanh"]},
    )
    assert list(hyperparameter_scores(df, "lr").groups) == ["0.0001", "0.001", "0.01"]
    assert list(hyperparameter_scores(df, "act").groups) == ["relu", "gelu", "tanh"]
    ax = plot_hyperparameters(df, ["lr"]).axes[0]
    assert [label.get_text() for label in ax.get_xticklabels()] == [
        "0.0001",
        "0.001",
        "0.01",
    ]


def test_plots_show_the_epochs_behind_each_score(mlp_hyperband):
    df = trials_dataframe(mlp_hyperband.directory)
    levels = sorted(df["epochs_reached"].unique())
    assert len(levels) > 1
    # The best so far names the epochs of the trial that holds it.
    curve = best_so_far(df)
    last_best = df.set_index("trial_id").loc[
        df.loc[df["score"] == curve.best[-1], "trial_id"].iloc[0]
    ]
    assert curve.best_epochs[-1] == last_best["epochs_reached"]
    texts = [text.get_text() for text in plot_best_so_far(df).axes[0].texts]
    assert f"{last_best['epochs_reached']:g} ep" in texts
    # Each point of a panel carries its epochs, and a legend names them.
    lr = hyperparameter_scores(df, "learning_rate")
    np.testing.assert_array_equal(lr.epochs, df["epochs_reached"])
    figure = plot_hyperparameters(df, ["learning_rate", "optimizer"])
    (legend,) = figure.legends
    assert [t.get_text() for t in legend.get_texts()] == [f"{e:g}" for e in levels]
    # Correlation bars name the epochs they were computed at.
    correlations = rank_correlations(df)
    labels = [
        label.get_text()
        for label in plot_correlations(correlations).axes[0].get_yticklabels()
    ]
    assert labels and all(label.endswith(" ep)") for label in labels)
