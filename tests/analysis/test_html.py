"""The one page writer of kt_ext's reports."""

from __future__ import annotations

import math
import re

import pandas as pd
from matplotlib.figure import Figure

from kt_ext.analysis._html import html_image, html_page, html_pairs, html_table


def test_a_page_is_self_contained_and_escapes_what_it_is_given():
    figure = Figure()
    figure.add_subplot().plot([0, 1], [1, 0])
    page = html_page(
        "<runs>",
        [
            html_pairs([("<name>", "a & b")]),
            html_table(
                pd.DataFrame({"<col>": ["<i>x</i>", None], "score": [0.5, math.nan]})
            ),
            html_image(figure, '"plot"'),
        ],
    )
    assert page.startswith("<!DOCTYPE html>") and "<title>&lt;runs&gt;</title>" in page
    assert "<i>" not in page and "&lt;i&gt;x&lt;/i&gt;" in page
    assert "&lt;col&gt;" in page and "a &amp; b" in page
    assert 'alt="&quot;plot&quot;" src="data:image/png;base64,' in page
    # The PNG's base64 may hold any letters: look at the text around it only.
    text = re.sub(r"base64,[A-Za-z0-9+/=]+", "base64,", page)
    assert "<td>0.5</td>" in text and "nan" not in text.lower()
    # A missing value is an empty cell in every column (pandas 2.1 wrote None).
    assert text.count("<td></td>") == 2 and "None" not in text
    assert "http" not in page and "<script" not in page and "<link" not in page
