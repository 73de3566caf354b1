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

from pydantic import ValidationError

from sim.core.ladder import Ladder, LevelChange
from sim.model.agreement import Agreement
from sim.model.control import (
    INJECT_ORDER,
    ClockState,
    Command,
    CommandResult,
    DeliveryTally,
    ExerciseStatus,
    InjectOrder,
    LinksState,
)
from sim.model.errors import MalformedMessage
from sim.model.injects import Detect
from sim.model.journal import Entry, JournalHeader
from sim.model.links import Fate
from sim.model.messages import Envelope, Kind, decode_envelope
from sim.model.obligations import Obligation, Status
from sim.model.observations import OBSERVATION, AwaitingObs, LinkObs, ObligationObs, Observation, RejectedObs
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
    last_t: datetime | None = None
    _ids: dict[str, Envelope] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.ladder = Ladder(self.agreement, {a.id: a.state for a in self.scenario.agencies})
        self.topics = Topics(self.exercise)
        for incident in self.scenario.incidents():
            self._incident(incident)

    def _incident(self, incident: str) -> IncidentStats:
        if incident not in self.incidents:
            self.incidents[incident] = IncidentStats(incident)
        return self.incidents[incident]

    def envelope(self, message_id: str) -> Envelope | None:
        return self._ids.get(message_id)

    # -- folding --------------------------------------------------------------------------------

    def apply(self, entry: Entry) -> Event | None:
        """Fold one journal entry."""
        raw = entry.raw.encode() if entry.raw is not None else _json_bytes(entry)
        return self.apply_raw(entry.t, entry.topic, raw)

    def apply_raw(self, t: datetime, topic: str, raw: bytes, parsed: Parsed | None = None) -> Event | None:
        """Fold one message as it came off the wire (the live path: no journal entry built)."""
        self.last_t = t
        parsed = parsed or self.topics.parse(topic)
        if parsed is None:
            return None
        try:
            if parsed.area == "msg":
                return self._message(t, raw, parsed.parts)
            if parsed.area == "obs":
                return self._obs(t, raw)
            if parsed.area == "presence":
                return self._presence(t, parsed.parts[0], raw)
            if parsed.area == "ctl":
                return self._ctl(t, parsed.parts, raw)
        except (MalformedMessage, ValidationError, ValueError) as exc:
            odd = OddEvent(t, topic, _one_line(exc))
            self.odd.append(odd)
            return odd
        return None

    def _message(self, t: datetime, raw: bytes, parts: tuple[str, ...]) -> MessageEvent | OddEvent:
        env = decode_envelope(raw)
        recipient, publisher = parts
        if (env.sender, env.recipient) != (publisher, recipient) or env.exercise != self.exercise:
            # The recipient rejects it (sender/topic mismatch): it is not traffic of the exercise.
            odd = OddEvent(
                t,
                self.topics.msg(recipient, publisher),
                f"{env.id}: claims {env.sender}→{env.recipient}, published as {publisher}→{recipient}",
            )
            self.odd.append(odd)
            return odd
        copy = 2 if env.id in self._ids else 1
        self._ids.setdefault(env.id, env)
        step = self.ladder.step(env, env.sent_at) if copy == 1 else None
        level = self.ladder.level(env.incident) if env.incident else None
        event = MessageEvent(t, env, level, step.change if step else None, copy, step.pairs if step else ())
        self.messages.append(event)
        if env.incident is not None and copy == 1:
            self._count_message(self._incident(env.incident), env)
        return event

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

    def _obs(self, t: datetime, raw: bytes) -> ObsEvent:
        obs = OBSERVATION.validate_json(raw)
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

    def _presence(self, t: datetime, agency: str, raw: bytes) -> PresenceEvent:
        loaded = json.loads(raw)
        payload = loaded if isinstance(loaded, dict) else {}
        event = PresenceEvent(t, agency, bool(payload.get("online")), payload.get("session"))
        self.presence[agency] = event
        return event

    def _ctl(self, t: datetime, parts: tuple[str, ...], raw: bytes) -> CtlEvent | None:
        match parts:
            case ("clock",):
                self.clock = ClockState.model_validate_json(raw)
                return CtlEvent(t, "clock", self.clock)
            case ("links",):
                self.links = LinksState.model_validate_json(raw)
                return CtlEvent(t, "links", self.links)
            case ("exercise",):
                self.status = ExerciseStatus.model_validate_json(raw)
                return CtlEvent(t, "exercise", self.status)
            case ("tally",):
                self.tally = DeliveryTally.model_validate_json(raw)
                return CtlEvent(t, "tally", self.tally)
            case ("cmd", _):
                command = Command.model_validate_json(raw)
                return CtlEvent(t, "cmd", command)
            case ("result", _):
                result = CommandResult.model_validate_json(raw)
                self.commands.append(result)
                return CtlEvent(t, "result", result)
            case ("inject", _):
                order = INJECT_ORDER.validate_json(raw)
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
