"""Time-axis maths for the escalation timeline (pure): which sim time each column shows,
panning, zooming, following "now" (:class:`View` keeps the facilitator's choice), and where
the labelled ticks go."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta

#: Tick steps the axis may use, smallest first.
NICE_STEPS = tuple(timedelta(minutes=m) for m in (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440, 2880, 4320, 10080))
MIN_SPAN = timedelta(minutes=10)
#: Share of the window kept free to the right of "now" when following it.
LEAD = 0.1


@dataclass(frozen=True)
class Window:
    """The sim-time range shown by the timeline: ``span`` spread over the plot's columns."""

    start: datetime
    span: timedelta

    @property
    def end(self) -> datetime:
        return self.start + self.span

    def column(self, t: datetime, width: int) -> int | None:
        """Column showing ``t``, or None when it is outside the window."""
        if width <= 0 or t < self.start or t >= self.end:
            return None
        return min(width - 1, int((t - self.start) / self.span * width))

    def column_start(self, col: int, width: int) -> datetime:
        return self.start + self.span * col / width

    def zoom(self, factor: float, anchor: datetime | None = None, *, max_span: timedelta | None = None) -> Window:
        """``factor`` < 1 zooms in. The anchor (default: the centre) keeps its place on screen."""
        anchor = anchor if anchor is not None else self.start + self.span / 2
        span = max(MIN_SPAN, self.span * factor)
        if max_span is not None:
            span = min(span, max_span)
        share = (anchor - self.start) / self.span if self.span else 0.5
        return Window(anchor - span * share, span)

    def pan(self, fraction: float) -> Window:
        """Move by ``fraction`` of the span (negative: back in time)."""
        return replace(self, start=self.start + self.span * fraction)

    def follow(self, now: datetime, bound: datetime | None = None) -> Window:
        """Keep ``now`` on screen, with some room ahead of it — unless the window already
        reaches ``bound`` (the end of the exercise) with ``now`` in it."""
        if self.start <= now <= self.start + self.span * (1 - LEAD):
            return self
        if bound is not None and self.start <= now <= self.end and self.end >= bound:
            return self
        return replace(self, start=now - self.span * (1 - LEAD))


def fit(start: datetime, end: datetime) -> Window:
    """The whole exercise."""
    return Window(start, max(MIN_SPAN, end - start))


@dataclass
class View:
    """What the timeline shows: its :class:`Window` (the whole exercise until the facilitator
    pans or zooms) and whether it keeps "now" on screen."""

    window: Window | None = None
    following: bool = True

    def at(self, start: datetime, end: datetime, now: datetime) -> Window:
        """The window for this frame of an exercise from ``start`` to ``end``."""
        if self.window is None:
            self.window = fit(start, end)
        if self.following:
            self.window = self.window.follow(now, end)
        return self.window

    def pan(self, fraction: float) -> None:
        if self.window is not None:
            self.following = False
            self.window = self.window.pan(fraction)

    def zoom(self, factor: float, start: datetime, end: datetime, now: datetime | None) -> None:
        """Zoom about "now" while following it (else about the centre), out to four exercises."""
        if self.window is not None:
            anchor = now if self.following else None
            self.window = self.window.zoom(factor, anchor, max_span=(end - start) * 4)

    def fit(self, start: datetime, end: datetime) -> None:
        """Back to the whole exercise, following now."""
        self.window = fit(start, end)
        self.following = True


def tick_step(window: Window, width: int, min_gap: int = 10) -> timedelta:
    """The smallest nice step that leaves at least ``min_gap`` columns between ticks."""
    if width <= 0:
        return NICE_STEPS[-1]
    per_column = window.span / width
    for step in NICE_STEPS:
        if step / per_column >= min_gap:
            return step
    return NICE_STEPS[-1]


def offset_label(delta: timedelta) -> str:
    """T+ labels for the axis: ``T+30m``, ``T+6h``, ``T+1d``, ``T+1d6h``, ``T+2:30``."""
    minutes = int(delta.total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    minutes = abs(minutes)
    hours, mins = divmod(minutes, 60)
    if hours == 0:
        return f"T{sign}{mins}m"
    if mins:
        return f"T{sign}{hours}:{mins:02d}"
    days, hrs = divmod(hours, 24)
    if days and hrs:
        return f"T{sign}{days}d{hrs}h"
    if days:
        return f"T{sign}{days}d"
    return f"T{sign}{hours}h"


def ticks(window: Window, width: int, origin: datetime, min_gap: int = 10) -> list[tuple[int, str]]:
    """(column, label) of each tick: multiples of the step counted from ``origin`` (T+0)."""
    step = tick_step(window, width, min_gap)
    first = (window.start - origin) // step
    out = []
    k = first
    while True:
        t = origin + step * k
        if t >= window.end:
            break
        col = window.column(t, width)
        if col is not None:
            out.append((col, offset_label(t - origin)))
        k += 1
    return out
