"""The protocol envelope and every message body, as frozen pydantic models.

Everything that crosses the broker between agencies is an :class:`Envelope`. Bodies form a
discriminated union on ``kind``; decoding is strict (unknown fields, unknown kinds, wrong
types are errors) and happens once, where bytes come in (:func:`decode_envelope`).

MQTT 3.1.1 has no properties, so everything the protocol needs (reply-to via ``ref``,
ordering via ``seq``, simulated arrival via ``arrives_at``) lives in the JSON payload.
"""

from __future__ import annotations

import enum
import re
from datetime import UTC, datetime
from typing import Annotated, Final, Literal

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    model_validator,
)

from sim.model.admission import MAX_INT, Inadmissible, admit
from sim.model.errors import MalformedMessage

PROTOCOL_VERSION: Final = 1

#: Agency, state and incident identifiers: lower-case slugs safe inside MQTT topic levels.
IDENT_PATTERN: Final = r"^[a-z0-9][a-z0-9_-]{0,62}$"
Ident = Annotated[str, Field(pattern=IDENT_PATTERN)]
IncidentId = Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$")]
Severity = Annotated[int, Field(ge=0, le=5)]
ShortText = Annotated[str, Field(max_length=2000)]
#: A list of short texts in a message body (indicators, questions, answers …).
Texts = Annotated[tuple[ShortText, ...], Field(max_length=32)]
#: A message id as another message refers to it.
MessageId = Annotated[str, Field(min_length=1, max_length=128)]


def _utc(value: datetime) -> datetime:
    return value.astimezone(UTC)


#: Timestamps are timezone-aware and normalised to UTC, so encoding is canonical.
UtcDatetime = Annotated[AwareDatetime, AfterValidator(_utc)]


class Kind(enum.StrEnum):
    COMM_CHECK = "COMM_CHECK"
    COMM_CHECK_REPLY = "COMM_CHECK_REPLY"
    ACK = "ACK"
    PRE_NOTIFY = "PRE_NOTIFY"
    EARLY_WARNING = "EARLY_WARNING"
    INCIDENT_UPDATE = "INCIDENT_UPDATE"
    REQUEST_INFO = "REQUEST_INFO"
    PROVIDE_INFO = "PROVIDE_INFO"
    REQUEST_ASSIST = "REQUEST_ASSIST"
    ASSIST_REPLY = "ASSIST_REPLY"
    CONSULT_REQUEST = "CONSULT_REQUEST"
    CONSULT_REPLY = "CONSULT_REPLY"
    WARNING = "WARNING"
    STAND_DOWN = "STAND_DOWN"
    GOODWILL = "GOODWILL"
    REFERRAL = "REFERRAL"
    PROTOCOL_ERROR = "PROTOCOL_ERROR"


class Tlp(enum.StrEnum):
    """Traffic Light Protocol 2.0 labels (FIRST)."""

    CLEAR = "CLEAR"
    GREEN = "GREEN"
    AMBER = "AMBER"
    AMBER_STRICT = "AMBER+STRICT"
    RED = "RED"


class Pap(enum.StrEnum):
    """Permissible Actions Protocol (FIRST/MISP): what the recipient may do with the data."""

    WHITE = "WHITE"
    GREEN = "GREEN"
    AMBER = "AMBER"
    RED = "RED"


class Position(enum.StrEnum):
    """Positions a state takes when answering an inquiry (walk-back options, RAND 2012)."""

    INVESTIGATING = "INVESTIGATING"
    NOT_STATE_ACTOR = "NOT_STATE_ACTOR"
    UNAUTHORISED = "UNAUTHORISED"
    ACCIDENT = "ACCIDENT"
    ROUTINE = "ROUTINE"
    DENY = "DENY"


#: Positions that let the inquiring side walk the ladder back.
WALK_BACK_POSITIONS = frozenset({Position.NOT_STATE_ACTOR, Position.UNAUTHORISED, Position.ACCIDENT, Position.ROUTINE})


class CheckDepth(enum.IntEnum):
    """How far a communication check got (UN POC directory ping tests)."""

    RECEIVED = 1  # the point of contact's inbox answered
    ACKNOWLEDGED = 2  # a duty officer acknowledged it
    AUTHORITY = 3  # the responsible authority answered in substance


class RejectReason(enum.StrEnum):
    MALFORMED = "MALFORMED"
    UNKNOWN_KIND = "UNKNOWN_KIND"
    WRONG_EXERCISE = "WRONG_EXERCISE"
    SENDER_MISMATCH = "SENDER_MISMATCH"
    WRONG_RECIPIENT = "WRONG_RECIPIENT"
    UNKNOWN_SENDER = "UNKNOWN_SENDER"
    UNKNOWN_CHANNEL = "UNKNOWN_CHANNEL"
    NO_LINK = "NO_LINK"
    KIND_NOT_ALLOWED = "KIND_NOT_ALLOWED"
    UNKNOWN_REF = "UNKNOWN_REF"
    MISSING_REF = "MISSING_REF"
    MISSING_INCIDENT = "MISSING_INCIDENT"
    # What the admission step refuses (sim.model.admission.Refusal), and message identity:
    TOO_LARGE = "TOO_LARGE"
    TOO_DEEP = "TOO_DEEP"
    BAD_TIME = "BAD_TIME"
    #: The id is not in its sender's namespace (``<sender>-…``): it could pre-empt another's.
    FOREIGN_ID = "FOREIGN_ID"


class ReferralReason(enum.StrEnum):
    SEVERITY = "SEVERITY"  # severity at or above the agency's escalation threshold
    NO_ANSWER = "NO_ANSWER"  # an obligation of the counterpart was missed after retries
    LINK_DOWN = "LINK_DOWN"  # the channel refused the message; relay it on the fallback
    NO_ROUTE = "NO_ROUTE"  # no link of ours reaches the recipient under this agreement; relay it
    INFORM = "INFORM"  # keep the domestic chain informed
    DENIAL = "DENIAL"  # the counterpart denied; take it higher


class _Body(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class CommCheck(_Body):
    kind: Literal[Kind.COMM_CHECK] = Kind.COMM_CHECK
    check: ShortText = "routine communication check"


class CommCheckReply(_Body):
    kind: Literal[Kind.COMM_CHECK_REPLY] = Kind.COMM_CHECK_REPLY
    depth: CheckDepth


class Ack(_Body):
    kind: Literal[Kind.ACK] = Kind.ACK
    received_at: UtcDatetime


class PreNotify(_Body):
    kind: Literal[Kind.PRE_NOTIFY] = Kind.PRE_NOTIFY
    activity: ShortText
    window_start: UtcDatetime
    window_end: UtcDatetime
    scope: ShortText

    @model_validator(mode="after")
    def _window(self) -> PreNotify:
        if self.window_end <= self.window_start:
            raise ValueError("window_end must be after window_start")
        return self


class EarlyWarning(_Body):
    kind: Literal[Kind.EARLY_WARNING] = Kind.EARLY_WARNING
    summary: ShortText
    aware_at: UtcDatetime
    suspected_malicious: bool
    cross_border: bool
    suspected_origin: Ident | None = None
    indicators: Texts = ()


class IncidentUpdate(_Body):
    kind: Literal[Kind.INCIDENT_UPDATE] = Kind.INCIDENT_UPDATE
    severity: Severity
    impact: ShortText
    indicators: Texts = ()
    #: The final report after a stand-down (NIS2 Art. 23(4)(d)); it never raises the ladder.
    final: bool = False


class RequestInfo(_Body):
    kind: Literal[Kind.REQUEST_INFO] = Kind.REQUEST_INFO
    questions: Annotated[tuple[ShortText, ...], Field(min_length=1, max_length=32)]
    evidence: Texts = ()
    urgent: bool = False


class ProvideInfo(_Body):
    kind: Literal[Kind.PROVIDE_INFO] = Kind.PROVIDE_INFO
    position: Position
    answers: Texts = ()


class RequestAssist(_Body):
    kind: Literal[Kind.REQUEST_ASSIST] = Kind.REQUEST_ASSIST
    action: ShortText
    pap: Pap = Pap.AMBER


class AssistReply(_Body):
    kind: Literal[Kind.ASSIST_REPLY] = Kind.ASSIST_REPLY
    accepted: bool
    actions: Texts = ()
    reason: ShortText = ""


class ConsultRequest(_Body):
    kind: Literal[Kind.CONSULT_REQUEST] = Kind.CONSULT_REQUEST
    agenda: Annotated[tuple[ShortText, ...], Field(min_length=1, max_length=32)]


class ConsultReply(_Body):
    kind: Literal[Kind.CONSULT_REPLY] = Kind.CONSULT_REPLY
    accepted: bool
    meeting_at: UtcDatetime | None = None
    reason: ShortText = ""


class Warning(_Body):
    kind: Literal[Kind.WARNING] = Kind.WARNING
    demand: ShortText
    basis: ShortText


class StandDown(_Body):
    kind: Literal[Kind.STAND_DOWN] = Kind.STAND_DOWN
    root_cause: ShortText
    closure: ShortText


class Goodwill(_Body):
    kind: Literal[Kind.GOODWILL] = Kind.GOODWILL
    text: ShortText


class Referral(_Body):
    """Domestic hand-off up (or down) the national chain: CERT → NRRC → leader.

    Not in the 2013 measures themselves; it models the internal step every national
    procedure has, and it is what carries a message over a fallback channel.
    """

    kind: Literal[Kind.REFERRAL] = Kind.REFERRAL
    reason: ReferralReason
    counterpart_state: Ident | None = None
    original: MessageId | None = None  # id of the message that could not be delivered / answered
    relay_kind: Kind | None = None  # kind of the original, for a relay on the fallback channel
    #: The original body, so that the relay says what the original said.
    relay_body: Body | None = None
    summary: ShortText = ""


class ProtocolErrorBody(_Body):
    kind: Literal[Kind.PROTOCOL_ERROR] = Kind.PROTOCOL_ERROR
    offending_id: MessageId | None = None
    reason: RejectReason
    detail: ShortText = ""


Body = Annotated[
    CommCheck
    | CommCheckReply
    | Ack
    | PreNotify
    | EarlyWarning
    | IncidentUpdate
    | RequestInfo
    | ProvideInfo
    | RequestAssist
    | AssistReply
    | ConsultRequest
    | ConsultReply
    | Warning
    | StandDown
    | Goodwill
    | Referral
    | ProtocolErrorBody,
    Field(discriminator="kind"),
]


Referral.model_rebuild()


class Envelope(BaseModel):
    """One protocol message, as it travels on ``msg/<recipient>/<sender>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    v: Literal[1] = PROTOCOL_VERSION
    id: MessageId
    exercise: Ident
    sender: Ident
    recipient: Ident
    channel: Ident
    incident: IncidentId | None = None
    ref: MessageId | None = None
    seq: Annotated[int, Field(ge=1, le=MAX_INT)]
    sent_at: UtcDatetime
    #: Simulated arrival time on the channel (sent_at + link latency), set by the sender's
    #: link layer. The recipient handles the message at this sim time; absent means "now".
    arrives_at: UtcDatetime | None = None
    severity: Severity = 0
    tlp: Tlp = Tlp.AMBER
    marking: Literal["EXERCISE"] = "EXERCISE"
    body: Body

    @property
    def kind(self) -> Kind:
        return self.body.kind

    @model_validator(mode="after")
    def _arrival_after_sending(self) -> Envelope:
        if self.arrives_at is not None and self.arrives_at < self.sent_at:
            raise ValueError("arrives_at is before sent_at")
        return self


_ENVELOPE = TypeAdapter(Envelope)


def encode(envelope: Envelope) -> bytes:
    """Canonical JSON: same envelope, same bytes (the fast-mode journal relies on it)."""
    return envelope.model_dump_json(exclude_none=True).encode()


def decode_envelope(payload: bytes | str) -> Envelope:
    """Admit untrusted bytes as an Envelope (:func:`sim.model.admission.admit`), or raise
    :class:`MalformedMessage` with the reason."""
    data = payload.encode() if isinstance(payload, str) else payload
    try:
        return admit(_ENVELOPE, data)
    except Inadmissible as exc:
        # (a number that is not finite is MALFORMED to the protocol; the journal's junk record says which)
        reason = RejectReason.__members__.get(exc.reason.value, RejectReason.MALFORMED)
        raise MalformedMessage(reason=reason, detail=exc.detail) from exc


def body_times(env: Envelope) -> list[datetime]:
    """Every time a message's body states (checked against the exercise by the receiver)."""
    return [
        value
        for value in (getattr(env.body, name) for name in type(env.body).model_fields)
        if isinstance(value, datetime)
    ]


def is_ident(text: str) -> bool:
    return re.fullmatch(IDENT_PATTERN, text) is not None


def id_in_senders_namespace(env: Envelope) -> bool:
    """Message ids are ``<sender>-<n>``: one agency can never use an id that is another's."""
    return env.id.startswith(f"{env.sender}-")
