"""Communication checks: each check once (retries merged into the original), with the depth
its answer reached — or why there was none (``LOST``, ``REFUSED``, no answer)."""

from __future__ import annotations

from datetime import datetime

from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import CheckRow
from sim.evaluation.report.sections.common import UNDELIVERED
from sim.model.messages import CommCheckReply, Envelope, Kind
from sim.model.observations import LinkObs

_Replies = dict[str, tuple[datetime, CommCheckReply]]


def checks(state: ExerciseState) -> tuple[CheckRow, ...]:
    replies = _replies(state)
    undelivered = _undelivered(state)
    rows = {
        message: CheckRow(obs.recipient, obs.channel, obs.at, None, obs.fate.value.upper())
        for message, obs in undelivered.items()
    }
    original: dict[str, str] = {}  # check id -> the key of its row (a retry's is its original's)
    for env in _sent(state):
        key = env.id
        if env.ref is not None and original.get(env.ref, env.ref) in rows:
            key = original.get(env.ref, env.ref)
        original[env.id] = key
        rows[key] = _merged(rows.get(key), env, replies, undelivered)
    return tuple(sorted(rows.values(), key=lambda r: (r.replied_after is None, r.recipient)))


def _replies(state: ExerciseState) -> _Replies:
    """The first answer to each check, by the id of the check it answers."""
    replies: _Replies = {}
    for m in state.messages:
        body = m.envelope.body
        if m.copy == 1 and isinstance(body, CommCheckReply) and m.envelope.ref is not None:
            replies.setdefault(m.envelope.ref, (m.envelope.sent_at, body))
    return replies


def _undelivered(state: ExerciseState) -> dict[str, LinkObs]:
    """Checks lost or refused on their link, by message id."""
    return {
        o.obs.message: o.obs
        for o in state.observations
        if isinstance(o.obs, LinkObs) and o.obs.kind is Kind.COMM_CHECK and o.obs.fate in UNDELIVERED
    }


def _sent(state: ExerciseState) -> list[Envelope]:
    """Every check sent (first copies), in the order sent."""
    sent = [m.envelope for m in state.messages if m.copy == 1 and m.envelope.kind is Kind.COMM_CHECK]
    return sorted(sent, key=lambda env: env.sent_at)


def _merged(row: CheckRow | None, env: Envelope, replies: _Replies, undelivered: dict[str, LinkObs]) -> CheckRow:
    """The row of a check after one more sending of it (the first, or a retry)."""
    row = row or CheckRow(env.recipient, env.channel, env.sent_at, None, None)
    if env.id in replies and row.replied_after is None:
        at, body = replies[env.id]
        return CheckRow(row.recipient, row.channel, row.sent_at, at - row.sent_at, body.depth.name)
    if row.depth in ("LOST", "REFUSED") and env.id not in undelivered:
        return CheckRow(row.recipient, row.channel, row.sent_at, None, None)  # a retry got through
    return row
