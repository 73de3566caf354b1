"""Channel availability: per link, the share of the exercise it was up and its outages, from
the director's link tables (least available first)."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta

from sim.evaluation.outcome import CtlEvent, Event, ExerciseState
from sim.evaluation.report.model import LinkAvailability
from sim.model.control import LinksState

_Span = tuple[datetime, datetime]


def links(state: ExerciseState, stream: list[Event]) -> tuple[LinkAvailability, ...]:
    start, end = state.scenario.start, state.scenario.end
    total = (end - start).total_seconds() or 1.0
    tracker = _Outages(start, end)
    for event in stream:
        if isinstance(event, CtlEvent) and isinstance(event.detail, LinksState):
            tracker.table(event.detail)
    outages = tracker.finish()
    rows = []
    for label in sorted(tracker.channels):
        spans = tuple(outages.get(label, []))
        down = sum((b - a for a, b in spans), timedelta(0))
        rows.append(LinkAvailability(label, tracker.channels[label], 1 - down.total_seconds() / total, down, spans))
    rows.sort(key=lambda r: (r.up_share, r.link))
    return tuple(rows)


class _Outages:
    """Outage spans per link (``channel:a~b``), clipped to the exercise."""

    def __init__(self, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.channels: dict[str, str] = {}
        self.down_since: dict[str, datetime | None] = {}
        self.spans: dict[str, list[_Span]] = defaultdict(list)

    def table(self, links: LinksState) -> None:
        for row in links.links:
            label = f"{row.channel}:{row.a}~{row.b}"
            self.channels[label] = row.channel
            was = self.down_since.get(label)
            if not row.up and was is None:
                self.down_since[label] = max(links.at, self.start)
            elif row.up and was is not None:
                self.spans[label].append((was, min(links.at, self.end)))
                self.down_since[label] = None
            else:
                self.down_since.setdefault(label, None)

    def finish(self) -> dict[str, list[_Span]]:
        """The spans, with links still down at the end closed at the end."""
        for label, since in self.down_since.items():
            if since is not None:
                self.spans[label].append((since, self.end))
        return self.spans
