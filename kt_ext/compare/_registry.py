"""The registry of tuners a comparison can run, by name.

A factory gets a :class:`SearchSpec` (the arguments every tuner shares) and
returns a Keras Tuner tuner. Hyperband runs first and fixes the epoch budget;
every other tuner gets ``spec.epoch_budget`` and must not train more. Stock
tuners without an epoch budget (random, bayesian) run trials of
``max_epochs`` epochs, as many as fit. kt_ext's own tuners are registered only
if they can be imported, so a missing one never breaks the registry.

The stock strategies run Keras Tuner's own oracles (``HyperbandOracle``,
``RandomSearchOracle``, ``BayesianOptimizationOracle``) on
:class:`kt_ext.tuners.FidelityTuner` with lean trials off: they search as
Keras Tuner's tuners do and cost what they cost, while seeding, the checks of
a resumed search and the folds of ``spec.cv`` are those of kt_ext's tuners.
Every tuner of one seed trains on the same folds (each row of a comparison
carries its ``fold_digest``) and pays every fold's epochs from the same budget.

Keras Tuner's oracles draw their n-th random value from ``random.Random(seed +
n)``, so seeds 1, 2 and 3 draw one sequence shifted by one, and their searches
soon merge (29 of the first 30 random configurations are the same for seeds 1
and 2). The stock strategies therefore get :func:`stock_seed`, which starts
each seed a million draws from the next; the rows keep the seed as given.
"""

from __future__ import annotations

import dataclasses
import importlib
from collections.abc import Callable
from typing import Any

import keras_tuner as kt


@dataclasses.dataclass(frozen=True)
class SearchSpec:
    """What every tuner of a comparison shares.

    Attributes:
        hypermodel: A ``keras_tuner.HyperModel`` or ``model_builder(hp)``.
        objective: The objective's name, e.g. ``"val_accuracy"``.
        max_epochs: Epochs of the longest trial.
        factor: Hyperband's (and kt_ext's) epoch growth factor.
        seed: The seed of this run.
        directory: Keras Tuner's folder.
        project_name: The folder of this tuner and seed inside ``directory``.
        epoch_budget: Epochs to train at most (``None`` for the reference).
        overwrite: Start afresh (as comparisons do); ``False`` resumes the
            trials already in ``directory/project_name``.
        cv: The number of folds of a cross-validated search, or ``None``.
        workers: Worker processes of a kt_ext tuner's search
            (``search(workers=N)``); 1 searches in this process.

    Example:
        >>> from kt_ext.compare import SearchSpec
        >>> spec = SearchSpec(lambda hp: None, "val_accuracy", max_epochs=9,
        ...                   factor=3, seed=1, directory="runs", project_name="p")
        >>> spec.common()["objective"]
        'val_accuracy'
    """

    hypermodel: Any
    objective: str
    max_epochs: int
    factor: int
    seed: int
    directory: str
    project_name: str
    epoch_budget: int | None = None
    overwrite: bool = True
    cv: int | None = None
    workers: int = 1

    def common(self) -> dict[str, Any]:
        """Keyword arguments that every Keras Tuner tuner takes."""
        return {
            "objective": self.objective,
            "seed": self.seed,
            "directory": self.directory,
            "project_name": self.project_name,
            "overwrite": self.overwrite,
        }

    def trials_in_budget(self) -> int:
        """How many full-length trials fit in the epoch budget (at least one).

        A cross-validated trial of ``max_epochs`` costs ``cv`` times as much.
        """
        trial = self.max_epochs * (self.cv or 1)
        return max(1, (self.epoch_budget or trial) // trial)

    def oracle_args(self) -> dict[str, Any]:
        """What a Keras Tuner oracle takes: the objective and :func:`stock_seed`."""
        return {"objective": self.objective, "seed": stock_seed(self.seed)}

    def tuner_args(self) -> dict[str, Any]:
        """What a tuner built around an oracle takes of :meth:`common`."""
        common = self.common()
        return {key: common[key] for key in ("directory", "project_name", "overwrite")}


TunerFactory = Callable[[SearchSpec], kt.Tuner]

# Far more random draws than one search makes.
_STOCK_SEED_SPACING = 1_000_003


def stock_seed(seed: int) -> int:
    """The seed a Keras Tuner oracle gets for a comparison's ``seed``.

    Seeds ``s`` and ``s + 1`` start their oracles' draws about a million
    draws apart (never at 0, which Keras Tuner takes for "no seed").

    Example:
        >>> stock_seed(1), stock_seed(2)
        (1000004, 2000007)
    """
    return 1 + seed * _STOCK_SEED_SPACING


REFERENCE = "hyperband"
_REGISTRY: dict[str, TunerFactory] = {}


def register_tuner(name: str, factory: TunerFactory) -> None:
    """Makes ``factory`` available to comparisons as ``name``.

    Example:
        >>> import keras_tuner as kt
        >>> register_tuner(
        ...     "random_x3",
        ...     lambda spec: kt.RandomSearch(
        ...         spec.hypermodel, max_trials=3, **spec.common()),
        ... )
    """
    if not isinstance(name, str) or not name or "," in name:
        raise ValueError(
            f"`name` must be a non-empty string without commas, got {name!r}."
        )
    if not callable(factory):
        raise TypeError(f"`factory` must be callable, got {factory!r}.")
    _REGISTRY[name] = factory


def available_tuners() -> list[str]:
    """The registered tuner names, the reference (hyperband) first.

    Example:
        >>> available_tuners()[0]
        'hyperband'
    """
    return sorted(_REGISTRY, key=lambda name: (name != REFERENCE, name))


def get_factory(name: str) -> TunerFactory:
    """The factory registered as ``name``; ``ValueError`` listing the others."""
    if name not in _REGISTRY:
        raise ValueError(
            f"`tuners` has unknown tuner {name!r}; available: {available_tuners()}."
        )
    return _REGISTRY[name]


def _hyperband(spec: SearchSpec) -> kt.Tuner:
    oracle = kt.oracles.HyperbandOracle(
        max_epochs=spec.max_epochs, factor=spec.factor, **spec.oracle_args()
    )
    return _stock_tuner(oracle, spec)


def _random(spec: SearchSpec) -> kt.Tuner:
    oracle = kt.oracles.RandomSearchOracle(
        max_trials=spec.trials_in_budget(), **spec.oracle_args()
    )
    return _stock_tuner(oracle, spec)


def _bayesian(spec: SearchSpec) -> kt.Tuner:
    oracle = kt.oracles.BayesianOptimizationOracle(
        max_trials=spec.trials_in_budget(), **spec.oracle_args()
    )
    return _stock_tuner(oracle, spec)


def _stock_tuner(oracle: kt.Oracle, spec: SearchSpec) -> kt.Tuner:
    """Keras Tuner's ``oracle`` on kt_ext's tuner base, trials run as Keras
    Tuner runs them (lean trials off, so wall times stay Keras Tuner's).

    The tuner gets the comparison's seed (its folds with ``cv``), the oracle
    :func:`stock_seed`.
    """
    from kt_ext.tuners import FidelityTuner

    tuner = FidelityTuner(oracle, spec.hypermodel, seed=spec.seed, **spec.tuner_args())
    tuner._lean_trials = False
    return tuner


def _kt_ext_tuner(class_name: str) -> TunerFactory | None:
    try:
        tuner_cls = getattr(importlib.import_module("kt_ext.tuners"), class_name)
    except (ImportError, AttributeError):
        return None

    def factory(spec: SearchSpec) -> kt.Tuner:
        return tuner_cls(
            spec.hypermodel,
            max_epochs=spec.max_epochs,
            factor=spec.factor,
            epoch_budget=spec.epoch_budget,
            **spec.common(),
        )

    return factory


# The names are kt_ext._internal.names.BUILTIN_TUNERS (the CLI lists them without
# importing Keras Tuner); tests/compare keeps the two the same.
_BUILTINS: dict[str, TunerFactory | None] = {
    REFERENCE: _hyperband,
    "random": _random,
    "bayesian": _bayesian,
    "coarse_to_fine": _kt_ext_tuner("CoarseToFine"),
    "rank_pruning": _kt_ext_tuner("RankPruning"),
}
for _name, _factory in _BUILTINS.items():
    if _factory is not None:
        register_tuner(_name, _factory)
