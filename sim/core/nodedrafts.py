"""The messages a node writes itself, not its automaton: a scripted message from an inject, a
retry of one of its own messages, and the PROTOCOL_ERROR that answers a message it rejected
(pure)."""

from __future__ import annotations

from datetime import datetime

from sim.core.automation.drafts import Draft
from sim.model.compose import body_from
from sim.model.injects import ScriptedMessage
from sim.model.messages import Envelope, Kind, ProtocolErrorBody, RejectReason, Tlp


def scripted(msg: ScriptedMessage, ref: str | None, severity: int, t: datetime) -> Draft:
    """The message a scenario script tells us to send, now."""
    return Draft(
        t,
        msg.to,
        msg.kind,
        body_from(msg.kind, msg.body, now=t),
        msg.incident,
        ref=ref,
        severity=severity,
        channel=msg.channel,
        reason="scripted",
        tlp=msg.tlp or Tlp.AMBER,
    )


def retry(original: Envelope, attempt: int, t: datetime) -> Draft:
    """Our ``original`` again, as a new message that names it in ``ref``."""
    return Draft(
        t,
        original.recipient,
        original.kind,
        original.body,
        original.incident,
        ref=original.id,
        severity=original.severity,
        channel=original.channel,
        reason=f"retry {attempt}",
        tlp=original.tlp,
    )


def protocol_error(
    reason: RejectReason, detail: str, env: Envelope | None, to: str, channel: str | None, t: datetime
) -> Draft:
    """Tell ``to`` why we rejected ``env`` (None: a payload we could not even read)."""
    body = ProtocolErrorBody(offending_id=env.id if env else None, reason=reason, detail=detail[:2000])
    return Draft(
        t,
        to,
        Kind.PROTOCOL_ERROR,
        body,
        env.incident if env else None,
        channel=channel,
        reason="protocol error",
    )
