"""Every code block of the README and the docs pages works as written.

A page is Markdown; its blocks are fenced (three backticks and a language).

- A ``python`` block runs as written, after the page's set-up, if it has one:
  the text of an HTML comment that starts with ``<!-- setup`` (hidden on
  GitHub and on the site), run before every Python block of the page.
- ``<!-- skip: reason -->`` on the line before a block skips it; it must still
  compile, and at most a tenth of the Python blocks may be skipped.
- A ``bash`` block's ``kt-ext ...`` commands (a trailing backslash continues a
  line) are parsed by the CLI's parser, not run; other commands are not read.
"""

from __future__ import annotations

import contextlib
import io
import re
import shlex
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_FENCE = re.compile(r"^(?P<indent> *)(?P<fence>`{3,}|~{3,})\s*(?P<lang>[\w+-]*)")
_SKIP = re.compile(r"^\s*<!--\s*skip:\s*(?P<reason>.+?)\s*-->\s*$")
_SETUP = "<!-- setup"


@dataclass(frozen=True)
class Block:
    """One fenced block of a page."""

    page: str  # relative to the repository root
    line: int  # of the opening fence, from 1
    language: str
    code: str
    setup: str  # the page's set-up ("" if none)
    skip: str | None  # the reason, when skipped

    @property
    def id(self) -> str:
        return f"{self.page}:{self.line}"


def pages() -> list[Path]:
    """The README and every docs page."""
    docs = sorted(p for p in (ROOT / "docs").rglob("*.md") if "_ext" not in p.parts)
    return [ROOT / "README.md", *docs]


def read_blocks(path: Path) -> list[Block]:
    """Every fenced block of one page, with the page's set-up."""
    lines = path.read_text(encoding="utf-8").splitlines()
    page = path.relative_to(ROOT).as_posix()
    setup = _read_setup(lines, page)
    blocks = []
    index = 0
    while index < len(lines):
        opening = _FENCE.match(lines[index])
        if not opening:
            index += 1
            continue
        indent, fence = len(opening["indent"]), opening["fence"]
        end = index + 1
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if end == len(lines):
            raise ValueError(f"{page}:{index + 1}: a code block is never closed")
        code = "\n".join(line[indent:] for line in lines[index + 1 : end]) + "\n"
        previous = next(
            (lines[i] for i in range(index - 1, -1, -1) if lines[i].strip()), ""
        )
        skip = _SKIP.match(previous)
        blocks.append(
            Block(
                page,
                index + 1,
                opening["lang"].lower(),
                code,
                setup,
                skip and skip["reason"],
            )
        )
        index = end + 1
    return blocks


def _read_setup(lines: list[str], page: str) -> str:
    starts = [i for i, line in enumerate(lines) if line.strip().startswith(_SETUP)]
    if len(starts) > 1:
        raise ValueError(f"{page}: more than one `{_SETUP}` comment")
    if not starts:
        return ""
    start = starts[0]
    end = next((i for i in range(start, len(lines)) if lines[i].strip() == "-->"), None)
    if end is None:
        raise ValueError(f"{page}:{start + 1}: the set-up comment is never closed")
    return "\n".join(lines[start + 1 : end]) + "\n"


def cli_commands(code: str) -> list[list[str]]:
    """The arguments of each ``kt-ext`` command in a shell block."""
    commands = []
    logical = ""
    for line in code.splitlines():
        if line.rstrip().endswith("\\"):
            logical += line.rstrip()[:-1] + " "
            continue
        words = shlex.split(logical + line, comments=True)
        logical = ""
        if words and words[0] == "kt-ext":
            commands.append(words[1:])
    return commands


BLOCKS = [block for page in pages() for block in read_blocks(page)]
PYTHON = [block for block in BLOCKS if block.language in ("python", "py")]
SHELL = [
    block for block in BLOCKS if block.language in ("bash", "sh", "shell", "console")
]


def test_pages_have_blocks_and_few_are_skipped():
    assert len(PYTHON) >= 10, [block.id for block in PYTHON]
    skipped = [block.id for block in PYTHON if block.skip]
    assert len(skipped) <= len(PYTHON) // 10, f"more than a tenth skipped: {skipped}"
    assert any(cli_commands(block.code) for block in SHELL)


@pytest.mark.parametrize("block", PYTHON, ids=[block.id for block in PYTHON])
def test_python_block_runs(block: Block, tmp_path, monkeypatch):
    setup = compile(block.setup, f"{block.page} (set-up)", "exec")
    code = compile(block.code, block.id, "exec")
    if block.skip:
        pytest.skip(block.skip)
    monkeypatch.chdir(tmp_path)  # a fresh working directory per block
    namespace = {"__name__": "__main__"}
    try:
        exec(setup, namespace)
        exec(code, namespace)
    finally:
        _forget_models()


@pytest.mark.parametrize("block", SHELL, ids=[block.id for block in SHELL])
def test_cli_lines_parse(block: Block):
    from kt_ext.cli import _parser

    for arguments in cli_commands(block.code):
        errors = io.StringIO()
        try:
            with contextlib.redirect_stderr(errors):
                _parser().parse_args(arguments)
        except SystemExit as exit_:
            if exit_.code != 0 or "--help" not in arguments:
                pytest.fail(
                    f"{block.id}: kt-ext {' '.join(arguments)}\n{errors.getvalue()}"
                )


def test_a_bad_cli_line_fails_to_parse():
    with pytest.raises(SystemExit), contextlib.redirect_stderr(io.StringIO()):
        from kt_ext.cli import _parser

        _parser().parse_args(cli_commands("kt-ext compare --no-such-option 3\n")[0])


def _forget_models() -> None:
    import keras

    keras.utils.clear_session()
    with contextlib.suppress(ImportError):
        import matplotlib.pyplot as plt

        plt.close("all")
