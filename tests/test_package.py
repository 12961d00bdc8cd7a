"""Tests of the package's surface: what ``import kt_ext`` shows and loads."""

from __future__ import annotations

import subprocess
import sys

import kt_ext


def test_dir_lists_only_the_public_api():
    assert dir(kt_ext) == kt_ext.__all__
    assert not {"Any", "annotations", "importlib", "TYPE_CHECKING"} & set(dir(kt_ext))


def test_every_public_name_resolves():
    for name in kt_ext.__all__:
        assert getattr(kt_ext, name) is not None, name
    assert kt_ext.SearchCV is kt_ext.model_selection.SearchCV
    assert kt_ext.SearchCVClassifier is kt_ext.model_selection.SearchCVClassifier
    assert kt_ext.SearchCVRegressor is kt_ext.model_selection.SearchCVRegressor
    assert dir(kt_ext.model_selection) == [
        "SearchCV",
        "SearchCVClassifier",
        "SearchCVRegressor",
        "refit_best",
    ]


def test_tuners_load_the_fold_split_without_search_cv():
    code = (
        "import sys, kt_ext.tuners; "
        "print('kt_ext.model_selection._split' in sys.modules, "
        "'kt_ext.model_selection._search' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.split() == ["True", "False"]
