"""Fixtures shared by test folders."""

import pytest


class NotebookDisplay:
    """Records IPython's display calls; also a shell that runs cell 7."""

    def __init__(self) -> None:
        self.handles: list[list[str]] = []  # each handle's texts, in order
        self.cleared = 0
        self.execution_count = 7

    def display(self, content, raw=False, display_id=None):
        texts = [content["text/plain"]]
        self.handles.append(texts)

        class Handle:
            def update(self, content, raw=False):
                texts.append(content["text/plain"])

        return Handle()

    def clear_output(self, wait=False):
        self.cleared += 1


@pytest.fixture
def notebook_display(monkeypatch):
    """IPython's ``display`` and ``clear_output``, recorded instead of shown."""
    display = pytest.importorskip("IPython.display")
    recorder = NotebookDisplay()
    monkeypatch.setattr(display, "display", recorder.display)
    monkeypatch.setattr(display, "clear_output", recorder.clear_output)
    return recorder
