"""The two header lines: exercise, protocol, sim clock, mode, source and connection."""

from __future__ import annotations

from rich.console import RenderableType
from rich.text import Text
from textual.widget import Widget


class HeaderBar(Widget):
    DEFAULT_CSS = """
    HeaderBar { height: 2; background: #1c1c1c; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.lines: list[Text] = []

    def show(self, lines: list[Text]) -> None:
        if [line.plain for line in lines] != [line.plain for line in self.lines] or lines != self.lines:
            self.lines = lines
            self.refresh()

    def render(self) -> RenderableType:
        width = self.size.width
        out = []
        for line in self.lines:
            copy = line.copy()
            copy.truncate(width, overflow="ellipsis")
            out.append(copy)
        return Text("\n").join(out)
