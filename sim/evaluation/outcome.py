"""Folding the journal into the state of an exercise (pure).

:class:`ExerciseState` takes journal entries one at a time — from a file, or live from the
broker — and keeps what a facilitator asks about: each incident's ladder, the messages and
their fates, obligations and their outcome, link conditions, presence. The console timeline,
the run summary, expectation checks, the after-action report and the dashboard all read it.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import cast

from pydantic import ValidationError

from sim.core.ladder import Ladder, LevelChange
from sim.core.protocol.screen import identity_problem
from sim.model.admission import Inadmissible
from sim.model.agreement import Agreement
from sim.model.control import (
    ClockState,
    Command,
    CommandResult,
    DeliveryTally,
    DetectOrder,
    ExerciseStatus,
    InjectOrder,
    LinksState,
    MessageOrder,
    PolicyOrder,
    Presence,
)
from sim.model.inbound import admit_on
from sim.model.injects import Detect
from sim.model.journal import Entry, JournalHeader
from sim.model.links import Fate
from sim.model.messages import Envelope, Kind
from sim.model.obligations import Obligation, Status
from sim.model.observations import AwaitingObs, LinkObs, ObligationObs, Observation, RejectedObs
from sim.model.scenario import Scenario
from sim.model.topics import Parsed, Topics


@dataclass(frozen=True)
class MessageEvent:
    t: datetime
    envelope: Envelope
    level: int | None  # the incident's level after this message (None: no incident)
    change: LevelChange | None
    copy: int  # 1 for the first copy on the wire, 2 for a duplicate
    #: The pairs of states this message moved (the incident's ``change`` is its highest pair's).
    pairs: tuple[LevelChange, ...] = ()


@dataclass(frozen=True)
class ObsEvent:
    t: datetime
    obs: Observation


@dataclass(frozen=True)
class CtlEvent:
    t: datetime
    what: str  # clock, links, inject, exercise, tally, cmd, result
    detail: ClockState | LinksState | InjectOrder | ExerciseStatus | DeliveryTally | Command | CommandResult


@dataclass(frozen=True)
class PresenceEvent:
    t: datetime
    agency: str
    online: bool
    session: int | None


@dataclass(frozen=True)
class OddEvent:
    """Something under the prefix that is not what it should be (kept, never fatal)."""

    t: datetime
    topic: str
    detail: str


@dataclass(frozen=True)
class RefusedInput:
    """Input refused — by the admission step (junk, recorded boundedly) or by its recipient's
    screening (a message that is not one of the exercise's): who sent it, and why."""

    t: datetime
    topic: str
    sender: str
    reason: str
    detail: str


Event = MessageEvent | ObsEvent | CtlEvent | PresenceEvent | OddEvent

#: Kinds whose first crossing of a border is an incident's first notice.
_NOTICES = (Kind.EARLY_WARNING, Kind.REQUEST_INFO, Kind.WARNING, Kind.INCIDENT_UPDATE)


@dataclass
class IncidentStats:
    id: str
    detected_at: datetime | None = None
    detected_by: str | None = None
    first_notice_at: datetime | None = None
    first_ack_at: datetime | None = None
    first_answer_at: datetime | None = None
    lost: int = 0
    refused: int = 0
    messages: int = 0


@dataclass
class ExerciseState:
    scenario: Scenario
    agreement: Agreement
    exercise: str
    ladder: Ladder = field(init=False)
    topics: Topics = field(init=False)
    messages: list[MessageEvent] = field(default_factory=list)
    obligations: dict[str, Obligation] = field(default_factory=dict)
    expectations: dict[str, AwaitingObs] = field(default_factory=dict)
    fates: list[LinkObs] = field(default_factory=list)
    rejections: list[RejectedObs] = field(default_factory=list)
    observations: list[ObsEvent] = field(default_factory=list)
    incidents: dict[str, IncidentStats] = field(default_factory=dict)
    presence: dict[str, PresenceEvent] = field(default_factory=dict)
    links: LinksState | None = None
    clock: ClockState | None = None
    status: ExerciseStatus | None = None
    #: End-of-run delivery check (every agency's own count of sent and received messages).
    tally: DeliveryTally | None = None
    #: The director's answers to facilitator commands, in order.
    commands: list[CommandResult] = field(default_factory=list)
    odd: list[OddEvent] = field(default_factory=list)
    #: Input refused (junk, and messages their recipient would reject), in order.
    refused: list[RefusedInput] = field(default_factory=list)
    last_t: datetime | None = None
    #: Every message folded, by its identity (sender, id); ids are in their sender's namespace.
    _ids: dict[tuple[str, str], Envelope] = field(default_factory=dict)
    #: Observations folded, by (agency, running number).
    _obs_seen: set[tuple[str, int]] = field(default_factory=set)

    def __post_init__(self) -> None:
        self._agencies = frozenset(a.id for a in self.scenario.agencies)
        self.ladder = Ladder(self.agreement, {a.id: a.state for a in self.scenario.agencies})
        self.topics = Topics(self.exercise)
        for incident in self.scenario.incidents():
            self._incident(incident)

    def _incident(self, incident: str) -> IncidentStats:
        if incident not in self.incidents:
            self.incidents[incident] = IncidentStats(incident)
        return self.incidents[incident]

    def envelope(self, message_id: str, sender: str | None = None) -> Envelope | None:
        """The message with this id (ids are ``<sender>-<n>``: the sender is read from it)."""
        if sender is None:
            sender = message_id.rpartition("-")[0]
        return self._ids.get((sender, message_id))

    def protocol_messages(self) -> int:
        """Distinct messages of the exercise (not their copies, not PROTOCOL_ERROR replies)."""
        return sum(1 for env in self._ids.values() if env.kind is not Kind.PROTOCOL_ERROR)

    @property
    def ending(self) -> str:
        """``complete`` (the director gave its final tally), ``aborted`` (it said so) or
        ``incomplete``: the journal stops without the director's end (it was stopped or crashed)."""
        if self.tally is not None:
            return "complete"
        if self.status is not None and self.status.status == "aborted":
            return "aborted"
        return "incomplete"

    # -- folding --------------------------------------------------------------------------------

    def apply(self, entry: Entry) -> Event | None:
        """Fold one journal entry."""
        if entry.junk is not None:
            parsed = self.topics.parse(entry.topic)
            self.last_t = entry.t
            return self._refused(entry.t, entry.topic, parsed, entry.junk.reason.value, entry.junk.detail)
        raw = entry.raw.encode() if entry.raw is not None else _json_bytes(entry)
        return self.apply_raw(entry.t, entry.topic, raw)

    def apply_raw(self, t: datetime, topic: str, raw: bytes, parsed: Parsed | None = None) -> Event | None:
        """Fold one message as it came off the wire (the live path: no journal entry built).
        The payload is admitted first (:mod:`sim.model.inbound`), like everywhere else."""
        self.last_t = t
        parsed = parsed or self.topics.parse(topic)
        if parsed is None or not raw:
            return None
        try:
            value = admit_on(parsed, raw)
        except Inadmissible as exc:
            return self._refused(t, topic, parsed, exc.reason.value, exc.detail)
        try:
            return self._fold(t, parsed, value)
        except (ValidationError, ValueError) as exc:
            odd = OddEvent(t, topic, _one_line(exc))
            self.odd.append(odd)
            return odd

    def _fold(self, t: datetime, parsed: Parsed, value: object) -> Event | None:
        match value:
            case Envelope():
                return self._message(t, value, parsed.parts)
            case Presence() if value.agency == parsed.parts[0]:
                return self._presence(t, parsed.parts[0], value)
            case Presence():
                detail = f"presence of {value.agency} published as {parsed.parts[0]}"
                return self._refused(t, self.topics.presence(parsed.parts[0]), parsed, "SENDER_MISMATCH", detail)
        if parsed.area == "obs":
            obs = cast("Observation", value)
            if obs.agency != parsed.parts[0]:
                detail = f"an observation of {obs.agency} published as {parsed.parts[0]}"
                return self._refused(t, self.topics.obs(parsed.parts[0]), parsed, "SENDER_MISMATCH", detail)
            if obs.n and (obs.agency, obs.n) in self._obs_seen:
                return None  # published again by a node that restarted before the broker had it
            self._obs_seen.add((obs.agency, obs.n))
            return self._obs(t, obs)
        if parsed.area == "ctl":
            return self._ctl(t, parsed.parts, value)
        return None

    def _refused(self, t: datetime, topic: str, parsed: Parsed | None, reason: str, detail: str) -> OddEvent:
        """Refused input: an odd event, and a record of who sent it and why (grouped in reports)."""
        sender = "?"
        if parsed is not None and parsed.parts:
            sender = parsed.parts[1] if parsed.area == "msg" and len(parsed.parts) > 1 else parsed.parts[-1]
        self.refused.append(RefusedInput(t, topic, sender[:64], reason, detail))
        odd = OddEvent(t, topic, f"{reason}: {detail}")
        self.odd.append(odd)
        return odd

    def _message(self, t: datetime, env: Envelope, parts: tuple[str, ...]) -> MessageEvent | OddEvent:
        recipient, publisher = parts
        problem = identity_problem(
            env,
            publisher=publisher,
            recipient=recipient,
            exercise=self.exercise,
            agencies=self._agencies,
            window=(self.scenario.start, self.scenario.end),
        )
        if problem is not None:
            # Its recipient rejects it: it is not traffic of the exercise.
            reason, detail = problem
            return self._refused(t, self.topics.msg(recipient, publisher), _msg_parsed(parts), reason.value, detail)
        env = self._honest_times(t, env)
        identity = (env.sender, env.id)
        copy = 2 if identity in self._ids else 1
        self._ids.setdefault(identity, env)
        step = self.ladder.step(env, env.sent_at) if copy == 1 else None
        level = self.ladder.level(env.incident) if env.incident else None
        event = MessageEvent(t, env, level, step.change if step else None, copy, step.pairs if step else ())
        self.messages.append(event)
        if env.incident is not None and copy == 1 and env.kind is not Kind.PROTOCOL_ERROR:
            self._count_message(self._incident(env.incident), env)
        return event

    def _honest_times(self, t: datetime, env: Envelope) -> Envelope:
        """The times a message claims are its sender's word; the journal's ``t`` is when the
        director saw it cross the broker. A claim further from that than the clock allows (a
        minute, plus five wall seconds of the realtime speed) is not believed: the message is
        folded as sent at ``t``, with the transit it claimed, and the discrepancy is noted."""
        speed = self.clock.speed if self.clock is not None and self.clock.speed else 0.0
        slack = timedelta(seconds=60 + 5 * speed)
        if abs(env.sent_at - t) <= slack:
            return env
        transit = (env.arrives_at - env.sent_at) if env.arrives_at is not None else None
        self.odd.append(
            OddEvent(
                t,
                self.topics.msg(env.recipient, env.sender),
                f"{env.id}: claims sent at {env.sent_at:%Y-%m-%dT%H:%M:%SZ}",
            )
        )
        return env.model_copy(update={"sent_at": t, "arrives_at": t + transit if transit is not None else None})

    def _count_message(self, stats: IncidentStats, env: Envelope) -> None:
        """An incident's first message of a new id: counted, and its first notice, ACK and
        answer across a border noted."""
        stats.messages += 1
        channel = self.agreement.channel(env.channel)
        if channel is None or channel.scope != "bilateral":
            return
        if env.kind in _NOTICES:
            stats.first_notice_at = stats.first_notice_at or env.sent_at
        if env.kind is Kind.ACK:
            stats.first_ack_at = stats.first_ack_at or env.sent_at
        if env.kind is Kind.PROVIDE_INFO:
            stats.first_answer_at = stats.first_answer_at or env.sent_at

    def _obs(self, t: datetime, obs: Observation) -> ObsEvent:
        if isinstance(obs, ObligationObs):
            self.obligations[obs.obligation.id] = obs.obligation
        elif isinstance(obs, AwaitingObs):
            self.expectations[obs.expectation.id] = obs
        elif isinstance(obs, LinkObs):
            self.fates.append(obs)
            if obs.incident is not None:
                stats = self._incident(obs.incident)
                if obs.fate is Fate.LOST:
                    stats.lost += 1
                elif obs.fate is Fate.REFUSED:
                    stats.refused += 1
        elif isinstance(obs, RejectedObs):
            self.rejections.append(obs)
        event = ObsEvent(t, obs)
        self.observations.append(event)
        return event

    def _presence(self, t: datetime, agency: str, presence: Presence) -> PresenceEvent:
        event = PresenceEvent(t, agency, presence.online, presence.session)
        self.presence[agency] = event
        return event

    def _ctl(self, t: datetime, parts: tuple[str, ...], value: object) -> CtlEvent | None:
        match parts[0], value:
            case "clock", ClockState():
                self.clock = value
                return CtlEvent(t, "clock", value)
            case "links", LinksState():
                self.links = value
                return CtlEvent(t, "links", value)
            case "exercise", ExerciseStatus():
                self.status = value
                return CtlEvent(t, "exercise", value)
            case "tally", DeliveryTally():
                self.tally = value
                return CtlEvent(t, "tally", value)
            case "cmd", Command():
                return CtlEvent(t, "cmd", value)
            case "result", CommandResult():
                self.commands.append(value)
                return CtlEvent(t, "result", value)
            case "inject", DetectOrder() | MessageOrder() | PolicyOrder():
                order = value
                if isinstance(order.action, Detect):
                    stats = self._incident(order.action.incident)
                    stats.detected_at = stats.detected_at or order.at
                    stats.detected_by = stats.detected_by or order.action.agency
                return CtlEvent(t, "inject", order)
        return None

    # -- questions ------------------------------------------------------------------------------

    def obligations_of(self, incident: str | None = None) -> list[Obligation]:
        return [o for o in self.obligations.values() if incident is None or o.incident == incident]

    def count(self, incident: str | None, status: Status) -> int:
        return sum(1 for o in self.obligations_of(incident) if o.status is status)

    def lost(self, channel: str | None = None) -> list[LinkObs]:
        return [f for f in self.fates if f.fate is Fate.LOST and (channel is None or f.channel == channel)]

    def time_to_first_ack(self, incident: str) -> timedelta | None:
        stats = self.incidents.get(incident)
        if stats is None or stats.first_ack_at is None or stats.first_notice_at is None:
            return None
        return stats.first_ack_at - stats.first_notice_at


def fold(header: JournalHeader, entries: Iterable[Entry]) -> tuple[ExerciseState, list[Event]]:
    """A journal's entries folded into the exercise state, with its events in journal order."""
    state = ExerciseState(header.scenario, header.agreement, header.exercise)
    events = [event for entry in entries if (event := state.apply(entry)) is not None]
    return state, events


def _one_line(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        err = exc.errors()[0]
        return f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
    return str(exc).splitlines()[0]


def _json_bytes(entry: Entry) -> bytes:
    return json.dumps(entry.payload).encode()


def _msg_parsed(parts: tuple[str, ...]) -> Parsed:
    return Parsed("msg", parts)
