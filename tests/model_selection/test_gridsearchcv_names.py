"""Every public name of ``GridSearchCV`` is on SearchCVClassifier or in the docs.

The table in ``docs/sklearn.md`` lists ``GridSearchCV``'s names as same,
different or not applicable; this walks the installed version's
``dir(GridSearchCV)`` and the "Attributes" section of its docstring.
"""

from __future__ import annotations

import re
from pathlib import Path

from sklearn.model_selection import GridSearchCV

import kt_ext
from kt_ext.model_selection import SearchCV

PAGE = Path(__file__).resolve().parents[2] / "docs" / "sklearn.md"
VERDICTS = ("same", "different", "not applicable")


def table() -> dict[str, str]:
    """``{name: verdict}`` from the page's table rows."""
    rows = re.findall(r"^\| `(\w+)` \| ([a-z ]+) \|", PAGE.read_text(), re.M)
    return dict(rows)


def gridsearchcv_names() -> set[str]:
    public = {name for name in dir(GridSearchCV) if not name.startswith("_")}
    doc = GridSearchCV.__doc__
    attributes = doc[doc.index("Attributes\n") : doc.index("See Also")]
    return public | set(re.findall(r"^    (\w+) :", attributes, re.M))


def documented_attributes() -> set[str]:
    doc = SearchCV.__doc__
    attributes = doc[doc.index("    Attributes:") : doc.index("    Example:")]
    return set(re.findall(r"^        (\w+):", attributes, re.M))


def test_every_gridsearchcv_name_is_present_or_listed():
    listed = table()
    present = set(dir(kt_ext.SearchCVClassifier)) | documented_attributes()
    missing = sorted(gridsearchcv_names() - present - set(listed))
    assert not missing, f"neither on SearchCVClassifier nor in {PAGE.name}: {missing}"


def test_the_table_lists_every_name_with_a_verdict_and_same_means_present():
    listed = table()
    assert gridsearchcv_names() <= set(listed)
    assert set(listed.values()) <= set(VERDICTS)
    present = set(dir(kt_ext.SearchCVClassifier)) | documented_attributes()
    parameters = set(kt_ext.SearchCVClassifier().get_params())
    same = {name for name, verdict in listed.items() if verdict == "same"}
    assert same <= present | parameters, same - present - parameters
