"""The shared arguments are written once and shown everywhere (issue 20)."""

from __future__ import annotations

import dataclasses
import inspect

import pytest

from kt_ext import CoarseToFine, RankPruning
from kt_ext.oracles import CoarseToFineOracle, RankPruningOracle, RoundOracle
from kt_ext.oracles._settings import SETTING_DOCS, SearchSettings, shares_settings

SETTINGS = [field.name for field in dataclasses.fields(SearchSettings)]
CONSTRUCTORS = [RoundOracle, CoarseToFineOracle, RankPruningOracle]


@pytest.mark.parametrize("cls", [*CONSTRUCTORS, CoarseToFine, RankPruning])
def test_every_setting_is_in_the_signature_and_the_docstring(cls):
    parameters = inspect.signature(cls).parameters
    for name in SETTINGS:
        assert parameters[name].kind is inspect.Parameter.KEYWORD_ONLY
        assert f"{name}: {SETTING_DOCS[name].split()[0]}" in cls.__doc__
    assert "{search_settings}" not in cls.__doc__
    assert all(
        p.kind is not inspect.Parameter.VAR_KEYWORD
        for p in parameters.values()
        if cls in CONSTRUCTORS
    )


def test_the_tuners_wait_120_s_for_a_worker_the_oracles_forever():
    assert inspect.signature(CoarseToFine).parameters["worker_timeout"].default == 120
    assert inspect.signature(RoundOracle).parameters["worker_timeout"].default is None
    assert (
        "worker_timeout: " in RankPruning.__doc__ and "``120.0``" in RankPruning.__doc__
    )


def test_a_constructor_that_drops_a_setting_is_refused_at_import():
    class Partial:
        """Args:
        {search_settings}
        """

        def __init__(self, *, max_epochs: int = 100) -> None: ...

    with pytest.raises(TypeError, match=r"Partial\.__init__ must take `min_epochs`"):
        shares_settings()(Partial)


def test_settings_are_checked_and_numpy_ints_become_ints():
    import numpy as np

    settings = SearchSettings(max_epochs=np.int64(9), seed=np.int64(0))
    assert type(settings.max_epochs) is int and settings.seed == 0
    with pytest.raises(ValueError, match="`min_epochs` must be <= `max_epochs`"):
        SearchSettings(min_epochs=10, max_epochs=5)
    assert SearchSettings.of({**settings.arguments(), "other": 1}) == settings
