"""Questions about a folded exercise that more than one reader asks (the after-action report
and ``hotline compare``): which channels cross a border, and how long the other side took to
answer in substance. Pure: an :class:`~sim.evaluation.outcome.ExerciseState` in, values out."""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.evaluation.outcome import ExerciseState
from sim.model.messages import Kind

#: Kinds that answer a question in substance (not a mere acknowledgement).
SUBSTANTIVE = frozenset({Kind.PROVIDE_INFO, Kind.ASSIST_REPLY, Kind.CONSULT_REPLY})
#: Kinds that notify another state of an incident.
NOTICE_KINDS = frozenset(
    {Kind.EARLY_WARNING, Kind.INCIDENT_UPDATE, Kind.REQUEST_INFO, Kind.WARNING, Kind.CONSULT_REQUEST}
)


def foreign(state: ExerciseState, channel_id: str) -> bool:
    """The channel is one of the agreement's and crosses a border (is not domestic)."""
    channel = state.agreement.channel(channel_id)
    return channel is not None and channel.scope != "domestic"


def first_substantive_answer(state: ExerciseState) -> timedelta | None:
    """From the first cross-border notice to the first substantive answer across a border."""
    first_notice: datetime | None = None
    for m in state.messages:
        env = m.envelope
        if m.copy != 1 or not foreign(state, env.channel):
            continue
        if env.kind in NOTICE_KINDS and first_notice is None:
            first_notice = env.sent_at
        if env.kind in SUBSTANTIVE and first_notice is not None:
            return env.sent_at - first_notice
    return None
