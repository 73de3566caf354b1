"""What the protocol :class:`~sim.core.protocol.engine.Engine` answers: one frozen dataclass per
action (accept or reject a message, an obligation or an expectation changed, retry, escalate,
fall back, a violation of the agreement), and :data:`Action`, their union."""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.messages import Envelope, RejectReason
from sim.model.obligations import Awaiting, Obligation, Status


@dataclass(frozen=True)
class Accepted:
    envelope: Envelope
    #: The obligation this message repeats (a retry of something already received).
    repeat_of: Obligation | None = None


@dataclass(frozen=True)
class Rejected:
    reason: RejectReason
    detail: str
    envelope: Envelope | None
    #: Who gets a PROTOCOL_ERROR (None: nobody we can answer).
    reply_to: str | None


@dataclass(frozen=True)
class Duplicate:
    envelope: Envelope


@dataclass(frozen=True)
class ObligationChanged:
    obligation: Obligation
    status: Status


@dataclass(frozen=True)
class AwaitingChanged:
    expectation: Awaiting
    status: Status
    #: For MET after MISSED: the answer came, but late.
    late: bool = False


@dataclass(frozen=True)
class Retry:
    """Send the trigger again (a new message with ``ref`` = the original)."""

    expectation: Awaiting
    attempt: int


@dataclass(frozen=True)
class Escalate:
    """Retries are spent: take the matter to ``channel`` (None: the agreement has no higher)."""

    expectation: Awaiting
    channel: str | None


@dataclass(frozen=True)
class Fallback:
    """The link refused the message: carry it on ``channel`` instead (None: no fallback)."""

    envelope: Envelope
    channel: str | None


@dataclass(frozen=True)
class Violation:
    envelope: Envelope
    rule: str
    detail: str


Action = Accepted | Rejected | Duplicate | ObligationChanged | AwaitingChanged | Retry | Escalate | Fallback | Violation
