"""Operations another state will see, and their pre-notification (INCSEA 1972 Art. VI).

We announce our own operations ahead of their window when the agreement obliges us (or as a
courtesy); we remember the notices others send us, read activity a notice covers as the
announced operation, and explain at once when we are warned about an operation of ours.
"""

from __future__ import annotations

from datetime import datetime

from sim.core.automation.drafts import Draft, Notice
from sim.core.automation.knowledge import Knowledge
from sim.model.injects import Detect
from sim.model.messages import EarlyWarning, Envelope, Goodwill, Kind, Position, PreNotify, ProvideInfo


def plan_operation(k: Knowledge, inject: Detect, now: datetime) -> list[Draft]:
    """Our response to a detection is an operation another state will see: notify it ahead
    when the agreement obliges us (or as a courtesy)."""
    op = inject.response
    assert op is not None
    rule = k.roster.agreement.rule(Kind.PRE_NOTIFY)
    mandatory = rule is not None and rule.min_lead is not None
    chance = k.policy.reliability if mandatory else k.policy.courtesy_notice
    notify = k.rng.random() < chance
    start = now + op.after
    target = _notice_route(k, op.state)
    own = Notice(
        message=None,
        agency=k.me,
        channel=target[0] if target else None,
        state=op.state,
        operator_state=k.home(),
        activity=op.activity,
        incident=inject.incident,
        window_start=start,
        window_end=start + op.lasts,
    )
    k.operations.append(own)
    if not notify or target is None:
        return []
    channel, agency = target
    body = PreNotify(activity=op.activity, window_start=start, window_end=start + op.lasts, scope=op.scope or "-")
    reason = "pre-notification (obligatory)" if mandatory else "pre-notification (courtesy)"
    at = now + k.draw(k.policy.notify_delay)
    return [Draft(at, agency, Kind.PRE_NOTIFY, body, inject.incident, channel=channel, reason=reason)]


def _notice_route(k: Knowledge, state: str) -> tuple[str, str] | None:
    """Our lowest-tier foreign channel towards ``state`` that carries PRE_NOTIFY."""
    for channel in k.roster.foreign_channels(k.me):
        if Kind.PRE_NOTIFY not in channel.kinds:
            continue
        agency = k.roster.counterpart(k.me, channel.id, state)
        if agency is not None:
            return channel.id, agency
    return None


def announcing(k: Knowledge, inject: Detect, now: datetime) -> Notice | None:
    """The notice from the suspected state whose window covers what we detected, if any."""
    origin = inject.suspected_origin
    if origin is None:
        return None
    for notice in k.notices:
        if notice.operator_state == origin and notice.state == k.home() and notice.covers(now):
            return notice
    return None


def recognise(k: Knowledge, inject: Detect, notice: Notice, now: datetime) -> list[Draft]:
    """The activity is the one a notice announced: no alarm, a word of thanks."""
    view = k.view(inject.incident)
    view.severity = max(view.severity, inject.severity)
    view.summary = inject.summary
    view.counterpart_state = notice.operator_state
    view.closed = True
    if notice.channel is None:
        return []
    text = (
        f"{inject.summary} — consistent with your notice {notice.message} ({notice.activity}); "
        "read as the announced operation, no action needed."
    )
    at = now + k.draw(k.policy.ack_delay)
    return [
        Draft(
            at,
            notice.agency,
            Kind.GOODWILL,
            Goodwill(text=text[:2000]),
            inject.incident,
            channel=notice.channel,
            reason="announced activity recognised",
        )
    ]


def note_notice(k: Knowledge, env: Envelope, body: PreNotify) -> None:
    """Remember a pre-notification another state sent us."""
    k.notices.append(
        Notice(
            message=env.id,
            agency=env.sender,
            channel=env.channel,
            state=k.home(),
            operator_state=k.roster.state_of(env.sender),
            activity=body.activity,
            incident=env.incident,
            window_start=body.window_start,
            window_end=body.window_end,
        )
    )


def explain_our_operation(k: Knowledge, env: Envelope, body: EarlyWarning, now: datetime) -> list[Draft]:
    """An early warning from the state we operate in, naming us, during our operation:
    it is about our operation. Say so at once (position ROUTINE)."""
    sender_state = k.roster.state_of(env.sender)
    if body.suspected_origin not in (None, k.home()):
        return []
    for op in k.operations:
        if op.state != sender_state or not op.covers(now):
            continue
        info = ProvideInfo(
            position=Position.ROUTINE,
            answers=(
                f"The activity you report is our {op.activity}, "
                f"{op.window_start:%Y-%m-%d %H:%M}–{op.window_end:%H:%M} UTC; it is not directed against you.",
            ),
        )
        at = now + k.draw(k.policy.ack_delay)
        return [
            Draft(
                at,
                env.sender,
                Kind.PROVIDE_INFO,
                info,
                env.incident,
                ref=env.id,
                severity=env.severity,
                channel=env.channel,
                reason="explain our own operation",
            )
        ]
    return []
