"""Closing a matter on every side it was raised.

A STAND_DOWN closes the incident for us. When our own chain stood down, we close it with the
counterparts we warned ourselves; when we stood down abroad, we tell the domestic agencies we
worked with — each channel closed once, so that an echo never repeats it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.core.automation.drafts import Draft, IncidentView
from sim.core.automation.knowledge import Knowledge
from sim.model.messages import Envelope, Kind, StandDown


def stood_down(k: Knowledge, env: Envelope, body: StandDown, now: datetime) -> list[Draft]:
    """Someone closed the matter with us; if it was our own chain, close it abroad too."""
    assert env.incident is not None
    view = k.view(env.incident)
    view.closed = True
    if k.domestic(env.sender):
        return _close_abroad(k, view, body, now)
    return []


def _close_abroad(k: Knowledge, view: IncidentView, body: StandDown, now: datetime) -> list[Draft]:
    """Our chain closed the matter: close it with the counterparts we warned ourselves, so
    that nothing we still owe them (an update) re-opens it on our channel."""
    state = view.counterpart_state
    if state is None:
        return []
    drafts = []
    for channel in view.escalated:
        if channel in view.closed_on or "@" in channel:  # "nrrc@ee": raised with an affected state
            continue
        agency = k.roster.counterpart(k.me, channel, state)
        if agency is None or Kind.STAND_DOWN not in k.roster.channel(channel).kinds:
            continue
        view.closed_on.append(channel)
        drafts.append(
            Draft(
                now + timedelta(minutes=1),
                agency,
                Kind.STAND_DOWN,
                body,
                view.id,
                severity=view.severity,
                channel=channel,
                reason="our chain stood down: close it on our channel too",
            )
        )
    return drafts


def closed_abroad(k: Knowledge, view: IncidentView, env: Envelope) -> list[Draft]:
    """Our STAND_DOWN left on a foreign channel: tell the domestic chain the matter is closed."""
    view.closed = True
    if env.channel not in view.closed_on:
        view.closed_on.append(env.channel)  # closed here: a domestic echo must not repeat it
    return [
        Draft(
            env.sent_at,
            partner,
            Kind.STAND_DOWN,
            env.body,
            env.incident,
            severity=env.severity,
            channel=k.roster.agreement.domestic.id,
            reason="tell the domestic chain the matter is closed",
        )
        for partner in view.partners
    ]
