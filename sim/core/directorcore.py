"""The director's deterministic parts: the scenario timeline (injects, link faults and their
reverts) and the bookkeeping of fast-mode rounds. No I/O; :mod:`sim.runtime.director` is the shell."""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sim.core.linktable import LinkTable
from sim.core.roster import Roster
from sim.model.control import ClockState, DeliveryTally, LinksState, PairCount, RoundReport, order_for
from sim.model.injects import Inject, LinkFault
from sim.model.scenario import Scenario
from sim.model.topics import Publish, Topics


def _dump(model: Any) -> bytes:
    return bytes(model.model_dump_json(exclude_none=True, by_alias=True).encode())


@dataclass(order=True)
class _Event:
    at: datetime
    order: int
    kind: str = field(compare=False)
    inject: Inject | None = field(compare=False, default=None)
    fault: LinkFault | None = field(compare=False, default=None)
    fault_id: int | None = field(compare=False, default=None)


class Script:
    """Injects and link faults of a scenario, handed out as their sim time comes."""

    def __init__(self, scenario: Scenario, roster: Roster, topics: Topics) -> None:
        self.scenario = scenario
        self.topics = topics
        self.links = LinkTable(roster.latency)
        self.agencies = sorted(roster.agencies)
        self._events: list[_Event] = []
        self._order = 0
        self.inject_counts: Counter[str] = Counter()
        for index, inject in enumerate(scenario.injects):
            self._add(scenario.start + inject.at, "inject", inject=inject, order=index)

    def _add(self, at: datetime, kind: str, order: int | None = None, **kw: Any) -> None:
        self._order += 1
        heapq.heappush(self._events, _Event(at, order if order is not None else 10_000 + self._order, kind, **kw))

    def next_event(self) -> datetime | None:
        return self._events[0].at if self._events else None

    def links_state(self, at: datetime) -> Publish:
        state = LinksState(at=at, links=tuple(self.links.rows()))
        return Publish(self.topics.links, _dump(state), retain=True)

    def live_inject(self, inject: Inject, at: datetime) -> None:
        """An inject given during the exercise (facilitator), due at ``at``."""
        self._add(at, "inject", inject=inject)

    def due(self, until: datetime) -> tuple[list[Publish], set[str]]:
        """Everything due at or before ``until``: inject orders and link changes.
        Returns the publishes and the agencies that received an inject."""
        out: list[Publish] = []
        touched: set[str] = set()
        links_changed = False
        while self._events and self._events[0].at <= until:
            event = heapq.heappop(self._events)
            if event.kind == "revert":
                assert event.fault_id is not None
                links_changed = self.links.end(event.fault_id) or links_changed
                continue
            inject = event.inject
            assert inject is not None
            action = inject.action
            if isinstance(action, LinkFault):
                fault_id = self.links.apply(action)
                links_changed = links_changed or bool(self.links.keys_for(action))
                if action.for_ is not None and fault_id is not None:
                    self._add(event.at + action.for_, "revert", fault=action, fault_id=fault_id)
                continue
            agency = action.target
            self.inject_counts[agency] += 1
            order = order_for(
                action,
                seq=self.inject_counts[agency],
                id=inject.id or f"inj-{event.order + 1}",
                at=event.at,
                note=inject.note,
            )
            out.append(Publish(self.topics.inject(agency), _dump(order)))
            touched.add(agency)
        if links_changed:
            out.insert(0, self.links_state(until))
        return out, touched


@dataclass
class Rounds:
    """Fast-mode round bookkeeping: who must report, and when the round is complete."""

    agencies: list[str]
    reports: dict[str, RoundReport] = field(default_factory=dict)
    round: int = 0
    expected: set[str] = field(default_factory=set)
    #: Publishes seen by the director (journal) per agency, to know nothing is still on its way.
    seen: Counter[str] = field(default_factory=Counter)

    def begin(self, round_no: int, now: datetime, injected: set[str]) -> None:
        self.round = round_no
        self.expected = set(injected)
        for agency, report in self.reports.items():
            if report.next_due is not None and report.next_due <= now:
                self.expected.add(agency)

    def record(self, report: RoundReport) -> None:
        current = self.reports.get(report.agency)
        if current is None or (report.round, report.published) >= (current.round, current.published):
            self.reports[report.agency] = report

    def missing(self) -> list[str]:
        return sorted(
            a
            for a in self.agencies
            if a not in self.reports or (a in self.expected and self.reports[a].round < self.round)
        )

    def in_flight(self) -> int:
        """Messages sent but not yet reported received (never negative per pair)."""
        pending = 0
        for sender, report in self.reports.items():
            for recipient, count in report.sent_to.items():
                got = self.reports.get(recipient)
                received = got.received_from.get(sender, 0) if got else 0
                pending += max(0, count - received)
        return pending

    def unseen(self) -> int:
        return sum(max(0, r.published - self.seen[a]) for a, r in self.reports.items())

    def complete(self) -> bool:
        return not self.missing() and self.in_flight() == 0 and self.unseen() == 0

    def next_due(self) -> datetime | None:
        times = [r.next_due for r in self.reports.values() if r.next_due is not None]
        return min(times, default=None)


def clock_publish(topics: Topics, state: ClockState) -> Publish:
    return Publish(topics.clock, _dump(state), retain=True)


def tally(reports: dict[str, RoundReport], agencies: list[str], at: datetime) -> DeliveryTally:
    """Compare, per pair, the ids each sender says it sent to each recipient with the ids that
    recipient says it received from that sender (sets: a copy or a replay counts once, and never
    for another message). An agency without a final account is *silent*: nothing it sent or was
    sent can be vouched for."""
    final = {a: r for a, r in reports.items() if r.final and r.sent_ids is not None and r.received_ids is not None}
    missing = []
    sent = received = 0
    for sender in sorted(final):
        for recipient, ids in sorted((final[sender].sent_ids or {}).items()):
            if recipient not in final:
                continue  # a silent recipient: named in ``silent``, not guessed at
            got = set((final[recipient].received_ids or {}).get(sender, ()))
            lost = [i for i in ids if i not in got]
            sent += len(ids)
            received += len(ids) - len(lost)
            if lost:
                missing.append(
                    PairCount(
                        sender=sender,
                        recipient=recipient,
                        sent=len(ids),
                        received=len(ids) - len(lost),
                        lost=tuple(lost[:100]),
                    )
                )
    silent = tuple(a for a in agencies if a not in final)
    return DeliveryTally(at=at, sent=sent, received=received, missing=tuple(missing), silent=silent)
