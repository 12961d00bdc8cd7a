"""Spearman rank correlation of each hyperparameter with the score."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from kt_ext.analysis._dataframe import NUMERIC_SAMPLINGS, scored_trials

#: Columns of `rank_correlations`.
COLUMNS = ("name", "value", "rho", "p_value", "n")

#: Fewer active trials than this give NaN rho and p-value.
MIN_TRIALS = 3


def rank_correlations(df: pd.DataFrame) -> pd.DataFrame:
    """Spearman rho and p-value of each hyperparameter against the score.

    Only COMPLETED trials with a finite score count, and for each entry only
    the trials where it was active. A numeric entry gives one row (`value`
    None); a choice, boolean or fixed entry gives one row per value seen,
    correlating the indicator "entry == value" with the score. Spearman's rho
    depends only on ranks, so a log-scaled entry gives the same rho in log or
    linear space (`df.attrs["sampling"]` matters for the plots' axes). The sign
    is that of the raw score: with a "min" objective, a negative rho means
    larger values score better. Fewer than 3 trials, or a constant entry or
    score, give NaN rho and p-value rather than an error.

    Args:
        df: A frame from `trials_dataframe` (its `attrs["sampling"]` names
            the entries and their kind).

    Returns:
        Columns `name`, `value` (None for numeric entries), `rho`, `p_value`,
        `n` (trials used), sorted by |rho| descending, NaN last.

    Example:
        >>> from kt_ext.analysis import rank_correlations, trials_dataframe
        >>> rank_correlations(trials_dataframe("runs/bc")).head(3)  # doctest: +SKIP
    """
    scored = scored_trials(df)
    rows: list[dict[str, Any]] = []
    for name, sampling in df.attrs["sampling"].items():
        column = scored[f"hp_{name}"]
        active = column.notna()
        values, scores = column[active], scored["score"][active]
        if sampling in NUMERIC_SAMPLINGS:
            rows.append(_spearman(name, None, values.astype(float), scores))
        else:
            rows.extend(
                _spearman(name, value, (values == value).astype(float), scores)
                for value in values.unique().tolist()
            )
    result = pd.DataFrame(rows, columns=list(COLUMNS)).astype(
        {"rho": float, "p_value": float, "n": int}
    )
    # A column of None and strings would become a string column with NaN.
    result["value"] = pd.Series([row["value"] for row in rows], dtype=object)
    return result.sort_values(
        "rho", key=np.abs, ascending=False, na_position="last", kind="stable"
    ).reset_index(drop=True)


def _spearman(name: str, value: Any, x: pd.Series, y: pd.Series) -> dict[str, Any]:
    rho = p_value = math.nan
    if len(x) >= MIN_TRIALS and x.nunique() > 1 and y.nunique() > 1:
        result = stats.spearmanr(x, y)
        rho, p_value = float(result.statistic), float(result.pvalue)
    return {"name": name, "value": value, "rho": rho, "p_value": p_value, "n": len(x)}
