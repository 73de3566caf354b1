"""The escalation timeline as rows of styled text (pure): a labelled time axis, then for each
incident a band of its ladder level over sim time and one swimlane per agency, with each
message as a glyph at its sim time and each obligation the agency owes as a dotted span.

Style names (``level3``, ``fate-overdue``, ``now``…) are mapped to colours by the widget; the
characters alone already tell the levels and fates apart."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal, NamedTuple

from sim.core.ladder import Pair, pair_label
from tui.model import GLYPHS, NO_INCIDENT, URGENCY, DashboardModel, DisplayFate
from tui.timeaxis import Window, ticks

RowKind = Literal["axis", "band", "pair", "lane"]
NOW_CHAR = "│"
OBLIGATION_CHAR = "╌"
_TINY = timedelta(microseconds=1)


@dataclass(frozen=True)
class Span:
    text: str
    style: str


@dataclass(frozen=True)
class Row:
    kind: RowKind
    label: str
    spans: tuple[Span, ...]
    incident: str | None = None
    agency: str | None = None
    pair: Pair | None = None

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    def style_at(self, col: int) -> str:
        pos = 0
        for span in self.spans:
            if pos <= col < pos + len(span.text):
                return span.style
            pos += len(span.text)
        raise IndexError(col)


class _Grid:
    def __init__(self, width: int, char: str = " ", style: str = "") -> None:
        self.chars = [char] * width
        self.styles = [style] * width

    def put(self, col: int, char: str, style: str) -> None:
        if 0 <= col < len(self.chars):
            self.chars[col] = char
            self.styles[col] = style

    def write(self, col: int, text: str, style: str) -> None:
        for n, char in enumerate(text):
            self.put(col + n, char, style)

    def spans(self) -> tuple[Span, ...]:
        out: list[Span] = []
        start = 0
        for col in range(1, len(self.chars) + 1):
            if col == len(self.chars) or self.styles[col] != self.styles[start]:
                out.append(Span("".join(self.chars[start:col]), self.styles[start]))
                start = col
        return tuple(out)


def axis_rows(window: Window, width: int, origin: datetime, now: datetime) -> list[Row]:
    labels = _Grid(width, style="axis")
    marks = _Grid(width, "─", "axis")
    free_from = 0
    for col, label in ticks(window, width, origin):
        marks.put(col, "┬", "axis")
        if col >= free_from and col + len(label) <= width:
            labels.write(col, label, "axis-label")
            free_from = col + len(label) + 1
    now_col = window.column(now, width)
    if now_col is not None:
        marks.put(now_col, "▼", "now")
    return [Row("axis", "", labels.spans()), Row("axis", "", marks.spans())]


def _band_start(model: DashboardModel, incident: str) -> datetime | None:
    """When the incident first shows: its first message or its detection, whichever is earlier."""
    stats = model.state.incidents.get(incident)
    begins = [t for t in (model.first_seen.get(incident), stats.detected_at if stats else None) if t is not None]
    return min(begins) if begins else None


def _band_levels(
    model: DashboardModel, incident: str, window: Window, width: int, now: datetime, pair: Pair | None = None
) -> list[int | None]:
    """The ladder level (of ``pair``, if given) at the end of each column (None before the
    incident and after now)."""
    begin = _band_start(model, incident)
    levels: list[int | None] = []
    for col in range(width):
        t0 = window.column_start(col, width)
        t1 = window.column_start(col + 1, width)
        if t0 > now or begin is None or t1 <= begin:
            levels.append(None)
        else:
            levels.append(model.level_at(incident, now if t1 > now else t1 - _TINY, pair))
    return levels


def _level_label(level: int, name: str, length: int) -> str:
    """The level and its name in ``length`` columns: whole, cut with an ellipsis, or the number."""
    text = f" {level} {name}"
    if len(text) <= length:
        return text.ljust(length)
    if length >= 5:
        return text[: length - 1] + "…"
    return str(level).ljust(length)[:length]


def band_row(
    model: DashboardModel, incident: str, window: Window, width: int, now: datetime, pair: Pair | None = None
) -> Row:
    """The incident's ladder level over time (``pair``: that pair of states'), each run of one
    level named where it fits; on an incident between more than two states the incident's band
    names the pair at its level."""
    grid = _Grid(width)
    levels = _band_levels(model, incident, window, width, now, pair)
    several = pair is None and len(model.state.ladder.pairs(incident)) > 1
    col = 0
    while col < width:
        level = levels[col]
        run = col
        while run < width and levels[run] == level:
            run += 1
        length = run - col
        if level is None:
            grid.write(col, " " * length, "future" if window.column_start(col, width) > now else "band-none")
        else:
            name = model.level_name(level)
            top = model.top_pair_at(incident, window.column_start(run, width) - _TINY) if several else None
            if top is not None:
                name += f" · {pair_label(top)}"
            grid.write(col, _level_label(level, name, length), f"level{level}")
        col = run
    level_now = model.level_at(incident, now, pair)
    if pair is not None:
        return Row("pair", f"{pair_label(pair)} L{level_now}", grid.spans(), incident=incident, pair=pair)
    return Row("band", f"{incident} L{level_now}", grid.spans(), incident=incident)


def _owed_spans(grid: _Grid, model: DashboardModel, incident: str, agency: str, window: Window, now: datetime) -> None:
    """Each obligation the agency owes as a dotted span from when it opened to when it closed
    (or now), red past its deadline while still owed, with a ``!`` at the deadline."""
    width = len(grid.chars)
    for ob in model.owed_by(incident, agency):
        end = ob.closed_at if ob.closed_at is not None else now
        first = window.column(max(ob.opened_at, window.start), width)
        last_t = min(end, now, window.end - _TINY)
        last: int | None = window.column(last_t, width) if last_t >= window.start else None
        if first is None or last is None:
            continue
        late = model.is_overdue(ob, now)
        for span_col in range(first, last + 1):
            past_due = window.column_start(span_col, width) >= ob.due_at
            grid.put(span_col, OBLIGATION_CHAR, "obl-late" if late and past_due else "obl-open")
        due_col = window.column(ob.due_at, width)
        if late and due_col is not None and due_col <= last:
            grid.put(due_col, GLYPHS[DisplayFate.OVERDUE], "fate-overdue")


def _message_fates(
    model: DashboardModel, incident: str, agency: str, window: Window, width: int, now: datetime
) -> dict[int, DisplayFate]:
    """Per column, the fate of the agency's message there most worth a look (sent by now)."""
    best: dict[int, DisplayFate] = {}
    for event in model.lane(incident, agency):
        col = window.column(event.envelope.sent_at, width)
        if col is None or event.envelope.sent_at > now:
            continue
        fate = model.fate(event.envelope.id, now)
        if col not in best or URGENCY[fate] > URGENCY[best[col]]:
            best[col] = fate
    return best


def lane_row(model: DashboardModel, incident: str, agency: str, window: Window, width: int, now: datetime) -> Row:
    """The agency's swimlane: what it owes as dotted spans, its messages as glyphs, the now cursor."""
    grid = _Grid(width)
    _owed_spans(grid, model, incident, agency, window, now)
    for col, fate in _message_fates(model, incident, agency, window, width, now).items():
        grid.put(col, GLYPHS[fate], f"fate-{fate.value}")
    now_col = window.column(now, width)
    if now_col is not None and grid.chars[now_col] in (" ", OBLIGATION_CHAR):
        grid.put(now_col, NOW_CHAR, "now")
    return Row("lane", agency, grid.spans(), incident=incident, agency=agency)


class RowSpec(NamedTuple):
    """Which row: an incident's band, one pair of states' band on it, or one agency's lane."""

    incident: str
    agency: str | None = None
    pair: Pair | None = None


def row_specs(model: DashboardModel) -> list[RowSpec]:
    """Below the axis: each incident's band, the bands of its pairs of states when it involves
    more than two, then its lanes (messages of no incident last)."""
    specs: list[RowSpec] = []
    for incident in model.incidents():
        specs.append(RowSpec(incident))
        pairs = model.state.ladder.pairs(incident) if incident != NO_INCIDENT else []
        if len(pairs) > 1:
            specs.extend(RowSpec(incident, pair=pair) for pair in pairs)
        specs.extend(RowSpec(incident, agency) for agency in model.lane_agencies(incident))
    return specs


def row_of(model: DashboardModel, spec: RowSpec, window: Window, width: int, now: datetime) -> Row:
    """The row ``spec`` names (the widget builds only the rows on screen this way)."""
    incident, agency, pair = spec
    if agency is not None:
        return lane_row(model, incident, agency, window, width, now)
    if incident == NO_INCIDENT:
        return Row("band", "no incident", (Span(" " * width, "band-none"),), incident=incident)
    return band_row(model, incident, window, width, now, pair)


def layout(model: DashboardModel, window: Window, width: int, now: datetime | None = None) -> list[Row]:
    """Every row of the timeline: the axis, then :func:`row_of` each of :func:`row_specs`."""
    now = model.now if now is None else now
    rows = axis_rows(window, width, model.scenario.start, now)
    rows.extend(row_of(model, spec, window, width, now) for spec in row_specs(model))
    return rows


LEGEND = (
    f"{GLYPHS[DisplayFate.SENT]} sent  {GLYPHS[DisplayFate.ACKED]} answered  {GLYPHS[DisplayFate.OVERDUE]} overdue  "
    f"{GLYPHS[DisplayFate.LOST]} lost  {GLYPHS[DisplayFate.REJECTED]} rejected  {OBLIGATION_CHAR} owed  {NOW_CHAR} now"
)
