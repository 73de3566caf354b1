"""What automated agencies write: the :class:`Draft` of a message, what an agency knows of an
incident, and the wording of answers and of messages that raise a matter (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from sim.model.messages import (
    Ack,
    AssistReply,
    Body,
    CommCheckReply,
    ConsultReply,
    ConsultRequest,
    EarlyWarning,
    IncidentUpdate,
    Kind,
    Position,
    ProvideInfo,
    ReferralReason,
    RequestInfo,
    Tlp,
    Warning,
)
from sim.model.policy import Disposition, Policy


@dataclass(frozen=True)
class Draft:
    at: datetime
    to: str
    kind: Kind
    body: Body
    incident: str | None = None
    ref: str | None = None
    severity: int = 0
    channel: str | None = None  # None: the lowest-tier link that allows the kind
    reason: str = ""
    #: The obligation this draft is meant to meet; dropped if that is no longer open.
    meets: str | None = None
    #: Traffic Light Protocol marking (default AMBER: for the recipient's organisation).
    tlp: Tlp = Tlp.AMBER


class IncidentView(BaseModel):
    """What one agency knows about one incident."""

    model_config = ConfigDict(extra="forbid")

    id: str
    severity: int = 0
    summary: str = ""
    indicators: tuple[str, ...] = ()
    #: The other state in this matter (where traces point, or who raised it with us).
    counterpart_state: str | None = None
    #: Further states we warned because the incident affects them (a detection's ``affected``).
    affected: list[str] = Field(default_factory=list)
    raised_by_us: bool = False
    closed: bool = False
    #: Foreign channels on which we have already raised this incident (warned, escalated,
    #: handed it over).
    escalated: list[str] = Field(default_factory=list)
    #: Refused messages we relayed, as ``channel:original`` (or the channel alone).
    relayed: list[str] = Field(default_factory=list)
    #: Reasons for which we already referred it up our domestic chain (once per reason).
    referred_up: list[ReferralReason] = Field(default_factory=list)
    #: Domestic agencies we exchanged messages with about it.
    partners: list[str] = Field(default_factory=list)
    #: Foreign channels on which we closed the matter after our chain stood down.
    closed_on: list[str] = Field(default_factory=list)


class Notice(BaseModel):
    """A pre-notification of an operation: one we received, or one of our own operations."""

    model_config = ConfigDict(extra="forbid")

    message: str | None  # the PRE_NOTIFY's id (None: our operation, never announced)
    agency: str  # who notified us / who runs the operation
    channel: str | None
    state: str  # the state the operation is visible in
    operator_state: str
    activity: str
    incident: str | None = None
    window_start: datetime
    window_end: datetime

    def covers(self, t: datetime) -> bool:
        return self.window_start - NOTICE_SLACK_BEFORE <= t <= self.window_end + NOTICE_SLACK_AFTER


#: An activity seen shortly before its announced window, or some hours after it ends (effects
#: linger: sinkholed domains keep resolving to the sinkhole), is still read as the announced one.
NOTICE_SLACK_BEFORE = timedelta(hours=1)
NOTICE_SLACK_AFTER = timedelta(hours=24)


class AutomatonState(BaseModel):
    model_config = ConfigDict(extra="forbid")

    policy: Policy
    incidents: dict[str, IncidentView] = Field(default_factory=dict)
    pending: list[str] = Field(default_factory=list)
    notices: list[Notice] = Field(default_factory=list)
    operations: list[Notice] = Field(default_factory=list)


def answer_body(kind: Kind, trigger: Kind, policy: Policy, received: datetime, at: datetime) -> Body:
    """The answer an automated agency gives, in the position its disposition dictates."""
    disposition = policy.disposition
    match kind:
        case Kind.ACK:
            return Ack(received_at=received)
        case Kind.COMM_CHECK_REPLY:
            return CommCheckReply(depth=policy.check_depth)
        case Kind.ASSIST_REPLY:
            accepted = disposition is not Disposition.DENYING
            return AssistReply(
                accepted=accepted,
                actions=("sinkhole reported infrastructure",) if accepted else (),
                reason="" if accepted else "no grounds to act",
            )
        case Kind.CONSULT_REPLY:
            accepted = disposition is not Disposition.DENYING
            return ConsultReply(
                accepted=accepted,
                meeting_at=at + timedelta(hours=24) if accepted else None,
                reason="" if accepted else "consultations are not warranted",
            )
        case _:
            return ProvideInfo(position=position(disposition, trigger), answers=answers_text(disposition))


def position(disposition: Disposition, trigger: Kind) -> Position:
    match disposition:
        case Disposition.COOPERATIVE:
            return Position.NOT_STATE_ACTOR
        case Disposition.GUARDED:
            return Position.INVESTIGATING if trigger is not Kind.WARNING else Position.ROUTINE
        case Disposition.DENYING:
            return Position.DENY


def answers_text(disposition: Disposition) -> tuple[str, ...]:
    match disposition:
        case Disposition.COOPERATIVE:
            return ("The infrastructure is privately operated; our CERT is taking it down.",)
        case Disposition.GUARDED:
            return ("The request has been passed to the competent authorities.",)
        case Disposition.DENYING:
            return ("The allegations are unfounded.",)


def compose(view: IncidentView, kind: Kind, to: str, channel: str, at: datetime, now: datetime, reason: str) -> Draft:
    """A message that raises a matter (warning, update, inquiry, consultation) in plain words."""
    body: Body
    match kind:
        case Kind.EARLY_WARNING:
            body = EarlyWarning(
                summary=view.summary or view.id,
                aware_at=now,
                suspected_malicious=True,
                cross_border=True,
                suspected_origin=view.counterpart_state,
                indicators=view.indicators,
            )
        case Kind.INCIDENT_UPDATE:
            body = IncidentUpdate(severity=view.severity, impact=view.summary or view.id, indicators=view.indicators)
        case Kind.REQUEST_INFO:
            body = RequestInfo(
                questions=(
                    f"What does your side know of the activity behind {view.id}?",
                    "Which measures have you taken against the infrastructure involved?",
                ),
                evidence=view.indicators,
                urgent=view.severity >= 4,
            )
        case Kind.CONSULT_REQUEST:
            body = ConsultRequest(agenda=(f"Incident {view.id}: {view.summary}", "Measures to prevent escalation"))
        case Kind.WARNING:
            body = Warning(
                demand=f"Stop the activity behind {view.id} and its infrastructure now.",
                basis=view.summary or view.id,
            )
        case _:
            body = IncidentUpdate(severity=view.severity, impact=view.summary or view.id)
            kind = Kind.INCIDENT_UPDATE
    return Draft(at, to, kind, body, view.id, severity=view.severity, channel=channel, reason=reason)
