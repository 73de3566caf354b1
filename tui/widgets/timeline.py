"""The escalation timeline: a sticky time axis, then per incident its ladder band and one
swimlane per agency. Rows come from :mod:`tui.timeline` (pure) — the same rows as its
:func:`~tui.timeline.layout` — this widget only turns them into strips, and builds only the
rows on screen."""

from __future__ import annotations

from datetime import datetime

from rich.segment import Segment
from rich.style import Style
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip

from tui.model import DashboardModel
from tui.panels import FATE_STYLES, LEVEL_STYLES
from tui.timeaxis import Window
from tui.timeline import Row, RowSpec, axis_rows, row_of, row_specs

AXIS_ROWS = 2

STYLES: dict[str, Style] = {
    "": Style(),
    "axis": Style(color="#6c6c6c"),
    "axis-label": Style(color="#d7d7d7"),
    "now": Style(color="#ffd700", bold=True),
    "future": Style(),
    "band-none": Style(color="#4e4e4e"),
    "obl-open": Style(color="#8a8a8a"),
    "obl-late": Style(color="#ff5f5f"),
    "label-band": Style(bold=True, color="#ffffff"),
    "label-lane": Style(color="#bcbcbc"),
    **{f"level{n}": Style.parse(s) for n, s in enumerate(LEVEL_STYLES)},
    **{f"fate-{f.value}": Style.parse(s) for f, s in FATE_STYLES.items()},
}
_SEL = Style(bgcolor="#262626")


class TimelineView(ScrollView, can_focus=False):
    DEFAULT_CSS = """
    TimelineView { height: 1fr; scrollbar-size-vertical: 1; overflow-x: hidden; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.model: DashboardModel | None = None
        self.window: Window | None = None
        self.now: datetime | None = None
        self._specs: list[RowSpec] = []
        self._cache: dict[int, Strip] = {}
        self._axis: list[Row] = []
        self._key: tuple[object, ...] = ()

    @property
    def label_width(self) -> int:
        return 12

    @property
    def plot_width(self) -> int:
        return max(10, self.scrollable_content_region.width - self.label_width)

    def show(self, model: DashboardModel, window: Window, now: datetime) -> None:
        key = (model.version, window, now, self.plot_width, id(model))
        if key == self._key:
            return
        self._key = key
        self.model, self.window, self.now = model, window, now
        self._specs = row_specs(model)
        self._axis = axis_rows(window, self.plot_width, model.scenario.start, now)
        self._cache.clear()
        self.virtual_size = Size(self.scrollable_content_region.width, len(self._specs) + AXIS_ROWS)
        self.refresh()

    @property
    def content_rows(self) -> int:
        return len(self._specs) + AXIS_ROWS

    def on_resize(self) -> None:
        """Columns depend on the width: lay the rows out again."""
        if self.model is not None and self.window is not None and self.now is not None:
            self._key = ()
            self.show(self.model, self.window, self.now)

    def rows_text(self) -> list[str]:
        """Every row as plain text (label + plot): what tests and the export read."""
        return [self._strip_text(self._row(i)) for i in range(len(self._specs))]

    def _row(self, i: int) -> Row:
        assert self.model is not None
        assert self.window is not None
        assert self.now is not None
        return row_of(self.model, self._specs[i], self.window, self.plot_width, self.now)

    def _strip_text(self, row: Row) -> str:
        return f"{row.label:<{self.label_width}.{self.label_width - 1}}" + row.text

    def _strip(self, row: Row) -> Strip:
        label_style = STYLES["label-band"] if row.kind in ("band", "pair") else STYLES["label-lane"]
        label = row.label if row.kind == "band" else f" {row.label}"
        segments = [Segment(f"{label:<{self.label_width}.{self.label_width - 1}}", label_style)]
        segments.extend(Segment(span.text, STYLES.get(span.style, Style())) for span in row.spans)
        return Strip(segments)

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if self.model is None:
            return Strip.blank(width)
        if y < AXIS_ROWS:
            if y < len(self._axis):
                return self._strip(self._axis[y]).crop(0, width)
            return Strip.blank(width)
        index = y - AXIS_ROWS + self.scroll_offset.y
        if index >= len(self._specs) or index < 0:
            return Strip.blank(width)
        strip = self._cache.get(index)
        if strip is None:
            strip = self._strip(self._row(index))
            self._cache[index] = strip
        return strip.crop(0, width).extend_cell_length(width)
