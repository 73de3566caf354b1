"""Builders for the unit tests: one valid body per message kind, envelopes, a small two-state
scenario and its roster, protocol peers wired in memory. Pure: no broker, no clock, no sleep."""

from __future__ import annotations

import functools
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

from sim.core.directorcore import Script
from sim.core.nodecore import NodeCore
from sim.core.protocol import Action, Engine
from sim.core.roster import Roster
from sim.model.agreement import Agreement
from sim.model.control import INJECT_ORDER, LinksState
from sim.model.messages import (
    Ack,
    AssistReply,
    Body,
    CheckDepth,
    CommCheck,
    CommCheckReply,
    ConsultReply,
    ConsultRequest,
    EarlyWarning,
    Envelope,
    Goodwill,
    IncidentUpdate,
    Kind,
    Pap,
    Position,
    PreNotify,
    ProtocolErrorBody,
    ProvideInfo,
    Referral,
    ReferralReason,
    RejectReason,
    RequestAssist,
    RequestInfo,
    StandDown,
    Tlp,
    Warning,
    decode_envelope,
)
from sim.model.observations import OBSERVATION, Observation
from sim.model.policy import Policy
from sim.model.scenario import Scenario
from sim.model.topics import Publish, Topics
from sim.scenario.load import load_agreement

T = TypeVar("T")

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = REPO / "scenarios"
PROTOCOLS = SCENARIOS / "protocols"
ELECTION = SCENARIOS / "election-interference.yaml"
SHIPPED_PROTOCOLS = ("bilateral-2013", "incsea-cyber", "none")

T0 = datetime(2026, 1, 1, tzinfo=UTC)
EXERCISE = "unit-ex"
INCIDENT = "INC-1"


def minutes(n: float) -> timedelta:
    return timedelta(minutes=n)


def hours(n: float) -> timedelta:
    return timedelta(hours=n)


# -- message bodies -------------------------------------------------------------------------


def body_examples() -> dict[Kind, Body]:
    """One valid, non-trivial body per kind (every optional field set where it has one)."""
    return {
        Kind.COMM_CHECK: CommCheck(check="pre-election check"),
        Kind.COMM_CHECK_REPLY: CommCheckReply(depth=CheckDepth.ACKNOWLEDGED),
        Kind.ACK: Ack(received_at=T0 + minutes(3)),
        Kind.PRE_NOTIFY: PreNotify(
            activity="red-team exercise",
            window_start=T0 + timedelta(days=4),
            window_end=T0 + timedelta(days=5),
            scope="10.0.0.0/8",
        ),
        Kind.EARLY_WARNING: EarlyWarning(
            summary="beaconing to your address space",
            aware_at=T0,
            suspected_malicious=True,
            cross_border=True,
            suspected_origin="bb",
            indicators=("203.0.113.17", "sha256:4f2a"),
        ),
        Kind.INCIDENT_UPDATE: IncidentUpdate(severity=3, impact="records altered", indicators=("198.51.100.4",)),
        Kind.REQUEST_INFO: RequestInfo(questions=("who?", "what?"), evidence=("log excerpt",), urgent=True),
        Kind.PROVIDE_INFO: ProvideInfo(position=Position.NOT_STATE_ACTOR, answers=("criminal group",)),
        Kind.REQUEST_ASSIST: RequestAssist(action="sinkhole 203.0.113.0/24", pap=Pap.GREEN),
        Kind.ASSIST_REPLY: AssistReply(accepted=False, actions=(), reason="no grounds"),
        Kind.CONSULT_REQUEST: ConsultRequest(agenda=("incident INC-1", "measures")),
        Kind.CONSULT_REPLY: ConsultReply(accepted=True, meeting_at=T0 + hours(24), reason="agreed"),
        Kind.WARNING: Warning(demand="stop it", basis="traces"),
        Kind.STAND_DOWN: StandDown(root_cause="misconfiguration", closure="closed"),
        Kind.GOODWILL: Goodwill(text="thank you"),
        Kind.REFERRAL: Referral(
            reason=ReferralReason.LINK_DOWN,
            counterpart_state="bb",
            original="aa-cert-1",
            relay_kind=Kind.EARLY_WARNING,
            relay_body=EarlyWarning(summary="relayed", aware_at=T0, suspected_malicious=False, cross_border=True),
            summary="relay please",
        ),
        Kind.PROTOCOL_ERROR: ProtocolErrorBody(offending_id="x-1", reason=RejectReason.NO_LINK, detail="nope"),
    }


def body_of(kind: Kind) -> Body:
    return body_examples()[kind]


def envelope(
    body: Body | Kind,
    *,
    sender: str = "aa-cert",
    recipient: str = "bb-cert",
    channel: str = "cert",
    incident: str | None = INCIDENT,
    ref: str | None = None,
    seq: int = 1,
    msg_id: str | None = None,
    sent_at: datetime = T0,
    arrives_at: datetime | None = None,
    severity: int = 0,
    exercise: str = EXERCISE,
    tlp: Tlp = Tlp.AMBER,
) -> Envelope:
    if isinstance(body, Kind):
        body = body_of(body)
    return Envelope(
        id=msg_id or f"{sender}-{seq}",
        exercise=exercise,
        sender=sender,
        recipient=recipient,
        channel=channel,
        incident=incident,
        ref=ref,
        seq=seq,
        sent_at=sent_at,
        arrives_at=arrives_at,
        severity=severity,
        tlp=tlp,
        body=body,
    )


# -- agreements, scenarios, rosters -----------------------------------------------------------


@functools.cache
def agreement(name: str = "bilateral-2013") -> Agreement:
    return load_agreement(PROTOCOLS / f"{name}.yaml")


AGENCIES = ("aa-cert", "aa-nrrc", "aa-leader", "bb-cert", "bb-nrrc", "bb-leader")


def scenario_data(**overrides: Any) -> dict[str, Any]:
    """A two-state scenario (Alphaland aa, Betaland bb) with a CERT, an NRRC and a leader each."""
    data: dict[str, Any] = {
        "id": "unit",
        "title": "Unit test scenario",
        "protocol": "bilateral-2013",
        "seed": 3,
        "start": "2026-01-01T00:00:00Z",
        "duration": "72h",
        "states": [{"id": "aa", "name": "Alphaland"}, {"id": "bb", "name": "Betaland"}],
        "agencies": [
            {"id": f"{state}-{role}", "state": state, "role": role, "name": f"{state} {role}"}
            for state in ("aa", "bb")
            for role in ("cert", "nrrc", "leader")
        ],
        "links": [
            {"channel": "cert", "between": ["aa-cert", "bb-cert"], "latency": "2m"},
            {"channel": "nrrc", "between": ["aa-nrrc", "bb-nrrc"], "latency": "15m"},
            {"channel": "leaders", "between": ["aa-leader", "bb-leader"], "latency": "5m"},
        ],
    }
    data.update(overrides)
    return data


def scenario(**overrides: Any) -> Scenario:
    return Scenario.model_validate(scenario_data(**overrides))


def roster(protocol: str = "bilateral-2013", **overrides: Any) -> Roster:
    return Roster.build(scenario(**overrides), agreement(protocol))


# -- protocol peers wired in memory -----------------------------------------------------------


@dataclass
class Peer:
    """An Engine plus the bookkeeping a node does around it (ids, seq, latency)."""

    engine: Engine
    seq: int = 0
    log: list[Action] = field(default_factory=list)

    @property
    def me(self) -> str:
        return self.engine.me

    def compose(
        self,
        body: Body | Kind,
        to: str,
        now: datetime,
        *,
        channel: str,
        ref: str | None = None,
        incident: str | None = INCIDENT,
        severity: int = 0,
    ) -> Envelope:
        self.seq += 1
        return envelope(
            body,
            sender=self.me,
            recipient=to,
            channel=channel,
            incident=incident,
            ref=ref,
            seq=self.seq,
            sent_at=now,
            severity=severity,
            exercise=self.engine.exercise,
        )

    def send(
        self,
        body: Body | Kind,
        to: str,
        now: datetime,
        *,
        channel: str,
        ref: str | None = None,
        incident: str | None = INCIDENT,
        severity: int = 0,
        latency: timedelta = timedelta(minutes=2),
    ) -> tuple[Envelope, list[Action]]:
        """check_send, then report it sent; returns the wire envelope and the actions."""
        env = self.compose(body, to, now, channel=channel, ref=ref, incident=incident, severity=severity)
        self.engine.check_send(env)
        wire = env.model_copy(update={"arrives_at": now + latency})
        actions = self.engine.sent(wire, now, 2 * latency)
        self.log.extend(actions)
        return wire, actions

    def receive(self, env: Envelope) -> list[Action]:
        now = env.arrives_at or env.sent_at
        actions = self.engine.receive(env, now, env.sender)
        self.log.extend(actions)
        return actions

    def advance(self, now: datetime) -> list[Action]:
        actions = self.engine.advance(now)
        self.log.extend(actions)
        return actions


def peers(
    a: str = "aa-cert", b: str = "bb-cert", protocol: str = "bilateral-2013", **overrides: Any
) -> tuple[Peer, Peer]:
    r = roster(protocol, **overrides)
    return Peer(Engine(r, a, EXERCISE)), Peer(Engine(r, b, EXERCISE))


def of_type(actions: list[Any], cls: type[T]) -> list[T]:
    return [a for a in actions if isinstance(a, cls)]


# -- node cores wired together in memory ------------------------------------------------------


@dataclass
class Network:
    """NodeCores (and optionally the director's Script) passing publishes to each other in
    memory, rounds as in fast mode: every core handles everything due at the earliest time."""

    cores: dict[str, NodeCore]
    topics: Topics
    timeline: Script | None = None
    #: Every publish with the sim time of the round that produced it.
    wire: list[tuple[datetime, Publish]] = field(default_factory=list)

    @classmethod
    def build(
        cls, r: Roster, seed: int = 1, policies: dict[str, Policy] | None = None, scenario_: Scenario | None = None
    ) -> Network:
        topics = Topics(EXERCISE)
        cores = {
            agency: NodeCore(r, agency, EXERCISE, seed, (policies or {}).get(agency, Policy()))
            for agency in sorted(r.agencies)
        }
        timeline = Script(scenario_, r, topics) if scenario_ is not None else None
        return cls(cores, topics, timeline)

    def deliver(self, publishes: list[Publish], now: datetime) -> None:
        for publish in publishes:
            self.wire.append((now, publish))
            parsed = self.topics.parse(publish.topic)
            if parsed is None:
                continue
            if parsed.area == "msg" and parsed.parts[0] in self.cores:
                self.deliver(self.cores[parsed.parts[0]].on_message(publish.topic, publish.payload, now), now)
            elif parsed.area == "ctl" and parsed.parts[0] == "inject":
                self.cores[parsed.parts[1]].on_inject(INJECT_ORDER.validate_json(publish.payload))
            elif parsed.area == "ctl" and parsed.parts[0] == "links":
                state = LinksState.model_validate_json(publish.payload)
                for core in self.cores.values():
                    core.on_links(state)

    def next_time(self) -> datetime | None:
        times = [t for t in (c.next_due() for c in self.cores.values()) if t is not None]
        if self.timeline is not None and self.timeline.next_event() is not None:
            times.append(self.timeline.next_event())  # type: ignore[arg-type]
        return min(times, default=None)

    def run(self, until: datetime, max_rounds: int = 10_000) -> int:
        rounds = 0
        while (t := self.next_time()) is not None and t <= until:
            rounds += 1
            assert rounds <= max_rounds, "the network does not settle"
            if self.timeline is not None:
                self.deliver(self.timeline.due(t)[0], t)
            for name in sorted(self.cores):
                self.deliver(self.cores[name].run_until(t), t)
        return rounds

    def observations(self, agency: str | None = None) -> list[Observation]:
        out: list[Observation] = []
        for _, publish in self.wire:
            parsed = self.topics.parse(publish.topic)
            if parsed is not None and parsed.area == "obs" and (agency is None or parsed.parts[0] == agency):
                out.append(OBSERVATION.validate_json(publish.payload))
        return out

    def messages(self) -> list[Envelope]:
        return [decode_envelope(p.payload) for _, p in self.wire if "/msg/" in p.topic]


# -- three states ---------------------------------------------------------------------------


def three_state_data(**overrides: Any) -> dict[str, Any]:
    """Germany, Poland and Estonia (de, pl, ee), each with a CERT and an NRRC; every pair linked."""
    states = ("de", "pl", "ee")
    data: dict[str, Any] = {
        "id": "three",
        "title": "Three states",
        "protocol": "bilateral-2013",
        "seed": 5,
        "start": "2026-01-01T00:00:00Z",
        "duration": "72h",
        "states": [{"id": s, "name": s.upper()} for s in states],
        "agencies": [
            {"id": f"{s}-{role}", "state": s, "role": role, "name": f"{s} {role}"}
            for s in states
            for role in ("cert", "nrrc")
        ],
        "links": [
            {"channel": channel, "between": [f"{a}-{channel}", f"{b}-{channel}"], "latency": "5m"}
            for channel in ("cert", "nrrc")
            for a, b in (("de", "pl"), ("de", "ee"), ("pl", "ee"))
        ],
        "policies": {"default": {"reliability": 1.0}},
    }
    data.update(overrides)
    return data
