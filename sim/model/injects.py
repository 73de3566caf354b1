"""Injects: what happens when. An inject fires at ``at`` (``+HH:MM`` after the start) and does
exactly one thing — an agency detects an incident, a link changes, an agency sends a scripted
message, an agency's instructions change.

Each of those is a member of the :data:`Inject` union (discriminated by the key the author
wrote), and its *action* (:class:`Detect`, :class:`LinkFault`, :class:`ScriptedMessage`,
:class:`PolicyChange`) knows what it means: whom it is for, which incident it concerns, how to
say it. Readers (console, report, MSEL, dashboard, director, node) ask the action rather than
test which field is set. The YAML shape authors write (``{at: "+01:30", detect: {…}}``) and the
JSON on the wire are unchanged.
"""

from __future__ import annotations

import enum
from collections.abc import Iterator
from datetime import timedelta
from typing import Annotated, Any, ClassVar, cast

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    ValidationError,
    model_validator,
)

from sim.model.admission import JsonValue
from sim.model.compose import body_from
from sim.model.durations import Duration, Offset, format_duration
from sim.model.messages import Ident, IncidentId, Kind, Severity, ShortText, Tlp
from sim.model.policy import PolicyPatch, Probability
from sim.model.refs import Known, Problem, unknown


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _empty(value: object) -> bool:
    """Left out of the JSON when empty, so that journals of scenarios without it stay as they were."""
    return not value


# -- the actions ---------------------------------------------------------------------------------


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
    #: Other states the incident affects (a port whose outage spreads across borders): automated
    #: agencies warn each of them as well as the suspected origin (policy ``warn_affected``).
    affected: tuple[Ident, ...] = Field(default=(), exclude_if=_empty)
    suspected_malicious: bool = True
    #: An operation the agency will run in response, announced (or not) to another state.
    response: Operation | None = None

    @property
    def target(self) -> str:
        """The agency the inject is handed to."""
        return self.agency

    @property
    def subject(self) -> str | None:
        """The incident the action concerns."""
        return self.incident

    def describe(self) -> str:
        return f"detects {self.incident} (severity {self.severity}): {self.summary}"

    def label(self) -> str:
        """One short line, for pick lists."""
        return f"detect {self.agency} {self.incident} sev {self.severity}"

    def problems(self, known: Known) -> Iterator[Problem]:
        """References to states and agencies that do not exist (locations relative to here)."""
        if self.agency not in known.agencies:
            yield ("agency",), unknown("agency", self.agency, known.agencies)
        if self.suspected_origin is not None and self.suspected_origin not in known.states:
            yield ("suspected_origin",), unknown("state", self.suspected_origin, known.states)
        for i, state in enumerate(self.affected):
            if state not in known.states:
                yield ("affected", i), unknown("state", state, known.states)
        if self.response is not None and self.response.state not in known.states:
            yield ("response", "state"), unknown("state", self.response.state, known.states)


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

    @property
    def target(self) -> None:
        """A link fault is the director's to apply, no agency's."""
        return None

    @property
    def subject(self) -> None:
        return None

    @property
    def ends(self) -> str:
        return " ~ ".join(self.between) if self.between else f"every {self.channel} link"

    def describe(self) -> str:
        extra = f" {format_duration(self.latency)}" if self.latency else f" {self.rate:.0%}" if self.rate else ""
        until = f" for {format_duration(self.for_)}" if self.for_ else ""
        return f"{self.channel} link {self.fault.value}{extra}{until}"

    def label(self) -> str:
        ends = "~".join(self.between) if self.between else "all"
        return f"link {self.channel} {ends} {self.fault.value}"

    def problems(self, known: Known) -> Iterator[Problem]:
        agreement = known.agreement
        if agreement is not None and agreement.channel(self.channel) is None:
            yield ("channel",), f"protocol {agreement.id!r} has no channel {self.channel!r}"
        for j, end in enumerate(self.between or ()):
            if end not in known.agencies:
                yield ("between", j), unknown("agency", end, known.agencies)


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
    body: Annotated[dict[str, JsonValue], Field(max_length=64)] = Field(default_factory=dict)

    @property
    def target(self) -> str:
        return self.from_

    @property
    def subject(self) -> str | None:
        return self.incident

    def describe(self) -> str:
        return f"sends {self.kind.value} to {self.to}"

    def label(self) -> str:
        return f"message {self.from_}→{self.to} {self.kind.value}" + (f" {self.incident}" if self.incident else "")

    def problems(self, known: Known) -> Iterator[Problem]:
        for field, agency_id in (("from", self.from_), ("to", self.to)):
            if agency_id not in known.agencies:
                yield (field,), unknown("agency", agency_id, known.agencies)
        agreement = known.agreement
        if agreement is not None and self.channel is not None:
            channel = agreement.channel(self.channel)
            if channel is None:
                yield ("channel",), f"protocol {agreement.id!r} has no channel {self.channel!r}"
            elif self.kind not in channel.kinds:
                yield ("kind",), f"{self.kind.value} may not travel on {channel.id}"
        # The body is validated now, not when it is sent 40 sim-hours in.
        try:
            body_from(self.kind, self.body)
        except ValidationError as exc:
            for err in exc.errors():
                loc = tuple(p for p in err["loc"] if p != self.kind.value)
                yield ("body", *loc), err["msg"].removeprefix("Value error, ")


class PolicyChange(_Spec):
    agency: Ident
    set: PolicyPatch

    @property
    def target(self) -> str:
        return self.agency

    @property
    def subject(self) -> None:
        return None

    def describe(self) -> str:
        return f"policy now {self.set.model_dump(exclude_none=True, mode='json')}"

    def label(self) -> str:
        return f"policy {self.agency}"

    def problems(self, known: Known) -> Iterator[Problem]:
        if self.agency not in known.agencies:
            yield ("agency",), unknown("agency", self.agency, known.agencies)


#: What an inject does (one action each); what the director hands an agency is one of the
#: first three.
Action = Detect | LinkFault | ScriptedMessage | PolicyChange
AgencyAction = Detect | ScriptedMessage | PolicyChange


# -- the inject union ----------------------------------------------------------------------------

#: The actions an inject may carry, by the key authors write.
ACTIONS = ("detect", "link", "message", "policy")


class _InjectBase(_Spec):
    at: Offset
    id: str | None = None
    note: str = ""
    #: What players should do in response (the MSEL's "expected action"); derived if absent.
    expected: str = ""
    #: The objective this inject exercises (an ``objectives[].id``).
    objective: str | None = None

    #: The key of the action this member carries.
    kind: ClassVar[str]

    @model_validator(mode="after")
    def _after_start(self) -> _InjectBase:
        if self.at < timedelta(0):
            raise ValueError("inject times are after the start (+HH:MM)")
        return self


class DetectInject(_InjectBase):
    kind: ClassVar[str] = "detect"
    detect: Detect

    @property
    def action(self) -> Detect:
        return self.detect


class LinkInject(_InjectBase):
    kind: ClassVar[str] = "link"
    link: LinkFault

    @property
    def action(self) -> LinkFault:
        return self.link


class MessageInject(_InjectBase):
    kind: ClassVar[str] = "message"
    message: ScriptedMessage

    @property
    def action(self) -> ScriptedMessage:
        return self.message


class PolicyInject(_InjectBase):
    kind: ClassVar[str] = "policy"
    policy: PolicyChange

    @property
    def action(self) -> PolicyChange:
        return self.policy


def _one_action(value: Any) -> Any:
    """Say which actions an inject that has not exactly one carries (the union's tag cannot)."""
    if isinstance(value, dict):
        given = [key for key in ACTIONS if key in value]
        if len(given) != 1:
            raise ValueError(
                f"an inject has exactly one of: {', '.join(ACTIONS)}" + (f" (got {', '.join(given)})" if given else "")
            )
    return value


def _action_key(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((f"inject:{key}" for key in ACTIONS if key in value), None)
    kind = getattr(value, "kind", None)
    return f"inject:{kind}" if isinstance(kind, str) else None


#: One inject of a scenario (tags are prefixed so that error locations map onto the YAML).
Inject = Annotated[
    Annotated[DetectInject, Tag("inject:detect")]
    | Annotated[LinkInject, Tag("inject:link")]
    | Annotated[MessageInject, Tag("inject:message")]
    | Annotated[PolicyInject, Tag("inject:policy")],
    Discriminator(_action_key),
    BeforeValidator(_one_action),
]
INJECT: TypeAdapter[Inject] = TypeAdapter(Inject)


def inject_with(action: Action, at: timedelta = timedelta(0), **fields: Any) -> Inject:
    """The inject that carries ``action`` (live injects, tests)."""
    members: dict[type[Action], type[_InjectBase]] = {
        Detect: DetectInject,
        LinkFault: LinkInject,
        ScriptedMessage: MessageInject,
        PolicyChange: PolicyInject,
    }
    member = members[type(action)]
    return cast("Inject", member.model_validate({"at": at, member.kind: action, **fields}))
