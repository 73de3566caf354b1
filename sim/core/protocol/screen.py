"""Screening: the checks an envelope passes, on its way in, before it counts as a message of the
exercise (pure). The recipient's protocol engine screens what reaches it; the journal fold
screens the same way, so a message its recipient rejected is never folded as traffic.

Identity is ``(sender, id)``: the sender is the one the topic (and the broker's ACL) says
published it, and the id is in that sender's namespace (``<sender>-<n>``), so no agency can send
a message that pre-empts — or passes for — another's."""

from __future__ import annotations

from collections.abc import Container
from datetime import datetime

from sim.model.admission import time_problem
from sim.model.messages import Envelope, RejectReason, body_times, id_in_senders_namespace

Problem = tuple[RejectReason, str]


def identity_problem(
    env: Envelope,
    *,
    publisher: str,
    recipient: str,
    exercise: str,
    agencies: Container[str],
    window: tuple[datetime, datetime] | None,
) -> Problem | None:
    """Why ``env``, published as ``publisher`` to ``recipient``'s inbox, is not a message of this
    exercise (None: it is)."""
    if env.exercise != exercise:
        return RejectReason.WRONG_EXERCISE, f"exercise {env.exercise!r}, not {exercise!r}"
    if env.sender != publisher:
        return (
            RejectReason.SENDER_MISMATCH,
            f"payload says sender {env.sender!r} but it was published as {publisher!r}",
        )
    if env.recipient != recipient:
        return RejectReason.WRONG_RECIPIENT, f"addressed to {env.recipient!r}, not {recipient!r}"
    if env.sender not in agencies:
        return RejectReason.UNKNOWN_SENDER, f"{env.sender!r} is not part of this exercise"
    if not id_in_senders_namespace(env):
        return RejectReason.FOREIGN_ID, f"id {env.id!r} is not one of {env.sender}'s (<sender>-<n>)"
    if window is not None:
        problem = time_problem(env.sent_at, env.arrives_at, body_times(env), *window)
        if problem is not None:
            return RejectReason.BAD_TIME, problem
    return None
