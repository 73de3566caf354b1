"""What a node reports of its protocol engine's actions: the observation each one is published
as. Acceptances, rejections and retries are acted on by the node itself (pure)."""

from __future__ import annotations

from datetime import datetime

from sim.core.protocol import Action, AwaitingChanged, Duplicate, Escalate, Fallback, ObligationChanged, Violation
from sim.model.observations import (
    AwaitingObs,
    DuplicateObs,
    EscalationObs,
    ObligationObs,
    Observation,
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
