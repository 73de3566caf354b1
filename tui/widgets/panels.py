"""Side panels: agencies by state, pending obligations, links. They only show text built by
:mod:`tui.panels`."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static


class Panel(VerticalScroll):
    """A titled, scrollable box holding one block of text."""

    DEFAULT_CSS = """
    Panel { border: round #4e4e4e; border-title-color: #ffaf00; height: auto; max-height: 14; padding: 0 1; }
    Panel > Static { width: auto; }
    """

    def __init__(self, title: str, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = title
        self._body = Static("", classes="body")
        self._text: Text | None = None
        self._lines = -1

    def compose(self) -> ComposeResult:
        yield self._body

    def show(self, text: Text, subtitle: str = "") -> None:
        if text == self._text and subtitle == self.border_subtitle:
            return
        # A new layout only when the text's height changes: a reflow repaints the whole screen.
        lines = text.plain.count("\n")
        self._body.update(text, layout=lines != self._lines)
        self._text, self._lines = text, lines
        self.border_subtitle = subtitle
