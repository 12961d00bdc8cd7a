"""How a distributed worker finds the chief's split (no training here)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kt_ext.model_selection._split import FoldAssignment
from kt_ext.tuners._cv_state import chief_folds


def _split(seed: int) -> FoldAssignment:
    return FoldAssignment.split(2, np.zeros((8, 1)), np.arange(8) % 2, seed)


def test_a_worker_reads_the_chiefs_split_and_not_an_older_one(tmp_path):
    live, old = _split(1), _split(2)
    assert live.digest() != old.digest()
    (tmp_path / "chief.json").write_text(json.dumps({"cv": live.to_json()}))
    assert chief_folds(str(tmp_path), live.digest(), 2) == live.to_json()
    # An older search's file in the directory is not taken for the chief's.
    (tmp_path / "chief.json").write_text(json.dumps({"cv": old.to_json()}))
    with pytest.raises(ValueError, match=r"digest .* was not found .* within 0 s"):
        chief_folds(str(tmp_path), live.digest(), 2, timeout=0.3)


def test_a_worker_must_search_with_cv_exactly_when_the_chief_does(tmp_path):
    with pytest.raises(ValueError, match=r"the chief has no cv, got cv=3"):
        chief_folds(str(tmp_path), None, 3)
    assert chief_folds(str(tmp_path), None, None) is None
    with pytest.raises(ValueError, match=r"the chief searches with cv, got cv=None"):
        chief_folds(str(tmp_path), _split(1).digest(), None)
