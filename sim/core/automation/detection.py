"""Detection: an incident the agency sees itself.

A first detection warns the counterpart in the suspected state on our lowest channel — and,
where the policy says so, every other state the detection names as affected — and refers the
matter up our domestic chain when it is serious (or when we have no channel towards that
state). Activity a notice announced is recognised instead; a response that is an operation
is pre-notified. New findings on an incident we raised update the counterpart, and take the
matter up once its severity crosses our threshold.
"""

from __future__ import annotations

from datetime import datetime

from sim.core.automation.drafts import Draft, IncidentView, compose
from sim.core.automation.escalation import refer_up
from sim.core.automation.knowledge import Knowledge
from sim.core.automation.notices import announcing, plan_operation, recognise
from sim.model.injects import Detect
from sim.model.messages import IncidentUpdate, Kind, ReferralReason


def detect(k: Knowledge, inject: Detect, now: datetime) -> list[Draft]:
    known = inject.incident in k.incidents and k.incidents[inject.incident].raised_by_us
    if known:
        return _redetect(k, inject, now)
    notice = announcing(k, inject, now)
    if notice is not None:
        return recognise(k, inject, notice, now)
    drafts = plan_operation(k, inject, now) if inject.response is not None else []
    return drafts + _detected(k, inject, now)


def _detected(k: Knowledge, inject: Detect, now: datetime) -> list[Draft]:
    view = k.view(inject.incident)
    view.severity = max(view.severity, inject.severity)
    view.summary = inject.summary
    view.indicators = inject.indicators
    view.raised_by_us = True
    view.closed = False
    origin = inject.suspected_origin
    if origin is not None and origin != k.home():
        view.counterpart_state = origin
    drafts: list[Draft] = []
    at = now + k.draw(k.policy.notify_delay)
    state = view.counterpart_state
    counterpart = k.counterpart(state) if state else None
    if counterpart is not None:
        channel, agency = counterpart
        view.escalated.append(channel)
        drafts.append(compose(view, Kind.EARLY_WARNING, agency, channel, at, now, reason="detected"))
    drafts.extend(_warn_affected(k, view, inject, at, now))
    if state is not None and (counterpart is None or view.severity >= k.policy.escalation_threshold):
        reason = ReferralReason.SEVERITY if counterpart else ReferralReason.NO_ROUTE
        drafts.extend(refer_up(k, view, reason, at, note="detected"))
    return drafts


def _warn_affected(k: Knowledge, view: IncidentView, inject: Detect, at: datetime, now: datetime) -> list[Draft]:
    """Warn each state the incident affects (not ours, not the suspected origin), once, on our
    lowest channel towards it."""
    if not k.policy.warn_affected:
        return []
    drafts = []
    for state in inject.affected:
        if state in (k.home(), view.counterpart_state) or state in view.affected:
            continue
        counterpart = k.counterpart(state)
        if counterpart is None:
            continue
        view.affected.append(state)
        channel, agency = counterpart
        drafts.append(compose(view, Kind.EARLY_WARNING, agency, channel, at, now, reason=f"affects {state}"))
    return drafts


def _redetect(k: Knowledge, inject: Detect, now: datetime) -> list[Draft]:
    """New findings on an incident we already raised: update the counterpart, and take it
    up the domestic chain if it now crosses our threshold."""
    view = k.incidents[inject.incident]
    crossed = view.severity < k.policy.escalation_threshold <= inject.severity
    view.severity = max(view.severity, inject.severity)
    view.indicators = tuple(dict.fromkeys((*view.indicators, *inject.indicators)))
    view.summary = inject.summary or view.summary
    view.closed = False
    at = now + k.draw(k.policy.notify_delay)
    drafts: list[Draft] = []
    counterpart = k.counterpart(view.counterpart_state)
    if counterpart is not None:
        drafts.append(_update(view, inject, counterpart, at))
    for state in view.affected:
        affected = k.counterpart(state)
        if affected is not None:
            drafts.append(_update(view, inject, affected, at))
    drafts.extend(_warn_affected(k, view, inject, at, now))
    if crossed:
        drafts.extend(refer_up(k, view, ReferralReason.SEVERITY, at, note="severity rose"))
    return drafts


def _update(view: IncidentView, inject: Detect, counterpart: tuple[str, str], at: datetime) -> Draft:
    channel, agency = counterpart
    body = IncidentUpdate(severity=view.severity, impact=inject.summary, indicators=inject.indicators)
    return Draft(
        at, agency, Kind.INCIDENT_UPDATE, body, view.id, severity=view.severity, channel=channel, reason="new findings"
    )
