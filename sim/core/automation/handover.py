"""Hand-over: a matter our own channel cannot carry goes to the agency of our state that can.

When we are left unanswered after the agreed retries, when a down link refuses a message, or
when we have no link to the recipient at all, the matter is given to the agency of our state
that sits on the fallback (or lowest reachable) channel — directly if that is us, else by a
REFERRAL on the domestic chain. The agency that receives such a referral relays the message on
its own channel.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.core.automation.drafts import Draft, IncidentView, compose
from sim.core.automation.knowledge import QUICK_ANSWERS, Knowledge
from sim.model.messages import Body, Envelope, Kind, Referral, ReferralReason
from sim.model.obligations import Awaiting

#: A hand-over is done within a minute.
_HAND_OVER_DELAY = timedelta(minutes=1)


def hand_over_unanswered(k: Knowledge, exp: Awaiting, channel: str | None, now: datetime) -> list[Draft]:
    """Retries are spent: take the matter to the fallback ``channel``."""
    if exp.incident is None or channel is None:
        return []
    view = k.view(exp.incident)
    state = k.roster.state_of(exp.counterparty)
    view.counterpart_state = view.counterpart_state or state
    return _hand_over(k, view, channel, ReferralReason.NO_ANSWER, None, now, exp.trigger, _towards(view, state))


def hand_over_refused(k: Knowledge, env: Envelope, channel: str | None, now: datetime) -> list[Draft]:
    """A down link refused ``env``: carry it on the fallback ``channel``."""
    if env.incident is None or channel is None or env.kind in QUICK_ANSWERS:
        return []
    view = k.view(env.incident)
    state = k.roster.state_of(env.recipient)
    view.counterpart_state = view.counterpart_state or state
    return _hand_over(k, view, channel, ReferralReason.LINK_DOWN, env.body, now, env.id, _towards(view, state))


def _towards(view: IncidentView, state: str) -> str | None:
    """The state a hand-over is about: an affected state we warned, or else the counterpart."""
    return state if state in view.affected else view.counterpart_state


def _hand_over(
    k: Knowledge,
    view: IncidentView,
    channel: str,
    reason: ReferralReason,
    relay_body: Body | None,
    now: datetime,
    original: str,
    state: str | None,
) -> list[Draft]:
    """Give a matter about ``state`` to the agency of our state that sits on ``channel``."""
    if state is None:
        return []
    at = now + _HAND_OVER_DELAY
    mine = k.roster.counterpart(k.me, channel, state)
    if mine is not None:
        key = channel if state == view.counterpart_state else f"{channel}@{state}"
        return _raise_ourselves(k, view, key, channel, mine, reason, relay_body, at, now)
    relay_agency = k.roster.relay_for(k.me, channel, state) or k.roster.superior(k.me)
    if relay_agency is None:
        return []
    referral = Referral(
        reason=reason,
        counterpart_state=state,
        original=original,
        relay_kind=relay_body.kind if relay_body else None,
        relay_body=relay_body,
        summary=view.summary,
    )
    return [
        Draft(
            at,
            relay_agency,
            Kind.REFERRAL,
            referral,
            view.id,
            severity=view.severity,
            channel=k.roster.agreement.domestic.id,
            reason=f"hand over to {channel}",
        )
    ]


def _raise_ourselves(
    k: Knowledge,
    view: IncidentView,
    key: str,
    channel: str,
    agency: str,
    reason: ReferralReason,
    relay_body: Body | None,
    at: datetime,
    now: datetime,
) -> list[Draft]:
    """We sit on ``channel`` ourselves: raise the matter there (once), with the refused message
    itself when the channel carries its kind (``key``: the channel, and the state if it is not
    the counterpart's)."""
    if key in view.escalated:
        return []
    view.escalated.append(key)
    if relay_body is not None and relay_body.kind in k.roster.channel(channel).kinds:
        return [
            Draft(
                at,
                agency,
                relay_body.kind,
                relay_body,
                view.id,
                severity=view.severity,
                channel=channel,
                reason=reason.value.lower(),
            )
        ]
    kind = k.raising_kind(channel)
    return [compose(view, kind, agency, channel, at, now, reason=reason.value.lower())] if kind else []


def reroute(k: Knowledge, draft: Draft, now: datetime) -> list[Draft]:
    """We have no link to ``draft.to`` under this agreement: hand the message to the agency of
    our state that reaches the recipient's state on the lowest-tier channel."""
    if draft.incident is None or k.domestic(draft.to):
        return []
    state = k.roster.state_of(draft.to)
    view = k.view(draft.incident)
    view.counterpart_state = view.counterpart_state or state
    for channel in sorted(k.roster.agreement.channels, key=lambda c: (c.tier, c.id)):
        if channel.scope != "bilateral":
            continue
        relay_agency = k.roster.relay_for(k.me, channel.id, state)
        if relay_agency is not None and relay_agency != k.me:
            referral = Referral(
                reason=ReferralReason.NO_ROUTE,
                counterpart_state=state,
                relay_kind=draft.kind,
                relay_body=draft.body,
                summary=view.summary or draft.reason,
            )
            return [
                Draft(
                    now + _HAND_OVER_DELAY,
                    relay_agency,
                    Kind.REFERRAL,
                    referral,
                    draft.incident,
                    severity=draft.severity,
                    channel=k.roster.agreement.domestic.id,
                    reason=f"no direct link: relay {draft.kind.value} via {relay_agency}",
                )
            ]
    return []


def relay(
    k: Knowledge,
    env: Envelope,
    body: Referral,
    view: IncidentView,
    counterpart: tuple[str, str],
    at: datetime,
    now: datetime,
) -> list[Draft]:
    """We were handed a message another agency of our state could not send: send it on our
    channel towards ``counterpart`` — as it was if the channel carries its kind."""
    channel, agency = counterpart
    # Each refused message is relayed once per channel (a repeat of the same referral is
    # not); later refused messages on the same incident are relayed too.
    key = f"{channel}:{body.original}" if body.original else channel
    if key in view.relayed:
        return []
    view.relayed.append(key)
    allowed = k.roster.channel(channel).kinds
    reason = f"relay for {env.sender} ({body.reason.value.lower().replace('_', ' ')})"
    if body.relay_body is not None and body.relay_body.kind in allowed:
        return [
            Draft(
                at,
                agency,
                body.relay_body.kind,
                body.relay_body,
                view.id,
                severity=env.severity,
                channel=channel,
                reason=reason,
            )
        ]
    kind = body.relay_kind if body.relay_kind in allowed else None
    kind = kind or k.roster.channel(channel).escalation_kind
    if kind is None:
        return []
    return [compose(view, kind, agency, channel, at, now, reason=reason)]
