"""Escalation: a matter goes up our domestic chain, and whoever it reaches raises it abroad.

An agency refers a matter to its superior (once per reason) when it is serious, denied, or has
no way out. A referred agency raises it with its counterpart on its own channel, in that
channel's escalation kind, and passes it further up when it is serious — or, when the referral
asks to relay a refused message, relays it (:mod:`~sim.core.automation.handover`).
"""

from __future__ import annotations

from datetime import datetime

from sim.core.automation.drafts import Draft, IncidentView, compose
from sim.core.automation.handover import relay
from sim.core.automation.knowledge import Knowledge
from sim.model.messages import Envelope, Kind, Referral, ReferralReason

#: Referral reasons that ask the receiving agency to relay a message it could not send.
_RELAY_REASONS = (ReferralReason.LINK_DOWN, ReferralReason.NO_ROUTE)
#: Referral reasons that go on up the chain while the matter is serious.
_SERIOUS_REASONS = (ReferralReason.SEVERITY, ReferralReason.DENIAL)


def refer_up(
    k: Knowledge, view: IncidentView, reason: ReferralReason, at: datetime, note: str, relay_kind: Kind | None = None
) -> list[Draft]:
    """Refer the matter to our superior, once per reason."""
    superior = k.roster.superior(k.me)
    if superior is None or reason in view.referred_up:
        return []
    view.referred_up.append(reason)
    referral = Referral(
        reason=reason, counterpart_state=view.counterpart_state, relay_kind=relay_kind, summary=view.summary
    )
    return [
        Draft(
            at,
            superior,
            Kind.REFERRAL,
            referral,
            view.id,
            severity=view.severity,
            channel=k.roster.agreement.domestic.id,
            reason=f"refer up ({note})",
        )
    ]


def referred(k: Knowledge, env: Envelope, body: Referral, now: datetime) -> list[Draft]:
    """An agency of our state referred a matter to us: relay, raise or pass it up."""
    assert env.incident is not None
    view = k.view(env.incident)
    if body.summary and not view.summary:
        view.summary = body.summary
    if body.counterpart_state:
        view.counterpart_state = body.counterpart_state
    if body.reason is ReferralReason.INFORM or view.counterpart_state is None:
        return []
    at = now + k.draw(k.policy.ack_delay)
    counterpart = k.counterpart(view.counterpart_state)
    if body.reason in _RELAY_REASONS and body.relay_kind is not None and counterpart:
        return relay(k, env, body, view, counterpart, at, now)
    if counterpart is None:
        # We have no channel towards them: the matter goes further up, as it came.
        return refer_up(k, view, body.reason, at, note="passed up", relay_kind=body.relay_kind)
    return _raise(k, env, body, view, counterpart, at, now)


def _raise(
    k: Knowledge,
    env: Envelope,
    body: Referral,
    view: IncidentView,
    counterpart: tuple[str, str],
    at: datetime,
    now: datetime,
) -> list[Draft]:
    """Raise a referred matter on our own channel (once), and take it higher while serious."""
    drafts: list[Draft] = []
    channel, agency = counterpart
    if channel not in view.escalated:
        view.escalated.append(channel)
        kind = k.raising_kind(channel)
        if kind is not None:
            reason = f"{body.reason.value.lower()} referred by {env.sender}"
            drafts.append(compose(view, kind, agency, channel, at, now, reason=reason))
    if body.reason in _SERIOUS_REASONS and view.severity >= k.policy.escalation_threshold:
        drafts.extend(refer_up(k, view, body.reason, at, note="passed up"))
    return drafts
