"""The dashboard's view model (pure): the exercise state folded from journal entries — fed by a
journal file or live by the broker, the same way — plus what the screens ask that
:class:`~sim.evaluation.outcome.ExerciseState` does not index: each message's fate, the swimlanes of each
incident, obligations and expectations by the message that triggered them, counts per agency."""

from __future__ import annotations

import enum
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sim.core.ladder import Pair
from sim.evaluation.outcome import CtlEvent, Event, ExerciseState, MessageEvent, ObsEvent
from sim.model.agreement import Agreement
from sim.model.journal import Entry
from sim.model.links import Fate as LinkFate
from sim.model.messages import Envelope
from sim.model.obligations import Obligation, Status
from sim.model.observations import AwaitingObs, LinkObs, ObligationObs, RejectedObs, RetryObs
from sim.model.scenario import Scenario
from sim.model.topics import Parsed

#: Lane group of messages that belong to no incident (communication checks, goodwill).
NO_INCIDENT = "(none)"


class DisplayFate(enum.StrEnum):
    """What became of a message, as the timeline and the log show it."""

    SENT = "sent"
    ACKED = "answered"
    OVERDUE = "overdue"
    LOST = "lost"
    REJECTED = "rejected"


#: One glyph per fate, distinguishable without colour.
GLYPHS: dict[DisplayFate, str] = {
    DisplayFate.SENT: "•",
    DisplayFate.ACKED: "✓",
    DisplayFate.OVERDUE: "!",
    DisplayFate.LOST: "✗",
    DisplayFate.REJECTED: "⊘",
}
#: When several messages share a column, the one most worth a look wins.
URGENCY: dict[DisplayFate, int] = {
    DisplayFate.ACKED: 0,
    DisplayFate.SENT: 1,
    DisplayFate.OVERDUE: 2,
    DisplayFate.LOST: 3,
    DisplayFate.REJECTED: 4,
}


@dataclass(frozen=True)
class AgencyRow:
    agency: str
    name: str
    online: bool | None  # None: never seen
    open: int
    overdue: int


@dataclass(frozen=True)
class StateGroup:
    state: str
    name: str
    agencies: tuple[AgencyRow, ...]


@dataclass(frozen=True)
class Pending:
    obligation: Obligation
    #: Sim time left until the deadline (negative: overdue by that much).
    left: timedelta

    @property
    def overdue(self) -> bool:
        return self.left < timedelta(0) or self.obligation.status is Status.MISSED


@dataclass(frozen=True)
class LinkLine:
    channel: str
    ends: str
    up: bool
    latency: timedelta
    loss: float
    count: int = 1  # >1: a summary of several links of one (domestic) channel
    down: int = 0


class DashboardModel:
    """Everything the screens show; ``apply`` one journal entry at a time."""

    def __init__(self, scenario: Scenario, agreement: Agreement, exercise: str) -> None:
        self.scenario = scenario
        self.agreement = agreement
        self.exercise = exercise
        self.state = ExerciseState(scenario, agreement, exercise)
        #: Bumped by every entry: screens redraw only when it moved.
        self.version = 0
        self.applied = 0
        #: Sim "now": the latest entry time, or what the replay position or live clock says.
        self.now: datetime = scenario.start
        #: incident (or NO_INCIDENT) → agency → indexes into ``state.messages`` (first copies).
        self.lanes: dict[str, dict[str, list[int]]] = {}
        #: incident → agency → obligation ids it owes on that incident.
        self.owed: dict[str, dict[str, list[str]]] = {}
        self.first_seen: dict[str, datetime] = {}
        self._answered: dict[str, str] = {}
        self._lost: set[str] = set()
        self._rejected: set[str] = set()
        self._obligation_of: dict[str, str] = {}
        self._expectation_of: dict[str, str] = {}
        self._agency_order = {a.id: n for n, a in enumerate(scenario.agencies)}

    # -- folding ---------------------------------------------------------------------------------

    def apply(self, entry: Entry) -> Event | None:
        return self._after(self.state.apply(entry), entry.t)

    def apply_raw(self, t: datetime, topic: str, raw: bytes, parsed: Parsed | None = None) -> Event | None:
        """The live path: straight from the wire, no journal entry built."""
        return self._after(self.state.apply_raw(t, topic, raw, parsed), t)

    def _after(self, event: Event | None, t: datetime) -> Event | None:
        self.applied += 1
        self.version += 1
        self.now = max(self.now, t)
        match event:
            case MessageEvent():
                self._message(event, len(self.state.messages) - 1)
            case ObsEvent(obs=obs):
                self._obs(obs)
            case CtlEvent(what="clock") if self.state.clock is not None and self.state.clock.now > self.now:
                self.now = self.state.clock.now
        return event

    def _message(self, event: MessageEvent, index: int) -> None:
        env = event.envelope
        if event.copy != 1:
            return
        group = env.incident or NO_INCIDENT
        self.lanes.setdefault(group, {}).setdefault(env.sender, []).append(index)
        if group not in self.first_seen or env.sent_at < self.first_seen[group]:
            self.first_seen[group] = env.sent_at
        if env.ref is not None and env.ref not in self._answered:
            original = self.state.envelope(env.ref)
            if original is not None and original.recipient == env.sender:
                self._answered[env.ref] = env.id

    def _obs(self, obs: object) -> None:
        if isinstance(obs, LinkObs):
            if obs.fate is LinkFate.LOST:
                self._lost.add(obs.message)
            elif obs.fate is LinkFate.REFUSED:
                self._rejected.add(obs.message)
        elif isinstance(obs, RejectedObs) and obs.offending_id is not None:
            self._rejected.add(obs.offending_id)
        elif isinstance(obs, ObligationObs):
            ob = obs.obligation
            if ob.rule == "answer":
                self._obligation_of.setdefault(ob.trigger, ob.id)
            group = ob.incident or NO_INCIDENT
            owed = self.owed.setdefault(group, {}).setdefault(ob.owner, [])
            if ob.id not in owed:
                owed.append(ob.id)
        elif isinstance(obs, AwaitingObs):
            exp = obs.expectation
            for message in (exp.trigger, *exp.sent_ids):
                self._expectation_of[message] = exp.id
        elif isinstance(obs, RetryObs):
            self._expectation_of[obs.message] = obs.expectation

    # -- questions -------------------------------------------------------------------------------

    def level_name(self, level: int) -> str:
        return self.state.ladder.name(level)

    def fate(self, message_id: str, now: datetime | None = None) -> DisplayFate:
        now = self.now if now is None else now
        if message_id in self._rejected:
            return DisplayFate.REJECTED
        if message_id in self._lost:
            return DisplayFate.LOST
        obligation = self.state.obligations.get(self._obligation_of.get(message_id, ""))
        if obligation is not None:
            if obligation.status is Status.MISSED:
                return DisplayFate.OVERDUE
            if obligation.status is Status.OPEN and obligation.due_at < now:
                return DisplayFate.OVERDUE
        expectation = self.state.expectations.get(self._expectation_of.get(message_id, ""))
        if expectation is not None:
            if expectation.status is Status.MISSED:
                return DisplayFate.OVERDUE
            if expectation.status is Status.MET:
                return DisplayFate.ACKED
        if obligation is not None and obligation.status is Status.MET:
            return DisplayFate.ACKED
        if message_id in self._answered:
            return DisplayFate.ACKED
        return DisplayFate.SENT

    def answered_by(self, message_id: str) -> str | None:
        return self._answered.get(message_id)

    def incidents(self) -> list[str]:
        """Incidents in scenario order, then any that appeared later; NO_INCIDENT last."""
        out = [i for i in self.state.incidents if i in self.lanes or i in self.owed or i in self.first_seen]
        if NO_INCIDENT in self.lanes:
            out.append(NO_INCIDENT)
        return out

    def lane_agencies(self, incident: str) -> list[str]:
        """Agencies that sent on the incident or owe something on it, in scenario order."""
        names = set(self.lanes.get(incident, {})) | set(self.owed.get(incident, {}))
        return sorted(names, key=lambda a: (self._agency_order.get(a, 10_000), a))

    def lane(self, incident: str, agency: str) -> list[MessageEvent]:
        messages = self.state.messages
        return [messages[i] for i in self.lanes.get(incident, {}).get(agency, [])]

    def owed_by(self, incident: str, agency: str) -> list[Obligation]:
        obligations = self.state.obligations
        return [obligations[o] for o in self.owed.get(incident, {}).get(agency, []) if o in obligations]

    def level_at(self, incident: str, t: datetime, pair: Pair | None = None) -> int:
        """The incident's level at ``t`` (``pair``: that pair of states')."""
        level = 0
        for change in self.state.ladder.changes(incident, pair):
            if change.at > t:
                break
            level = change.level
        return level

    def top_pair_at(self, incident: str, t: datetime) -> Pair | None:
        """The pair of states at the incident's level at ``t`` (the first, if several are)."""
        levels = {pair: self.level_at(incident, t, pair) for pair in self.state.ladder.pairs(incident)}
        best = max(levels.values(), default=0)
        return next((p for p, lvl in levels.items() if lvl == best), None) if best > 0 else None

    def still_owed(self, ob: Obligation) -> bool:
        """Open, or missed and not answered late either."""
        if ob.status is Status.OPEN:
            return True
        if ob.status is not Status.MISSED:
            return False
        if ob.rule != "answer":
            return True
        return not any(self._answered.get(m) for m in (ob.trigger, *ob.aliases))

    def is_overdue(self, ob: Obligation, now: datetime | None = None) -> bool:
        """Past its deadline and still owed."""
        now = self.now if now is None else now
        if not self.still_owed(ob):
            return False
        return ob.status is Status.MISSED or ob.due_at < now

    def pending(self, now: datetime | None = None) -> list[Pending]:
        """Obligations still owed (open, or missed and never met), most urgent first."""
        now = self.now if now is None else now
        rows = [Pending(ob, ob.due_at - now) for ob in self.state.obligations.values() if self.still_owed(ob)]
        rows.sort(key=lambda p: (not p.overdue, p.obligation.due_at, p.obligation.id))
        return rows

    def agency_groups(self, now: datetime | None = None) -> list[StateGroup]:
        now = self.now if now is None else now
        open_count: dict[str, int] = {}
        overdue: dict[str, int] = {}
        for ob in self.state.obligations.values():
            if ob.status is Status.OPEN:
                open_count[ob.owner] = open_count.get(ob.owner, 0) + 1
            if self.is_overdue(ob, now):
                overdue[ob.owner] = overdue.get(ob.owner, 0) + 1
        groups = []
        for st in self.scenario.states:
            rows = []
            for agency in self.scenario.agencies:
                if agency.state != st.id:
                    continue
                seen = self.state.presence.get(agency.id)
                rows.append(
                    AgencyRow(
                        agency.id,
                        agency.name,
                        None if seen is None else seen.online,
                        open_count.get(agency.id, 0),
                        overdue.get(agency.id, 0),
                    )
                )
            groups.append(StateGroup(st.id, st.name, tuple(rows)))
        return groups

    def link_lines(self) -> list[LinkLine]:
        """Bilateral links one by one (lowest tier first); each domestic channel summarised."""
        links = self.state.links
        if links is None:
            return []
        tiers = {c.id: (c.tier, c.scope) for c in self.agreement.channels}
        out: list[LinkLine] = []
        domestic: dict[str, list[LinkLine]] = {}
        for row in sorted(links.links, key=lambda r: (tiers.get(r.channel, (99, ""))[0], r.channel, r.a, r.b)):
            line = LinkLine(row.channel, f"{row.a}~{row.b}", row.up, row.latency, row.loss)
            if tiers.get(row.channel, (0, "bilateral"))[1] == "domestic":
                domestic.setdefault(row.channel, []).append(line)
            else:
                out.append(line)
        for channel, lines in domestic.items():
            down = sum(1 for ln in lines if not ln.up)
            latencies = sorted({ln.latency for ln in lines})
            out.append(
                LinkLine(
                    channel,
                    f"{len(lines)} links",
                    down == 0,
                    latencies[-1],
                    max(ln.loss for ln in lines),
                    count=len(lines),
                    down=down,
                )
            )
        return out

    def messages(self) -> list[MessageEvent]:
        return self.state.messages

    def envelope(self, message_id: str) -> Envelope | None:
        return self.state.envelope(message_id)

    def obligations_for(self, message_id: str) -> Iterator[Obligation]:
        for ob in self.state.obligations.values():
            if ob.trigger == message_id or message_id in ob.aliases:
                yield ob
