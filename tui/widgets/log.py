"""The message log: one row per protocol message (time, sender → recipient, channel, kind,
incident, level, fate), filterable; Enter shows the whole envelope. A virtual list: only the
rows on screen are formatted, so a 100,000-entry journal scrolls as lightly as a short one."""

from __future__ import annotations

from datetime import datetime

from rich.style import Style
from textual.actions import SkipAction
from textual.binding import Binding
from textual.geometry import Size
from textual.message import Message
from textual.reactive import reactive
from textual.scroll_view import ScrollView
from textual.strip import Strip

from sim.evaluation.outcome import MessageEvent
from tui.filters import LogFilter
from tui.model import DashboardModel
from tui.panels import log_header, log_row

_CURSOR = Style(bgcolor="#3a3a5f", bold=True)


class MessageLog(ScrollView, can_focus=True):
    DEFAULT_CSS = """
    MessageLog { height: 1fr; border: round #4e4e4e; border-title-color: #ffaf00; scrollbar-size-vertical: 1; }
    MessageLog:focus { border: round #ffaf00; }
    """
    BINDINGS = [  # noqa: RUF012 - Textual's declaration style
        Binding("up", "cursor(-1)", "Up", show=False),
        Binding("down", "cursor(1)", "Down", show=False),
        Binding("pageup", "page(-1)", "Page up", show=False),
        Binding("pagedown", "page(1)", "Page down", show=False),
        Binding("enter", "select", "Envelope"),
    ]

    class Selected(Message):
        def __init__(self, event: MessageEvent) -> None:
            super().__init__()
            self.event = event

    cursor: reactive[int] = reactive(-1, always_update=True)

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.border_title = "Messages"
        self.model: DashboardModel | None = None
        self.now: datetime | None = None
        self.filter = LogFilter()
        self.rows: list[int] = []
        self._scanned = 0
        self._key: tuple[object, ...] = ()
        self.follow = True

    def set_filter(self, log_filter: LogFilter) -> None:
        self.filter = log_filter
        self._scanned = 0
        self.rows = []
        self._key = ()
        self.follow = True
        if self.model is not None and self.now is not None:
            self.show(self.model, self.now)

    def show(self, model: DashboardModel, now: datetime) -> None:
        key = (id(model), model.version, now, self.filter)
        if key == self._key:
            return
        self._key = key
        if model is not self.model or len(model.messages()) < self._scanned:
            self.rows, self._scanned = [], 0
        self.model, self.now = model, now
        messages = model.messages()
        if self.filter:
            # Fates change with time, so a fate filter is re-evaluated on every update.
            if any(f == "fate" for f, _ in self.filter.terms):
                self.rows, self._scanned = [], 0
            for i in range(self._scanned, len(messages)):
                env = messages[i].envelope
                if self.filter.matches(env, model.fate(env.id, now).value):
                    self.rows.append(i)
        else:
            self.rows.extend(range(self._scanned, len(messages)))
        self._scanned = len(messages)
        shown = f"{len(self.rows)}" if not self.filter else f"{len(self.rows)} of {len(messages)}"
        self.border_subtitle = f"{shown} · filter: {self.filter}" if self.filter else shown
        self.virtual_size = Size(self.size.width, len(self.rows) + 1)
        if self.follow and self.rows:
            self.cursor = len(self.rows) - 1
            self.scroll_to(y=max(0, len(self.rows) + 1 - self.scrollable_content_region.height), animate=False)
        self.refresh()

    def on_resize(self) -> None:
        if self.follow and self.rows:
            self.scroll_to(y=max(0, len(self.rows) + 1 - self.scrollable_content_region.height), animate=False)

    def selected(self) -> MessageEvent | None:
        if self.model is None or not 0 <= self.cursor < len(self.rows):
            return None
        return self.model.messages()[self.rows[self.cursor]]

    def action_cursor(self, delta: int) -> None:
        if not self.rows:
            return
        self.cursor = max(0, min(len(self.rows) - 1, (self.cursor if self.cursor >= 0 else len(self.rows)) + delta))
        self.follow = self.cursor == len(self.rows) - 1
        self._keep_visible()

    # The log moves by its cursor (up, down, page up/down). Home and End, which a scrolling view
    # would take for itself, are the dashboard's: in a replay they jump to the start or the end.

    def action_scroll_home(self) -> None:
        raise SkipAction

    def action_scroll_end(self) -> None:
        raise SkipAction

    def action_page(self, direction: int) -> None:
        self.action_cursor(direction * max(1, self.scrollable_content_region.height - 2))

    def action_select(self) -> None:
        event = self.selected()
        if event is not None:
            self.post_message(self.Selected(event))

    def _keep_visible(self) -> None:
        height = self.scrollable_content_region.height - 1
        top = self.scroll_offset.y
        if self.cursor < top:
            self.scroll_to(y=self.cursor, animate=False)
        elif self.cursor >= top + height:
            self.scroll_to(y=self.cursor - height + 1, animate=False)
        self.refresh()

    def on_click(self, event: object) -> None:
        offset = getattr(event, "y", None)
        if isinstance(offset, int) and offset >= 1:
            row = self.scroll_offset.y + offset - 1
            if 0 <= row < len(self.rows):
                self.cursor = row
                self.follow = row == len(self.rows) - 1
                self.refresh()

    def render_line(self, y: int) -> Strip:
        width = self.scrollable_content_region.width
        if y == 0:
            head = log_header()
            return Strip(list(head.render(self.app.console)), head.cell_len).crop(0, width).extend_cell_length(width)
        index = self.scroll_offset.y + y - 1
        if self.model is None or self.now is None or not 0 <= index < len(self.rows):
            return Strip.blank(width)
        text = log_row(self.model, self.model.messages()[self.rows[index]], self.now)
        strip = Strip(list(text.render(self.app.console)), text.cell_len).crop(0, width)
        strip = strip.extend_cell_length(width)
        if index == self.cursor and self.has_focus:
            strip = strip.apply_style(_CURSOR)
        elif index == self.cursor:
            strip = strip.apply_style(Style(bgcolor="#303030"))
        return strip
