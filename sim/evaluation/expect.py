"""Checking a scenario's ``expect:`` list against the folded journal (pure)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sim.evaluation.outcome import ExerciseState
from sim.model.durations import format_duration, format_offset
from sim.model.expectations import (
    Bounds,
    CheckDepthCount,
    Expectation,
    FinalLevel,
    MaxLevel,
    MessageCount,
    NoMessageLost,
    Notified,
    ObligationCount,
    ObligationsMet,
)
from sim.model.messages import CommCheckReply, Envelope
from sim.model.obligations import Obligation, Status


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    ok: bool
    claim: str  # what was expected, in words
    found: str  # what happened, in words, with sim times and message ids when it failed


def check(state: ExerciseState) -> list[Verdict]:
    return [_one(e, state) for e in state.scenario.expect]


def _one(expectation: Expectation, state: ExerciseState) -> Verdict:
    """One expectation: the check named by its kind, given its spec."""
    return _CHECKS[expectation.kind](expectation, getattr(expectation, expectation.kind), state)


def _no_message_lost(expectation: Expectation, spec_lost: NoMessageLost, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    lost = state.lost(spec_lost.channel)
    where = f" on {spec_lost.channel}" if spec_lost.channel else ""
    claim = f"no protocol message lost{where}"
    if not lost:
        return Verdict(expectation, ok=True, claim=claim, found="none lost")
    listed = ", ".join(
        f"{f.message} {f.kind.value} {f.agency}→{f.recipient} at T{format_offset(f.at - start)}" for f in lost[:3]
    )
    return Verdict(expectation, ok=False, claim=claim, found=f"{len(lost)} lost: {listed}")


def _max_level(expectation: Expectation, spec: MaxLevel, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    peak, when = state.ladder.peak(spec.incident)
    bounds = []
    if spec.at_least is not None:
        bounds.append(f"at least {spec.at_least}")
    if spec.at_most is not None:
        bounds.append(f"at most {spec.at_most}")
    ok = (spec.at_least is None or peak >= spec.at_least) and (spec.at_most is None or peak <= spec.at_most)
    claim = f"{spec.incident} peaks {' and '.join(bounds)}"
    found = f"peaked at {peak} {state.ladder.name(peak)}"
    if when is not None:
        found += f" at T{format_offset(when - start)}"
        changes = [c for c in state.ladder.history.get(spec.incident, []) if c.level == peak]
        if changes and not ok:
            found += f" ({changes[0].reason}, message {changes[0].message_id})"
    return Verdict(expectation, ok, claim, found)


def _obligations(expectation: Expectation, spec: ObligationsMet, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    matching = [
        o
        for o in state.obligations.values()
        if o.trigger_kind is spec.kind
        and o.rule == spec.rule
        and (spec.owner is None or o.owner == spec.owner)
        and (spec.incident is None or o.incident == spec.incident)
        and o.status is not Status.CANCELLED
    ]
    who = f" owed by {spec.owner}" if spec.owner else ""
    on = f" on {spec.incident}" if spec.incident else ""
    what = "answer to" if spec.rule == "answer" else "follow-up of"
    claim = (
        f"every {what} {spec.kind.value}{who}{on} met within {format_duration(spec.within)} (at least {spec.at_least})"
    )
    bad = []
    for ob in sorted(matching, key=lambda o: (o.opened_at, o.id)):
        took = (ob.closed_at - ob.opened_at) if ob.closed_at else None
        if ob.status is not Status.MET or took is None or took > spec.within:
            state_text = (
                ob.status.value
                if ob.status is not Status.MET
                else f"met after {format_duration(took or ob.due_at - ob.opened_at)}"
            )
            bad.append(
                f"{ob.owner} → {ob.counterparty} {'/'.join(k.value for k in ob.kinds)} for {ob.trigger} "
                f"(opened T{format_offset(ob.opened_at - start)}): {state_text}"
            )
    ok = not bad and len(matching) >= spec.at_least
    if len(matching) < spec.at_least:
        found = f"only {len(matching)} such obligation(s) arose"
    elif bad:
        found = f"{len(bad)} of {len(matching)} not met in time: " + "; ".join(bad[:3])
    else:
        found = f"{len(matching)} of {len(matching)} met in time"
    return Verdict(expectation, ok, claim, found)


def _bounds_text(spec: Bounds) -> str:
    parts = []
    if spec.at_least is not None:
        parts.append(f"at least {spec.at_least}")
    if spec.at_most is not None:
        parts.append(f"at most {spec.at_most}")
    return " and ".join(parts)


def _within_bounds(spec: Bounds, n: int) -> bool:
    return (spec.at_least is None or n >= spec.at_least) and (spec.at_most is None or n <= spec.at_most)


def _final_level(expectation: Expectation, spec: FinalLevel, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    level = state.ladder.level(spec.incident)
    claim = f"{spec.incident} ends at level {spec.at_most} or lower"
    found = f"ends at {level} {state.ladder.name(level)}"
    history = state.ladder.history.get(spec.incident, [])
    if history:
        last = history[-1]
        found += f" (since T{format_offset(last.at - start)}: {last.reason}, message {last.message_id})"
    return Verdict(expectation, level <= spec.at_most, claim, found)


def _ob_text(ob: Obligation, state: ExerciseState) -> str:
    start = state.scenario.start
    status = ob.status.value
    if ob.status is Status.MET and ob.closed_at is not None:
        status = f"met after {format_duration(ob.closed_at - ob.opened_at)} by {ob.met_by}"
    return f"{ob.owner} for {ob.trigger} (opened T{format_offset(ob.opened_at - start)}): {status}"


def _obligation_count(expectation: Expectation, spec: ObligationCount, state: ExerciseState) -> Verdict:
    matching = sorted(
        (
            o
            for o in state.obligations.values()
            if o.trigger_kind is spec.kind
            and o.rule == spec.rule
            and (spec.owner is None or o.owner == spec.owner)
            and (spec.incident is None or o.incident == spec.incident)
            and o.status is not Status.CANCELLED
        ),
        key=lambda o: (o.opened_at, o.id),
    )

    def counts(ob: Obligation) -> bool:
        if ob.status.value != spec.status:
            return False
        if spec.status == "met" and spec.within is not None:
            return ob.closed_at is not None and ob.closed_at - ob.opened_at <= spec.within
        return True

    hits = [o for o in matching if counts(o)]
    within = f" within {format_duration(spec.within)}" if spec.within is not None and spec.status == "met" else ""
    who = f" owed by {spec.owner}" if spec.owner else ""
    what = "answers to" if spec.rule == "answer" else "follow-ups of"
    claim = f"{_bounds_text(spec)} {what} {spec.kind.value}{who} {spec.status}{within}"
    ok = _within_bounds(spec, len(hits))
    found = f"{len(hits)} of {len(matching)}"
    if not ok:
        others = [o for o in matching if o not in hits] if spec.at_least is not None else hits
        if others:
            found += "; " + "; ".join(_ob_text(o, state) for o in others[:4])
            if len(others) > 4:
                found += f"; … {len(others) - 4} more"
    return Verdict(expectation, ok, claim, found)


def _messages(expectation: Expectation, spec: MessageCount, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    hits = [
        m.envelope
        for m in state.messages
        if m.copy == 1
        and (spec.kind is None or m.envelope.kind is spec.kind)
        and (spec.sender is None or m.envelope.sender == spec.sender)
        and (spec.recipient is None or m.envelope.recipient == spec.recipient)
        and (spec.channel is None or m.envelope.channel == spec.channel)
        and (spec.incident is None or m.envelope.incident == spec.incident)
    ]
    what = " ".join(
        part
        for part in (
            spec.kind.value if spec.kind else "messages",
            f"from {spec.sender}" if spec.sender else "",
            f"to {spec.recipient}" if spec.recipient else "",
            f"on {spec.channel}" if spec.channel else "",
            f"about {spec.incident}" if spec.incident else "",
        )
        if part
    )
    claim = f"{_bounds_text(spec)} {what}"
    listed = ", ".join(
        f"{e.id} {e.kind.value} {e.sender}→{e.recipient} at T{format_offset(e.sent_at - start)}" for e in hits[:4]
    )
    found = f"{len(hits)} sent" + (f": {listed}" if listed else "") + (" …" if len(hits) > 4 else "")
    return Verdict(expectation, _within_bounds(spec, len(hits)), claim, found)


def _check_depth(expectation: Expectation, spec: CheckDepthCount, state: ExerciseState) -> Verdict:
    deepest: dict[str, int] = {}
    for m in state.messages:
        body = m.envelope.body
        if m.copy == 1 and isinstance(body, CommCheckReply):
            deepest[m.envelope.sender] = max(deepest.get(m.envelope.sender, 0), int(body.depth))
    deep = sorted(a for a, d in deepest.items() if d >= spec.depth)
    claim = f"{_bounds_text(spec)} agencies answer a communication check at depth {spec.depth.name} or deeper"
    shallow = sorted(a for a, d in deepest.items() if d < spec.depth)
    found = f"{len(deep)} of {len(deepest)} that answered"
    if shallow:
        found += f"; shallower: {', '.join(shallow[:6])}" + (" …" if len(shallow) > 6 else "")
    return Verdict(expectation, _within_bounds(spec, len(deep)), claim, found)


def _notified(expectation: Expectation, spec: Notified, state: ExerciseState) -> Verdict:
    """The other state *heard* of it: a notice across the border arrived (sent_at + transit)."""
    start = state.scenario.start
    stats = state.incidents.get(spec.incident)
    claim = f"{spec.incident} reaches another state within {format_duration(spec.within)} of detection"
    if stats is None or stats.detected_at is None:
        return Verdict(expectation, ok=False, claim=claim, found="never detected (no detect inject ran)")
    notices = [
        m.envelope
        for m in state.messages
        if m.copy == 1 and m.envelope.incident == spec.incident and _crosses_border(m.envelope, state)
    ]
    if not notices:
        found = f"detected at T{format_offset(stats.detected_at - start)}, never notified"
        return Verdict(expectation, ok=False, claim=claim, found=found)
    first = min(notices, key=lambda e: (e.arrives_at or e.sent_at, e.id))
    arrived = first.arrives_at or first.sent_at
    took = arrived - stats.detected_at
    via = f"{first.id} {first.kind.value} {first.sender}→{first.recipient} on {first.channel}"
    found = (
        f"detected T{format_offset(stats.detected_at - start)}, notice sent T{format_offset(first.sent_at - start)}"
        f" and received T{format_offset(arrived - start)}, {format_duration(took)} after detection ({via})"
    )
    return Verdict(expectation, took <= spec.within, claim, found)


def _crosses_border(env: Envelope, state: ExerciseState) -> bool:
    agencies = {a.id: a.state for a in state.scenario.agencies}
    return agencies.get(env.sender) != agencies.get(env.recipient)


_CHECKS: dict[str, Callable[[Expectation, Any, ExerciseState], Verdict]] = {
    "max_level": _max_level,
    "obligations_met": _obligations,
    "final_level": _final_level,
    "obligation_count": _obligation_count,
    "messages": _messages,
    "check_depth": _check_depth,
    "notified": _notified,
    "no_message_lost": _no_message_lost,
}

__all__ = ["Verdict", "check"]
