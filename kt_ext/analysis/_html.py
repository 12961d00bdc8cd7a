"""Self-contained HTML pages from tables and figures, for every kt_ext report.

One page writer, used by `write_report` and by `kt_ext.compare`'s
report.html: one style sheet, values always escaped, figures embedded as PNG
data URIs, so a page has no external links, scripts or style sheets.
"""

from __future__ import annotations

import base64
import html
import io
import math
from collections.abc import Iterable
from typing import Any

import pandas as pd
from matplotlib.figure import Figure

_STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 75em; color: #222; }
table { border-collapse: collapse; margin: 0.5em 0 1.5em; font-size: 0.9em; }
th, td { border: 1px solid #ccc; padding: 0.25em 0.6em; text-align: right; }
th { background: #f0f0f0; }
td:first-child, th:first-child { text-align: left; }
img { max-width: 100%; display: block; margin: 0.5em 0 1.5em; }
.note { color: #555; font-size: 0.9em; }
"""


def html_page(title: str, body: Iterable[str]) -> str:
    """A complete page titled ``title`` (escaped) around HTML fragments ``body``.

    Example:
        >>> page = html_page("a < b", ["<h1>Report</h1>"])
        >>> "<title>a &lt; b</title>" in page and "<h1>Report</h1>" in page
        True
    """
    content = "\n".join(body)
    return (
        '<!DOCTYPE html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        f"<title>{html_text(title)}</title>\n<style>{_STYLE}</style>\n</head>\n"
        f"<body>\n{content}\n</body>\n</html>\n"
    )


def html_table(frame: pd.DataFrame) -> str:
    """``frame`` as a table without its index; values escaped, NaN empty.

    Floats are written by :func:`format_number`; format other columns first
    (e.g. to strings) where they need another format.

    Example:
        >>> "<td>&lt;b&gt;</td>" in html_table(pd.DataFrame({"x": ["<b>"]}))
        True
    """
    # pandas before 3 writes a missing value of an object column as "None".
    frame = frame.apply(
        lambda column: column.fillna("") if column.dtype == object else column
    )
    return frame.to_html(
        index=False, escape=True, na_rep="", float_format=format_number, border=0
    )


def html_pairs(rows: Iterable[tuple[str, str]]) -> str:
    """A two-column table of ``(name, value)`` rows, names as row headers.

    Example:
        >>> html_pairs([("Trials", "3")])
        '<table>\\n<tr><th>Trials</th><td>3</td></tr>\\n</table>'
    """
    cells = "\n".join(
        f"<tr><th>{html_text(name)}</th><td>{html_text(value)}</td></tr>"
        for name, value in rows
    )
    return f"<table>\n{cells}\n</table>"


def html_image(figure: Figure, alt: str, *, dpi: int = 90) -> str:
    """``figure`` as an ``<img>`` holding its PNG as a data URI.

    Example:
        >>> html_image(Figure(), "empty").startswith('<img alt="empty" src="data:')
        True
    """
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi)
    data = base64.b64encode(buffer.getvalue()).decode("ascii")
    return f'<img alt="{html_text(alt)}" src="data:image/png;base64,{data}">'


def html_text(value: Any) -> str:
    """``str(value)`` escaped for HTML text and attribute values.

    Example:
        >>> html_text("<a & 'b'>")
        '&lt;a &amp; &#x27;b&#x27;&gt;'
    """
    return html.escape(str(value), quote=True)


def format_number(value: float) -> str:
    """``value`` with six significant digits; NaN as an empty cell.

    Example:
        >>> format_number(1 / 3), format_number(float("nan"))
        ('0.333333', '')
    """
    if math.isnan(value):
        return ""
    return f"{value:.6g}"
