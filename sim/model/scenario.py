"""The scenario format: who takes part, how they are linked, how each behaves when automated,
what happens when (injects), and what a facilitator should see (``expect:``).

Loading is strict and every problem is reported as ``file:line:column: field.path: message``.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from sim.model.agreement import LEVEL_COUNT
from sim.model.durations import Duration, Offset
from sim.model.messages import CheckDepth, Ident, IncidentId, Kind, Severity, ShortText, Tlp, UtcDatetime

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
