"""Answering: what an automated agency owes, it answers — and it weighs the answers it gets.

An answer owed is drafted in time with probability ``reliability``, else late (with probability
``late_answers``) or never, in the position the agency's ``disposition`` dictates. A repeat of
something we answered means our answer was lost: answer again. Notes no agreed rule covers get
a customary answer when the agency chooses to. A walk-back position in an answer is accepted
(cooperative), maybe (guarded) or not (denying); a denial of a serious matter is taken higher.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.core.automation.drafts import Draft, IncidentView, answer_body
from sim.core.automation.escalation import refer_up
from sim.core.automation.knowledge import QUICK_ANSWERS, Knowledge
from sim.model.messages import (
    WALK_BACK_POSITIONS,
    Envelope,
    IncidentUpdate,
    Kind,
    Position,
    ProvideInfo,
    ReferralReason,
    StandDown,
)
from sim.model.obligations import Obligation, Status
from sim.model.policy import Disposition


def owe(k: Knowledge, ob: Obligation, now: datetime) -> list[Draft]:
    """An obligation of ours opened: schedule the answer (or the follow-up), or let it slip."""
    if ob.rule == "follow_up":
        return _follow_up(k, ob, now)
    delay = k.honour(now, ob.due_at, _span(k, ob))
    if delay is None:
        return []
    return answer(k, ob, None, now, now + delay)


def _follow_up(k: Knowledge, ob: Obligation, now: datetime) -> list[Draft]:
    delay = k.honour(now, ob.due_at, k.policy.update_delay)
    if delay is None or ob.incident is None:
        return []
    view = k.view(ob.incident)
    final = ob.trigger_kind is Kind.STAND_DOWN
    body = IncidentUpdate(
        severity=view.severity,
        impact=(
            f"Final report on {ob.incident}: root cause and lessons."
            if final
            else f"Assessment of {ob.incident} continues; scope and impact updated."
        ),
        indicators=view.indicators,
        final=final,
    )
    k.pending.add(ob.id)
    return [
        Draft(
            now + delay,
            ob.counterparty,
            Kind.INCIDENT_UPDATE,
            body,
            ob.incident,
            severity=view.severity,
            reason="follow-up owed",
            meets=ob.id,
        )
    ]


def _span(k: Knowledge, ob: Obligation) -> tuple[timedelta, timedelta]:
    return k.policy.ack_delay if set(ob.kinds) <= QUICK_ANSWERS else k.policy.answer_delay


def answer(k: Knowledge, ob: Obligation, repeat: Envelope | None, now: datetime, at: datetime) -> list[Draft]:
    """The answer to ``ob`` (to its ``repeat`` when they sent the trigger again), sent ``at``."""
    kind = ob.kinds[0]
    ref = repeat.id if repeat is not None else ob.trigger
    severity = k.view(ob.incident).severity if ob.incident else 0
    body = answer_body(kind, ob.trigger_kind, k.policy, now, at)
    again = repeat is not None and ob.status is Status.MET
    if not again:
        k.pending.add(ob.id)
    return [
        Draft(
            at,
            ob.counterparty,
            kind,
            body,
            ob.incident,
            ref=ref,
            severity=severity,
            channel=ob.channel,
            reason=f"answer {ob.trigger_kind.value}" + (" again (ours was lost)" if again else ""),
            # A repeated answer is for an obligation already met: it must not be dropped as done.
            meets=None if again else ob.id,
        )
    ]


def answer_repeat(k: Knowledge, env: Envelope, repeat: Obligation, now: datetime) -> list[Draft]:
    """They sent again something we owe (or owed) an answer to."""
    if repeat.status is Status.MET:
        # They repeat something we answered: our answer was lost. Answer again.
        return answer(k, repeat, env, now, now + k.draw(k.policy.ack_delay))
    if repeat.status is Status.MISSED and repeat.id not in k.pending and k.rng.random() < k.policy.reliability:
        # A reminder of something we let slip: a second chance to answer, late.
        return answer(k, repeat, env, now, now + k.draw(_span(k, repeat)))
    return []


def answer_customarily(k: Knowledge, env: Envelope, now: datetime) -> list[Draft]:
    """No agreed obligation, but states answer notes anyway — when they choose to."""
    if k.roster.agreement.rule(env.kind) is not None:
        return []  # the obligation path answers it
    kind = Kind.CONSULT_REPLY if env.kind is Kind.CONSULT_REQUEST else Kind.PROVIDE_INFO
    if k.rng.random() >= k.policy.reliability:
        return []
    if k.roster.route(k.me, env.sender, kind) is None:
        return []
    at = now + k.draw(k.policy.answer_delay)
    body = answer_body(kind, env.kind, k.policy, now, at)
    return [
        Draft(
            at,
            env.sender,
            kind,
            body,
            env.incident,
            ref=env.id,
            severity=env.severity,
            reason=f"customary answer to {env.kind.value}",
        )
    ]


def weigh_answer(k: Knowledge, env: Envelope, body: ProvideInfo, now: datetime) -> list[Draft]:
    """A foreign answer on a matter: stand down on a walk-back we accept, take a denial higher."""
    assert env.incident is not None
    view = k.view(env.incident)
    if body.position in WALK_BACK_POSITIONS and _accepts_walk_back(k) and (view.raised_by_us or view.escalated):
        return [_stand_down(k, env, body, view, now)]
    if body.position is Position.DENY and view.severity >= k.policy.escalation_threshold:
        return refer_up(k, view, ReferralReason.DENIAL, now + k.draw(k.policy.ack_delay), note="denied")
    return []


def _accepts_walk_back(k: Knowledge) -> bool:
    # The coin is tossed whatever the disposition: every agency draws the same numbers.
    maybe = k.rng.random() < 0.5
    return {Disposition.COOPERATIVE: True, Disposition.GUARDED: maybe, Disposition.DENYING: False}[k.policy.disposition]


def _stand_down(k: Knowledge, env: Envelope, body: ProvideInfo, view: IncidentView, now: datetime) -> Draft:
    at = now + k.draw(k.policy.answer_delay)
    stand_down = StandDown(
        root_cause=f"{env.sender} states: {body.position.value.replace('_', ' ').lower()}",
        closure="Explanation accepted; no further action on this channel.",
    )
    return Draft(
        at,
        env.sender,
        Kind.STAND_DOWN,
        stand_down,
        env.incident,
        severity=view.severity,
        channel=env.channel,
        reason="walk-back accepted",
    )
