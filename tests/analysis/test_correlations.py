"""`rank_correlations` on synthetic searches with known influences."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from kt_ext.analysis import rank_correlations, trials_dataframe


def frame(sampling: dict[str, str], **columns: list) -> pd.DataFrame:
    """A hand-made `trials_dataframe` frame of COMPLETED trials."""
    scores = columns.pop("score")
    df = pd.DataFrame(
        {
            "trial_id": [f"{i:02d}" for i in range(len(scores))],
            "status": "COMPLETED",
            "score": scores,
            **{f"hp_{name}": values for name, values in columns.items()},
        }
    )
    df.attrs.update(objective="val_loss", direction="min", sampling=sampling)
    return df


def test_only_the_learning_rate_matters(lr_random):
    result = rank_correlations(trials_dataframe(lr_random.directory))
    assert list(result.columns) == ["epochs", "name", "value", "rho", "p_value", "n"]
    assert (result["epochs"] == 3).all()  # one group: every trial trained 3
    first = result.iloc[0]
    assert first["name"] == "learning_rate"
    assert first["value"] is None
    assert first["rho"] > 0.6
    assert first["p_value"] < 1e-3
    assert first["n"] == 30
    for name in ("units", "dropout"):
        row = result[result["name"] == name].iloc[0]
        assert abs(row["rho"]) < 0.35
        assert row["p_value"] > 0.05
    # One indicator row per activation value.
    activations = result[result["name"] == "activation"]
    assert sorted(activations["value"]) == ["gelu", "relu", "tanh"]
    assert (activations["p_value"] > 0.05).all()
    assert list(result["rho"].abs()) == sorted(result["rho"].abs(), reverse=True)


def test_choice_indicators_and_conditional_entries(mlp_hyperband):
    df = trials_dataframe(mlp_hyperband.directory)
    result = rank_correlations(df, by_epochs=False)
    assert result["epochs"].isna().all()
    scored = df[df["status"] == "COMPLETED"]
    sgd = result[(result["name"] == "optimizer") & (result["value"] == "sgd")]
    expected = stats.spearmanr(scored["hp_optimizer"] == "sgd", scored["score"])
    assert math.isclose(sgd["rho"].iloc[0], expected.statistic)
    reg_strength = result[result["name"] == "reg_strength"].iloc[0]
    assert reg_strength["n"] == scored["hp_reg_strength"].notna().sum() < len(scored)


def test_hyperband_trials_are_correlated_at_equal_epochs(mlp_hyperband):
    df = trials_dataframe(mlp_hyperband.directory)
    result = rank_correlations(df)
    # Hyperband's rungs (max_epochs 9, factor 3) with at least 3 trials each.
    levels = df["epochs_reached"].value_counts()
    assert list(result["epochs"].unique()) == sorted(
        levels[levels >= 3].index, reverse=True
    )
    for epochs, group in result.groupby("epochs"):
        trials = df[df["epochs_reached"] == epochs]
        lr = group[group["name"] == "learning_rate"].iloc[0]
        expected = stats.spearmanr(trials["hp_learning_rate"], trials["score"])
        assert lr["n"] == len(trials)
        assert math.isclose(lr["rho"], expected.statistic)


def test_low_fidelity_scores_do_not_pass_for_an_influence():
    # Within each number of epochs x makes no difference, but the trials that
    # trained longer (lower loss) happen to have larger x: pooled, x looks
    # influential; at equal epochs it is not.
    rng = np.random.default_rng(0)
    x = np.concatenate([rng.uniform(0, 1, 12), rng.uniform(1, 2, 12)])
    score = np.concatenate([rng.normal(1.0, 0.05, 12), rng.normal(0.5, 0.05, 12)])
    df = frame({"x": "linear"}, score=score, x=x)
    df["epochs_reached"] = [1.0] * 12 + [9.0] * 12
    pooled = rank_correlations(df, by_epochs=False).iloc[0]
    assert pooled["rho"] < -0.7 and pooled["p_value"] < 1e-3
    grouped = rank_correlations(df)
    assert grouped["epochs"].tolist() == [9.0, 1.0]  # the longest first
    assert (grouped["p_value"] > 0.05).all()
    assert (grouped["n"] == 12).all()


def test_groups_smaller_than_three_trials_are_left_out():
    df = frame({"x": "linear"}, score=[0.1, 0.2, 0.3, 0.4, 0.5], x=[1, 2, 3, 4, 5])
    df["epochs_reached"] = [1.0, 1.0, 1.0, 3.0, 3.0]
    assert rank_correlations(df)["epochs"].tolist() == [1.0]
    df["epochs_reached"] = [1.0, 2.0, 3.0, 3.0, 4.0]
    only = rank_correlations(df)  # none has 3: the largest is kept, as NaN
    assert only["epochs"].tolist() == [3.0]
    assert only["rho"].isna().all()


def test_known_signs_and_ranking():
    rng = np.random.default_rng(0)
    lr = 10 ** rng.uniform(-5, -1, 40)
    units = rng.integers(16, 256, 40)
    score = -np.log10(lr) + 0.1 * rng.normal(size=40)  # larger lr: lower loss
    kind = np.where(rng.random(40) < 0.5, "a", "b")
    score = score + np.where(kind == "b", 0.8, 0.0)  # "b" is worse (min)
    df = frame(
        {"lr": "log", "units": "linear", "kind": "choice"},
        score=score,
        lr=lr,
        units=units,
        kind=kind,
    )
    result = rank_correlations(df).set_index(["name", "value"], drop=False)
    assert result.iloc[0]["name"] == "lr"
    assert result.loc[("lr", None), "rho"] < -0.8
    assert result.loc[("kind", "b"), "rho"] > 0
    assert result.loc[("kind", "a"), "rho"] < 0
    assert abs(result.loc[("units", None), "rho"]) < 0.3


def test_spearman_is_rank_based_so_log_space_gives_the_same_rho():
    lr = [1e-4, 1e-3, 1e-2, 3e-2, 1e-1]
    score = [0.5, 0.1, 0.3, 0.2, 0.4]
    log = rank_correlations(frame({"lr": "log"}, score=score, lr=lr))
    expected = stats.spearmanr(np.log10(lr), score)
    assert math.isclose(log["rho"].iloc[0], expected.statistic)


def test_constant_columns_too_few_rows_and_inactive_rows_give_nan():
    df = frame(
        {"fixed": "linear", "sparse": "log", "choice": "choice"},
        score=[0.1, 0.2, 0.3, 0.4],
        fixed=[1.0, 1.0, 1.0, 1.0],
        sparse=[1e-3, np.nan, 1e-2, np.nan],
        choice=["a", "a", "a", "a"],
    )
    result = rank_correlations(df).set_index("name")
    assert result["rho"].isna().all()
    assert result["p_value"].isna().all()
    assert result.loc["sparse", "n"] == 2
    assert result.loc["fixed", "n"] == 4
    assert result.loc["choice", "value"] == "a"


def test_failed_trials_and_non_finite_scores_are_left_out():
    df = frame(
        {"x": "linear"},
        score=[0.1, 0.2, np.inf, 0.4, 0.5, np.nan],
        x=[1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
    )
    df.loc[4, "status"] = "FAILED"
    row = rank_correlations(df).iloc[0]
    assert row["n"] == 3
    assert math.isclose(row["rho"], 1.0)


def test_no_trials():
    df = frame({"x": "linear"}, score=[], x=[])
    result = rank_correlations(df)
    assert result["n"].tolist() == [0]
    assert result["rho"].isna().all()


def test_few_trials_get_exact_p_values_not_zero():
    # A perfect order of 3 trials: one of the 6 pairings, or its reverse.
    df = frame({"x": "linear"}, score=[0.3, 0.2, 0.1], x=[1.0, 2.0, 3.0])
    row = rank_correlations(df).iloc[0]
    assert row["rho"] == -1.0
    assert math.isclose(row["p_value"], 2 / 6)
    # Beyond 8 trials, scipy's p-value.
    x = np.arange(9.0)
    score = np.array([0.1, 0.0, 0.3, 0.2, 0.5, 0.4, 0.7, 0.6, 0.8])
    row = rank_correlations(frame({"x": "linear"}, score=score, x=x)).iloc[0]
    assert math.isclose(row["p_value"], stats.spearmanr(x, score).pvalue)


def test_the_report_shows_the_strongest_rows_of_each_group():
    from kt_ext.analysis._report import TOP_CORRELATIONS, _strongest

    rng = np.random.default_rng(1)
    kinds = {f"x{i}": "linear" for i in range(12)}
    df = frame(kinds, score=rng.random(10), **{k: rng.random(10) for k in kinds})
    df["epochs_reached"] = [1.0] * 5 + [3.0] * 5
    correlations = rank_correlations(df)
    shown = _strongest(correlations)
    top = TOP_CORRELATIONS
    assert shown.groupby("epochs").size().to_dict() == {1.0: top, 3.0: top}
    for epochs, group in correlations.groupby("epochs"):
        strongest = group["rho"].abs().nlargest(top).to_numpy()
        np.testing.assert_allclose(
            np.sort(shown[shown["epochs"] == epochs]["rho"].abs())[::-1], strongest
        )
