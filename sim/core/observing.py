"""What a node reports of its protocol engine's actions: the observation each one is published
as. Acceptances, rejections and retries are acted on by the node itself (pure)."""

from __future__ import annotations

from datetime import datetime

from sim.core.automation.drafts import Draft
from sim.core.protocol import Action, AwaitingChanged, Duplicate, Escalate, Fallback, ObligationChanged, Violation
from sim.model.messages import Kind, RejectReason
from sim.model.observations import (
    AwaitingObs,
    BlockedObs,
    DuplicateObs,
    EscalationObs,
    ObligationObs,
    Observation,
    RejectedObs,
    ViolationObs,
)


def observation_of(action: Action, agency: str, t: datetime) -> Observation | None:
    """The observation ``agency`` publishes at ``t`` for ``action`` (None: nothing to report)."""
    match action:
        case Duplicate(envelope=env):
            return DuplicateObs(agency=agency, at=t, message=env.id, sender=env.sender)
        case ObligationChanged(obligation=ob, status=status):
            return ObligationObs(agency=agency, at=t, status=status, obligation=ob)
        case AwaitingChanged(expectation=exp, status=status, late=late):
            return AwaitingObs(agency=agency, at=t, status=status, late=late, expectation=exp)
        case Escalate(expectation=exp, channel=channel):
            return EscalationObs(
                agency=agency,
                at=t,
                expectation=exp.id,
                original=exp.trigger,
                channel=channel,
                why="no_answer",
                incident=exp.incident,
            )
        case Fallback(envelope=env, channel=channel):
            return EscalationObs(
                agency=agency, at=t, original=env.id, channel=channel, why="link_down", incident=env.incident
            )
        case Violation(envelope=env, rule=rule, detail=detail):
            return ViolationObs(agency=agency, at=t, message=env.id, rule=rule, detail=detail)
    return None


def rejected(
    agency: str,
    t: datetime,
    reason: RejectReason,
    detail: str,
    *,
    offending_id: str | None,
    topic: str,
    published_as: str,
    suppressed: int = 0,
) -> RejectedObs:
    """A rejection of input from ``published_as`` (standing for itself and ``suppressed`` more)."""
    return RejectedObs(
        agency=agency,
        at=t,
        reason=reason,
        detail=detail[:1000],
        offending_id=offending_id,
        topic=topic[:400],
        published_as=published_as[:100],
        suppressed=suppressed,
    )


def no_route(agency: str, t: datetime, draft: Draft) -> EscalationObs:
    """No link of ours reaches the recipient: the draft is handed to an agency of our state."""
    return EscalationObs(
        agency=agency,
        at=t,
        original=f"{draft.kind.value}→{draft.to}",
        channel=None,
        why="no_route",
        incident=draft.incident,
    )


def blocked(
    agency: str, t: datetime, kind: Kind, recipient: str, reason: RejectReason, detail: str, incident: str | None
) -> BlockedObs:
    """Our own automation or script tried to send something that cannot or may not go."""
    return BlockedObs(
        agency=agency, at=t, kind=kind, recipient=recipient, reason=reason, detail=detail, incident=incident
    )
