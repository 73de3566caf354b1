"""The scenario format: who takes part, how they are linked, how each behaves when automated,
what happens when (injects), and what a facilitator should see (``expect:``).

Loading is strict and every problem is reported as ``file:line:column: field.path: message``.
"""

from __future__ import annotations

import difflib
import enum
import hashlib
from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, model_validator

from sim.agreement import LEVEL_COUNT, Agreement, find_agreement, load_agreement
from sim.compose import scripted_body
from sim.durations import Duration, Offset, format_duration
from sim.errors import InputFileError, NotFound, SourceError
from sim.messages import (
    CheckDepth,
    Ident,
    IncidentId,
    Kind,
    Severity,
    ShortText,
    Tlp,
    UtcDatetime,
)
from sim.paths import shipped_dir
from sim.yamlsrc import Loc, SourceMap, format_loc, load_model

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _depth_in(value: Any) -> Any:
    if isinstance(value, str) and value.upper() in CheckDepth.__members__:
        return CheckDepth[value.upper()]
    return value


#: A check depth written by name (RECEIVED, ACKNOWLEDGED, AUTHORITY) or number (1-3).
Depth = Annotated[CheckDepth, BeforeValidator(_depth_in)]


def _ordered(span: tuple[timedelta, timedelta]) -> tuple[timedelta, timedelta]:
    low, high = span
    if low < timedelta(0) or low > high:
        raise ValueError("write [shortest, longest] with shortest <= longest")
    return span


#: A delay drawn from a range, written ``[5m, 40m]``.
DelayRange = Annotated[tuple[Duration, Duration], AfterValidator(_ordered)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class State(_Spec):
    id: Ident
    name: str


class Agency(_Spec):
    id: Ident
    state: Ident
    #: cert, nrrc, leader, … — matched against the agreement's channel roles.
    role: Ident
    name: str


class Link(_Spec):
    channel: Ident
    between: tuple[Ident, Ident]
    latency: Duration

    @model_validator(mode="after")
    def _sane(self) -> Link:
        if self.latency <= timedelta(0):
            raise ValueError("latency must be positive (nothing arrives at the instant it is sent)")
        if self.between[0] == self.between[1]:
            raise ValueError("a link joins two different agencies")
        return self


class Disposition(enum.StrEnum):
    COOPERATIVE = "cooperative"
    GUARDED = "guarded"
    DENYING = "denying"


class Policy(_Spec):
    """How an automated agency behaves. Delays are ranges; each draw uses the agency's RNG."""

    #: From detecting an incident to notifying the counterpart (or the domestic chain).
    notify_delay: DelayRange = (timedelta(minutes=10), timedelta(hours=1))
    ack_delay: DelayRange = (timedelta(minutes=5), timedelta(minutes=40))
    answer_delay: DelayRange = (timedelta(hours=2), timedelta(hours=20))
    update_delay: DelayRange = (timedelta(hours=12), timedelta(hours=48))
    #: Probability of honouring each obligation within its deadline.
    reliability: Probability = 0.9
    #: Of the answers not given in time, the share given late rather than never.
    late_answers: Probability = 0.5
    disposition: Disposition = Disposition.COOPERATIVE
    #: Severity at or above which the agency takes a matter up its domestic chain.
    escalation_threshold: Annotated[int, Field(ge=0, le=6)] = 3
    #: How far a communication check addressed to this agency gets.
    check_depth: Depth = CheckDepth.AUTHORITY
    #: Probability of pre-notifying a planned operation when the agreement does not oblige it
    #: (a courtesy notice); where it is obligatory the agency notifies with ``reliability``.
    courtesy_notice: Probability = 0.2


class PolicyPatch(_Spec):
    """Some policy fields; the rest come from ``default`` (or the built-in defaults)."""

    notify_delay: DelayRange | None = None
    ack_delay: DelayRange | None = None
    answer_delay: DelayRange | None = None
    update_delay: DelayRange | None = None
    reliability: Probability | None = None
    late_answers: Probability | None = None
    disposition: Disposition | None = None
    escalation_threshold: Annotated[int, Field(ge=0, le=6)] | None = None
    check_depth: Depth | None = None
    courtesy_notice: Probability | None = None

    def apply(self, base: Policy) -> Policy:
        return Policy.model_validate(base.model_dump() | self.model_dump(exclude_none=True))


class Operation(_Spec):
    """An operation the detecting agency will run in response (a takedown, a sinkholing) that
    another state will see. Where the agreement makes pre-notification obligatory (its
    PRE_NOTIFY rule has ``min_lead``) the agency notifies that state with probability
    ``reliability``, otherwise with ``courtesy_notice`` (INCSEA 1972 Art. VI)."""

    activity: ShortText
    #: The state in which the operation will be visible, whose counterpart gets the notice.
    state: Ident
    #: When the operation starts, counted from the detection, and how long it lasts.
    after: Duration
    lasts: Duration
    scope: ShortText = ""

    @model_validator(mode="after")
    def _window(self) -> Operation:
        if self.after <= timedelta(0) or self.lasts <= timedelta(0):
            raise ValueError("'after' and 'lasts' must be positive")
        return self


class Detect(_Spec):
    """An agency detects an incident: the start of most storylines."""

    agency: Ident
    incident: IncidentId
    severity: Severity
    summary: ShortText
    indicators: tuple[ShortText, ...] = ()
    #: The state the traces point to (not necessarily the culprit).
    suspected_origin: Ident | None = None
    suspected_malicious: bool = True
    #: An operation the agency will run in response, announced (or not) to another state.
    response: Operation | None = None


class FaultKind(enum.StrEnum):
    DOWN = "down"
    UP = "up"
    LATENCY = "latency"
    LOSS = "loss"
    DUPLICATE = "duplicate"


class LinkFault(_Spec):
    channel: Ident
    #: The two ends; absent means every link of the channel.
    between: tuple[Ident, Ident] | None = None
    fault: FaultKind
    latency: Duration | None = None
    rate: Probability | None = None
    #: Restore the previous condition after this long; absent means until changed again.
    for_: Duration | None = Field(default=None, alias="for")

    @model_validator(mode="after")
    def _value(self) -> LinkFault:
        if self.fault is FaultKind.LATENCY and self.latency is None:
            raise ValueError("fault: latency needs 'latency'")
        if self.fault is FaultKind.LATENCY and self.latency is not None and self.latency <= timedelta(0):
            raise ValueError("latency must be positive")
        if self.fault in (FaultKind.LOSS, FaultKind.DUPLICATE) and self.rate is None:
            raise ValueError(f"fault: {self.fault.value} needs 'rate' (0 to 1)")
        if self.fault is FaultKind.UP and self.for_ is not None:
            raise ValueError("fault: up restores the link; it takes no 'for'")
        return self


class ScriptedMessage(_Spec):
    """A message the scenario makes an agency send, whatever its policy would do."""

    from_: Ident = Field(alias="from")
    to: Ident
    kind: Kind
    incident: IncidentId | None = None
    #: Channel to use; absent means the lowest-tier link between the two that allows the kind.
    channel: Ident | None = None
    severity: Severity | None = None
    tlp: Tlp | None = None
    #: Answer the most recent message of this kind received from ``to`` (sets ``ref``).
    in_reply_to: Kind | None = None
    body: dict[str, Any] = Field(default_factory=dict)


class PolicyChange(_Spec):
    agency: Ident
    set: PolicyPatch


class Inject(_Spec):
    at: Offset
    id: str | None = None
    note: str = ""
    #: What players should do in response (the MSEL's "expected action"); derived if absent.
    expected: str = ""
    #: The objective this inject exercises (an ``objectives[].id``).
    objective: str | None = None
    detect: Detect | None = None
    link: LinkFault | None = None
    message: ScriptedMessage | None = None
    policy: PolicyChange | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Inject:
        given = [k for k in ("detect", "link", "message", "policy") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError(
                "an inject has exactly one of: detect, link, message, policy"
                + (f" (got {', '.join(given)})" if given else "")
            )
        if self.at < timedelta(0):
            raise ValueError("inject times are after the start (+HH:MM)")
        return self

    @property
    def kind(self) -> str:
        for name in ("detect", "link", "message", "policy"):
            if getattr(self, name) is not None:
                return name
        raise AssertionError("validated inject without a kind")


class MaxLevel(_Spec):
    incident: IncidentId
    at_most: Annotated[int, Field(ge=0, lt=LEVEL_COUNT)] | None = None
    at_least: Annotated[int, Field(ge=0, lt=LEVEL_COUNT)] | None = None

    @model_validator(mode="after")
    def _bound(self) -> MaxLevel:
        if self.at_most is None and self.at_least is None:
            raise ValueError("give at_most and/or at_least")
        return self


class ObligationsMet(_Spec):
    """Every obligation created by ``kind`` (optionally: owed by ``owner``, on ``incident``)
    was met within ``within`` of being opened, and there were at least ``at_least``."""

    kind: Kind
    #: ``answer``: what the recipient owes; ``follow_up``: what the sender owes afterwards.
    rule: Literal["answer", "follow_up"] = "answer"
    owner: Ident | None = None
    incident: IncidentId | None = None
    within: Duration
    at_least: Annotated[int, Field(ge=0)] = 1


class NoMessageLost(_Spec):
    channel: Ident | None = None


class Bounds(_Spec):
    at_least: Annotated[int, Field(ge=0)] | None = None
    at_most: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _bound(self) -> Bounds:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least and/or at_most")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("at_least is more than at_most")
        return self


class FinalLevel(_Spec):
    """The level an incident is at when the exercise ends (has it been walked back?)."""

    incident: IncidentId
    at_most: Annotated[int, Field(ge=0, lt=LEVEL_COUNT)]


class ObligationCount(Bounds):
    """How many obligations created by ``kind`` ended with ``status`` (for ``met``: within
    ``within`` of being opened, if given): a share of non-responders is realistic."""

    kind: Kind
    rule: Literal["answer", "follow_up"] = "answer"
    status: Literal["met", "missed", "open"] = "met"
    owner: Ident | None = None
    incident: IncidentId | None = None
    within: Duration | None = None


class MessageCount(Bounds):
    """How many protocol messages matching every given field were sent (first copies)."""

    kind: Kind | None = None
    sender: Ident | None = None
    recipient: Ident | None = None
    channel: Ident | None = None
    incident: IncidentId | None = None


class CheckDepthCount(Bounds):
    """How many agencies answered a communication check at ``depth`` or deeper."""

    depth: Depth


class Notified(_Spec):
    """The incident reached another state (a notice across a border) within ``within`` of its
    detection."""

    incident: IncidentId
    within: Duration


EXPECTATION_KINDS = (
    "max_level",
    "final_level",
    "obligations_met",
    "obligation_count",
    "messages",
    "check_depth",
    "notified",
    "no_message_lost",
)


class Expectation(_Spec):
    note: str = ""
    #: The objective this expectation gives evidence for (an ``objectives[].id``).
    objective: str | None = None
    max_level: MaxLevel | None = None
    final_level: FinalLevel | None = None
    obligations_met: ObligationsMet | None = None
    obligation_count: ObligationCount | None = None
    messages: MessageCount | None = None
    check_depth: CheckDepthCount | None = None
    notified: Notified | None = None
    no_message_lost: NoMessageLost | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Expectation:
        given = [k for k in EXPECTATION_KINDS if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("an expectation has exactly one of: " + ", ".join(EXPECTATION_KINDS))
        return self

    @property
    def kind(self) -> str:
        return next(k for k in EXPECTATION_KINDS if getattr(self, k) is not None)


class Objective(_Spec):
    id: str
    text: str


class Scenario(_Spec):
    id: Ident
    title: str
    summary: str = ""
    protocol: Ident
    seed: int = 0
    start: UtcDatetime
    duration: Duration
    states: tuple[State, ...] = Field(min_length=1)
    agencies: tuple[Agency, ...] = Field(min_length=1)
    links: tuple[Link, ...] = ()
    policies: dict[str, PolicyPatch] = Field(default_factory=dict)
    injects: tuple[Inject, ...] = ()
    objectives: tuple[Objective, ...] = ()
    expect: tuple[Expectation, ...] = ()

    @model_validator(mode="after")
    def _duration(self) -> Scenario:
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        return self

    def agency(self, agency_id: str) -> Agency:
        for agency in self.agencies:
            if agency.id == agency_id:
                return agency
        raise KeyError(agency_id)

    def policy_for(self, agency_id: str) -> Policy:
        base = Policy()
        if "default" in self.policies:
            base = self.policies["default"].apply(base)
        if agency_id in self.policies:
            base = self.policies[agency_id].apply(base)
        return base

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    def incidents(self) -> list[str]:
        seen: list[str] = []
        for inject in self.injects:
            incident = inject.detect.incident if inject.detect else inject.message.incident if inject.message else None
            if incident and incident not in seen:
                seen.append(incident)
        return seen


# -- cross-reference checks -----------------------------------------------------------------


Problem = tuple[Loc, str]


def _check(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    """Cross-references pydantic cannot see: ids that must exist, links the agreement allows."""
    yield from _check_parties(scenario)
    yield from _check_links(scenario, agreement)
    yield from check_injects(scenario, agreement)
    yield from _check_expect(scenario)


#: Ids of the exercise's own participants: no agency may take them.
RESERVED_IDS = frozenset({"director", "observer", "facilitator"})


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    """``unknown agency 'us-certt' (did you mean 'us-cert'?)``"""
    names = sorted(known)
    close = difflib.get_close_matches(value, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names)}"
    return f"unknown {kind} {value!r} ({hint})"


def _check_parties(scenario: Scenario) -> Iterator[Problem]:
    states = [s.id for s in scenario.states]
    agencies = [a.id for a in scenario.agencies]
    for i, state in enumerate(scenario.states):
        if states.count(state.id) > 1:
            yield ("states", i, "id"), f"state {state.id!r} is listed twice"
    for i, agency in enumerate(scenario.agencies):
        if agencies.count(agency.id) > 1:
            yield ("agencies", i, "id"), f"agency {agency.id!r} is listed twice"
        if agency.id in RESERVED_IDS:
            yield (
                ("agencies", i, "id"),
                (f"{agency.id!r} is reserved for the exercise's own {agency.id} (broker account, client id)"),
            )
        if agency.state not in states:
            yield ("agencies", i, "state"), _unknown("state", agency.state, states)
    for key in scenario.policies:
        if key != "default" and key not in agencies:
            yield ("policies", key), _unknown("agency", key, [*agencies, "default"])


def _check_links(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    agencies = {a.id: a for a in scenario.agencies}
    for i, link in enumerate(scenario.links):
        for j, end in enumerate(link.between):
            if end not in agencies:
                yield ("links", i, "between", j), _unknown("agency", end, agencies)
        if agreement is None:
            continue
        channel = agreement.channel(link.channel)
        if channel is None:
            known = ", ".join(c.id for c in agreement.channels)
            yield (
                ("links", i, "channel"),
                f"protocol {agreement.id!r} has no channel {link.channel!r} (it has: {known})",
            )
            continue
        ends = [agencies[e] for e in link.between if e in agencies]
        if len(ends) != 2:
            continue
        same_state = ends[0].state == ends[1].state
        if channel.scope == "domestic" and not same_state:
            yield ("links", i, "between"), f"{channel.id} is domestic: both ends must be in one state"
        if channel.scope == "bilateral" and same_state:
            yield ("links", i, "between"), f"{channel.id} joins two states: the ends are both in {ends[0].state}"
        if channel.roles and sorted(channel.roles) != sorted(a.role for a in ends):
            roles = " and ".join(channel.roles)
            yield ("links", i, "between"), f"{channel.id} joins roles {roles}, not {' and '.join(a.role for a in ends)}"


def check_injects(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    states = {s.id for s in scenario.states}
    agencies = {a.id for a in scenario.agencies}
    for i, inject in enumerate(scenario.injects):
        where: Loc = ("injects", i)
        if inject.at > scenario.duration:
            yield (*where, "at"), f"after the end of the scenario (duration {format_duration(scenario.duration)})"
        if inject.detect:
            if inject.detect.agency not in agencies:
                yield (*where, "detect", "agency"), _unknown("agency", inject.detect.agency, agencies)
            origin = inject.detect.suspected_origin
            if origin is not None and origin not in states:
                yield (*where, "detect", "suspected_origin"), _unknown("state", origin, states)
            response = inject.detect.response
            if response is not None and response.state not in states:
                yield (*where, "detect", "response", "state"), _unknown("state", response.state, states)
        if inject.policy and inject.policy.agency not in agencies:
            yield (*where, "policy", "agency"), _unknown("agency", inject.policy.agency, agencies)
        if inject.link:
            if agreement is not None and agreement.channel(inject.link.channel) is None:
                yield (*where, "link", "channel"), f"protocol {agreement.id!r} has no channel {inject.link.channel!r}"
            for j, end in enumerate(inject.link.between or ()):
                if end not in agencies:
                    yield (*where, "link", "between", j), _unknown("agency", end, agencies)
        if inject.message:
            yield from _check_message(inject.message, (*where, "message"), agencies, agreement)


def _check_message(
    msg: ScriptedMessage, where: Loc, agencies: set[str], agreement: Agreement | None
) -> Iterator[Problem]:
    for field, agency_id in (("from", msg.from_), ("to", msg.to)):
        if agency_id not in agencies:
            yield (*where, field), _unknown("agency", agency_id, agencies)
    if agreement is not None and msg.channel is not None:
        channel = agreement.channel(msg.channel)
        if channel is None:
            yield (*where, "channel"), f"protocol {agreement.id!r} has no channel {msg.channel!r}"
        elif msg.kind not in channel.kinds:
            yield (*where, "kind"), f"{msg.kind.value} may not travel on {channel.id}"
    yield from _check_body(msg, (*where, "body"))


def _check_expect(scenario: Scenario) -> Iterator[Problem]:
    incidents = set(scenario.incidents())
    agencies = {a.id for a in scenario.agencies}
    objectives = [o.id for o in scenario.objectives]
    for i, objective in enumerate(scenario.objectives):
        if objectives.count(objective.id) > 1:
            yield ("objectives", i, "id"), f"objective {objective.id!r} is listed twice"
    for i, inject in enumerate(scenario.injects):
        if inject.objective is not None and inject.objective not in objectives:
            yield ("injects", i, "objective"), f"unknown objective {inject.objective!r}"
    for i, expectation in enumerate(scenario.expect):
        where: Loc = ("expect", i)
        if expectation.objective is not None and expectation.objective not in objectives:
            yield (*where, "objective"), f"unknown objective {expectation.objective!r}"
        kind = expectation.kind
        spec = getattr(expectation, kind)
        incident = getattr(spec, "incident", None)
        if kind in ("max_level", "final_level", "notified") and incident not in incidents:
            yield (*where, kind, "incident"), f"no inject creates incident {incident!r}"
        for field in ("owner", "sender", "recipient"):
            agency = getattr(spec, field, None)
            if agency is not None and agency not in agencies:
                yield (*where, kind, field), _unknown("agency", agency, agencies)


def _check_body(msg: ScriptedMessage, where: Loc) -> Iterator[tuple[Loc, str]]:
    """A scripted body is validated now, not when it is sent 40 sim-hours in."""
    try:
        scripted_body(msg)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != msg.kind.value)
            yield (*where, *loc), err["msg"].removeprefix("Value error, ")


def _fail(path: Path, smap: SourceMap, problems: list[tuple[Loc, str]]) -> InputFileError:
    errors = []
    for loc, message in problems:
        mark = smap.values.get(loc) or smap.nearest(loc)[0]
        errors.append(
            SourceError(path, mark.line if mark else None, mark.column if mark else None, format_loc(loc), message)
        )
    return InputFileError(errors)


# -- loading ----------------------------------------------------------------------------------


class LoadedScenario(BaseModel):
    """A validated scenario with the agreement it runs under and the hash of its source."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    path: Path
    scenario: Scenario
    agreement: Agreement
    sha256: str


def load_scenario(path: Path, protocol: str | None = None) -> LoadedScenario:
    """Load, validate and cross-check a scenario; ``protocol`` overrides the one it names."""
    raw = _read(path)
    scenario, smap = load_model(Scenario, path, raw)
    name = protocol or scenario.protocol
    try:
        agreement_path = find_agreement(name)
    except NotFound as exc:
        if protocol is not None:
            raise
        raise _fail(path, smap, [(("protocol",), str(exc))]) from exc
    agreement = load_agreement(agreement_path)
    # Links of channels the overriding agreement lacks are dropped, not errors: running a
    # scenario under another agreement is the point of --protocol.
    problems = [
        (loc, message)
        for loc, message in _check(scenario, agreement)
        if protocol is None or "has no channel" not in message
    ]
    if problems:
        raise _fail(path, smap, problems)
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return LoadedScenario(path=path, scenario=scenario, agreement=agreement, sha256=digest)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputFileError([SourceError(path, None, None, "", exc.strerror or str(exc))]) from exc


def shipped_scenarios() -> list[Path]:
    return sorted(shipped_dir().glob("*.yaml"))


def find_scenario(name: str) -> Path:
    """A scenario by path, or by the id of a shipped scenario."""
    candidate = Path(name)
    if candidate.exists() and candidate.is_file():
        return candidate
    for path in shipped_scenarios():
        if path.stem == name:
            return path
    for path in shipped_scenarios():
        try:
            data, _ = load_model(_IdOnly, path)
        except InputFileError:
            continue
        if data.id == name:
            return path
    raise NotFound("scenario", name, [p.stem for p in shipped_scenarios()])


class _IdOnly(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


__all__ = [
    "Agency",
    "Disposition",
    "Expectation",
    "FaultKind",
    "Inject",
    "Link",
    "LinkFault",
    "LoadedScenario",
    "Operation",
    "Policy",
    "Scenario",
    "State",
    "find_scenario",
    "load_scenario",
    "shipped_scenarios",
]
