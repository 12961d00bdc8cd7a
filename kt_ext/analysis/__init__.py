"""Analysis of a search: a tidy DataFrame, rank correlations, plots, a report.

Needs the `analysis` extra (`pip install 'kt_ext[analysis]'`). Every function
takes a live `keras_tuner` tuner or oracle, or a tuner directory on disk
(`directory/project_name`), read from its JSON files without loading models.

Example:
    >>> from kt_ext import analysis
    >>> df = analysis.trials_dataframe("runs/bc")  # doctest: +SKIP
    >>> analysis.rank_correlations(df).head()  # doctest: +SKIP
    >>> analysis.plot_best_so_far(df).savefig("anytime.png")  # doctest: +SKIP
    >>> analysis.write_report("runs/bc", "report.html")  # doctest: +SKIP
"""

from __future__ import annotations

try:
    import matplotlib  # noqa: F401
    import pandas  # noqa: F401
except ImportError as error:
    raise ImportError(
        f"kt_ext.analysis needs {error.name!r}, part of the `analysis` extra: "
        "pip install 'kt_ext[analysis]'"
    ) from error

from kt_ext.analysis._correlations import rank_correlations
from kt_ext.analysis._dataframe import WALL_TIME_METRIC, trials_dataframe
from kt_ext.analysis._history_plots import (
    EntryRanges,
    NarrowingData,
    PruningSeries,
    narrowing_data,
    plot_narrowing_history,
    plot_pruning_log,
    pruning_series,
)
from kt_ext.analysis._report import write_report
from kt_ext.analysis._trial_plots import (
    BestSoFar,
    HyperparameterScores,
    best_so_far,
    hyperparameter_scores,
    plot_best_so_far,
    plot_correlations,
    plot_hyperparameters,
)

__all__ = [
    "WALL_TIME_METRIC",
    "BestSoFar",
    "EntryRanges",
    "HyperparameterScores",
    "NarrowingData",
    "PruningSeries",
    "best_so_far",
    "hyperparameter_scores",
    "narrowing_data",
    "plot_best_so_far",
    "plot_correlations",
    "plot_hyperparameters",
    "plot_narrowing_history",
    "plot_pruning_log",
    "pruning_series",
    "rank_correlations",
    "trials_dataframe",
    "write_report",
]
