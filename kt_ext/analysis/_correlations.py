"""Spearman rank correlation of each hyperparameter with the score."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kt_ext.analysis._dataframe import NUMERIC_SAMPLINGS, scored_trials

#: Columns of `rank_correlations`.
COLUMNS = ("epochs", "name", "value", "rho", "p_value", "n")

#: Fewer active trials than this give NaN rho and p-value.
MIN_TRIALS = 3

#: Up to this many trials the p-value is exact (all n! pairings; 8! = 40,320):
#: the t approximation of ``scipy.stats.spearmanr`` gives p = 0 for a perfect
#: rank order of 3 trials, which one in three random orders has.
EXACT_UP_TO = 8


def rank_correlations(df: pd.DataFrame, *, by_epochs: bool = True) -> pd.DataFrame:
    """Spearman rho and p-value of each hyperparameter against the score.

    Only COMPLETED trials with a finite score count, and for each entry only
    the trials where it was active. Scores at different epochs do not
    compare (a 1-epoch score is no final one), so by default trials are
    grouped by the epochs they reached (`epochs_reached`) and correlated
    within each group; groups of fewer than 3 trials are left out, unless no
    group has 3 (then the largest is kept, giving NaN). A numeric entry gives
    one row per group (`value` None); a choice, boolean or fixed entry gives
    one row per value seen, correlating the indicator "entry == value" with
    the score. Spearman's rho depends only on ranks, so a log-scaled entry
    gives the same rho in log or linear space (`df.attrs["sampling"]` matters
    for the plots' axes). The sign is that of the raw score: with a "min"
    objective, a negative rho means larger values score better. Fewer than 3
    trials, or a constant entry or score, give NaN rho and p-value rather
    than an error. With at most 8 trials the p-value is exact (a
    permutation test over every pairing, ``scipy.stats.permutation_test``);
    with more, it is ``scipy.stats.spearmanr``'s.

    Args:
        df: A frame from `trials_dataframe` (its `attrs["sampling"]` names
            the entries and their kind).
        by_epochs: Correlate within groups of equal `epochs_reached` (True)
            or over all scored trials at once (False; `epochs` is then NaN).

    Returns:
        Columns `epochs` (the group's `epochs_reached`; NaN when not
        grouped or unknown), `name`, `value` (None for numeric entries),
        `rho`, `p_value`, `n` (trials used); the group with the most epochs
        first, and in each group by |rho| descending, NaN last.

    Example:
        >>> from kt_ext.analysis import rank_correlations, trials_dataframe
        >>> rank_correlations(trials_dataframe("runs/bc")).head(3)  # doctest: +SKIP
    """
    scored = scored_trials(df)
    rows: list[dict[str, Any]] = []
    for epochs, group in _groups(scored, by_epochs):
        rows.extend(_group_rows(df.attrs["sampling"], epochs, group))
    result = pd.DataFrame(rows, columns=list(COLUMNS)).astype(
        {"epochs": float, "rho": float, "p_value": float, "n": int}
    )
    # A column of None and strings would become a string column with NaN.
    result["value"] = pd.Series([row["value"] for row in rows], dtype=object)
    return result.sort_values(
        ["epochs", "rho"],
        key=lambda column: -column.abs() if column.name == "rho" else -column,
        na_position="last",
        kind="stable",
    ).reset_index(drop=True)


def _groups(scored: pd.DataFrame, by_epochs: bool) -> list[tuple[float, pd.DataFrame]]:
    """The trials to correlate together, by the epochs they reached."""
    if not by_epochs or "epochs_reached" not in scored or scored.empty:
        return [(math.nan, scored)]
    groups = [
        (float(epochs), group)
        for epochs, group in scored.groupby("epochs_reached", dropna=False)
    ]
    kept = [(epochs, group) for epochs, group in groups if len(group) >= MIN_TRIALS]
    if kept:
        return kept
    # Every group is too small: keep the largest (the most epochs on a tie).
    return [max(groups, key=lambda pair: (len(pair[1]), pair[0]))]


def _group_rows(
    sampling: dict[str, str], epochs: float, scored: pd.DataFrame
) -> list[dict[str, Any]]:
    rows = []
    for name, kind in sampling.items():
        column = scored[f"hp_{name}"]
        active = column.notna()
        values, scores = column[active], scored["score"][active]
        if kind in NUMERIC_SAMPLINGS:
            rows.append(_spearman(name, None, values.astype(float), scores))
        else:
            rows.extend(
                _spearman(name, value, (values == value).astype(float), scores)
                for value in values.unique().tolist()
            )
    return [{"epochs": epochs, **row} for row in rows]


def _spearman(name: str, value: Any, x: pd.Series, y: pd.Series) -> dict[str, Any]:
    rho = p_value = math.nan
    if len(x) >= MIN_TRIALS and x.nunique() > 1 and y.nunique() > 1:
        result = stats.spearmanr(x, y)
        rho, p_value = float(result.statistic), float(result.pvalue)
        if len(x) <= EXACT_UP_TO:
            p_value = exact_p_value(x.to_numpy(), y.to_numpy())
    return {"name": name, "value": value, "rho": rho, "p_value": p_value, "n": len(x)}


def exact_p_value(x: np.ndarray, y: np.ndarray) -> float:
    """The two-sided p-value of Spearman's rho over every pairing of x and y.

    Example:
        >>> round(exact_p_value(np.array([1, 2, 3]), np.array([3, 2, 1])), 3)
        0.333
    """
    x_ranks, y_ranks = stats.rankdata(x), stats.rankdata(y)

    def rho(y_ranks: np.ndarray, axis: int = -1) -> np.ndarray:
        # Pearson's r of the ranks (ties averaged), as spearmanr computes it.
        dx = x_ranks - x_ranks.mean()
        dy = y_ranks - y_ranks.mean(axis=axis, keepdims=True)
        return (dy * dx).sum(axis=axis) / np.sqrt(
            (dx**2).sum() * (dy**2).sum(axis=axis)
        )

    result = stats.permutation_test(
        (y_ranks,),
        rho,
        permutation_type="pairings",
        vectorized=True,
        n_resamples=np.inf,
        alternative="two-sided",
    )
    return float(result.pvalue)
