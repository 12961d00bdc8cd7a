"""A griffe extension for the API reference: kt_ext's docstrings as written.

kt_ext's docstrings are Google style with a singular ``Example:`` heading and
Sphinx roles (``:class:`~kt_ext.oracles.CoarseToFineOracle```). Griffe reads
``Example:`` as a plain admonition, whose ``>>>`` lines Markdown then shows as
nested quotes, and leaves the roles as text. This reads ``Example:`` as an
``Examples:`` section (rendered as code) and a role as inline code.

A constructor that takes the shared search settings has a ``{search_settings}``
line in its class docstring, which ``kt_ext.oracles._settings.shares_settings``
fills at import; griffe reads the source, so this takes the filled docstring
from the imported class instead.
"""

from __future__ import annotations

import importlib
import inspect
import re
from typing import Any

import griffe

_EXAMPLE = re.compile(r"^(\s*)Example:[ \t]*$", re.MULTILINE)
_ROLE = re.compile(r":(?:class|func|meth|attr|mod|data|exc|obj):`(~?)([^`]+)`")


_PLACEHOLDER = "{search_settings}"


def _filled(obj: griffe.Object, text: str) -> str:
    """The docstring of the imported object, where import fills the settings."""
    if _PLACEHOLDER not in text:
        return text
    runtime: Any = importlib.import_module(obj.module.path)
    for name in obj.path[len(obj.module.path) + 1 :].split("."):
        runtime = getattr(runtime, name)
    return inspect.cleandoc(runtime.__doc__)


def _role(match: re.Match[str]) -> str:
    name = match.group(2)
    return f"`{name.rsplit('.', 1)[-1] if match.group(1) else name}`"


class KtExtDocstrings(griffe.Extension):
    """Rewrites ``Example:`` headings and Sphinx roles before parsing."""

    def on_instance(self, *, obj: griffe.Object, **kwargs: Any) -> None:
        if obj.docstring is not None:
            text = _filled(obj, obj.docstring.value)
            text = _EXAMPLE.sub(r"\1Examples:", text)
            obj.docstring.value = _ROLE.sub(_role, text)
