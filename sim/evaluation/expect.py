"""Checking a scenario's ``expect:`` list against the folded journal (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import assert_never

from sim.evaluation.outcome import ExerciseState
from sim.model.durations import format_duration, format_offset
from sim.model.expectations import (
    Bounds,
    CheckDepthCount,
    CheckDepthExpectation,
    Expectation,
    FinalLevel,
    FinalLevelExpectation,
    MaxLevel,
    MaxLevelExpectation,
    MessageCount,
    MessagesExpectation,
    NoMessageLost,
    NoMessageLostExpectation,
    Notified,
    NotifiedExpectation,
    ObligationCount,
    ObligationCountExpectation,
    ObligationsMet,
    ObligationsMetExpectation,
)
from sim.model.messages import CommCheckReply, Envelope
from sim.model.obligations import Obligation, Status


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    ok: bool
    claim: str  # what was expected, in words
    found: str  # what happened, in words, with sim times and message ids when it failed


#: Checked on every run, whatever the scenario expects: nothing is lost without the run failing.
DELIVERY = NoMessageLostExpectation(
    no_message_lost=NoMessageLost(), note="every run checks this, whatever the scenario expects"
)


def check(state: ExerciseState) -> list[Verdict]:
    """The scenario's expectations; and, when the delivery tally shows a loss (or an agency gave
    no account) and no expectation of the scenario already says so, a failed :data:`DELIVERY`."""
    verdicts = [_one(e, state) for e in state.scenario.expect]
    covered = any(
        isinstance(e, NoMessageLostExpectation) and e.no_message_lost.channel is None for e in state.scenario.expect
    )
    if state.tally is not None and not state.tally.sound and not covered:
        verdicts.append(_one(DELIVERY, state))
    return verdicts


def _one(expectation: Expectation, state: ExerciseState) -> Verdict:
    """One expectation: the check its kind names, given its spec."""
    match expectation:
        case MaxLevelExpectation(max_level=spec):
            return _max_level(expectation, spec, state)
        case ObligationsMetExpectation(obligations_met=spec):
            return _obligations(expectation, spec, state)
        case FinalLevelExpectation(final_level=spec):
            return _final_level(expectation, spec, state)
        case ObligationCountExpectation(obligation_count=spec):
            return _obligation_count(expectation, spec, state)
        case MessagesExpectation(messages=spec):
            return _messages(expectation, spec, state)
        case CheckDepthExpectation(check_depth=spec):
            return _check_depth(expectation, spec, state)
        case NotifiedExpectation(notified=spec):
            return _notified(expectation, spec, state)
        case NoMessageLostExpectation(no_message_lost=spec):
            return _no_message_lost(expectation, spec, state)
    assert_never(expectation)


def _no_message_lost(expectation: Expectation, spec_lost: NoMessageLost, state: ExerciseState) -> Verdict:
    """No message lost: neither by the simulated link (a loss the scenario made) nor in transport
    (the delivery tally: ids sent and never received, or an agency that gave no account)."""
    start = state.scenario.start
    lost = state.lost(spec_lost.channel)
    where = f" on {spec_lost.channel}" if spec_lost.channel else ""
    claim = f"no protocol message lost{where}"
    missing = _never_received(state, spec_lost.channel)
    silent = state.tally.silent if state.tally is not None else ()
    if not lost and not missing and not silent:
        return Verdict(expectation, ok=True, claim=claim, found="none lost")
    parts = []
    if lost:
        listed = ", ".join(
            f"{f.message} {f.kind.value} {f.agency}→{f.recipient} at T{format_offset(f.at - start)}" for f in lost[:3]
        )
        parts.append(f"{len(lost)} lost: {listed}")
    if missing:
        parts.append(
            f"{len(missing)} sent and never received: {', '.join(missing[:5])}" + (" …" if len(missing) > 5 else "")
        )
    if silent:
        parts.append(f"no final account from {', '.join(silent)} (delivery not verified)")
    return Verdict(expectation, ok=False, claim=claim, found="; ".join(parts))


def _never_received(state: ExerciseState, channel: str | None) -> list[str]:
    """Messages the delivery tally names as sent and never received (on ``channel``)."""
    out = []
    for pair in state.tally.missing if state.tally is not None else ():
        for message_id in pair.lost or ("?",) * (pair.sent - pair.received):
            env = state.envelope(message_id, pair.sender)
            if channel is None or env is None or env.channel == channel:
                kind = f" {env.kind.value}" if env is not None else ""
                out.append(f"{message_id}{kind} {pair.sender}→{pair.recipient}")
    return out


def _subject(incident: str, between: tuple[str, str] | None) -> str:
    """``EI-1``, or ``EI-1 between de and ee``."""
    return incident if between is None else f"{incident} between {between[0]} and {between[1]}"


def _max_level(expectation: Expectation, spec: MaxLevel, state: ExerciseState) -> Verdict:
    peak, when = state.ladder.peak(spec.incident, spec.between)
    ok = _within_bounds(spec, peak)
    claim = f"{_subject(spec.incident, spec.between)} peaks {_bounds_text(spec)}"
    found = f"peaked at {peak} {state.ladder.name(peak)}"
    if when is not None:
        found += f" at T{format_offset(when - state.scenario.start)}"
        changes = [c for c in state.ladder.changes(spec.incident, spec.between) if c.level == peak]
        if changes and not ok:
            found += f" ({changes[0].reason}, message {changes[0].message_id})"
    return Verdict(expectation, ok, claim, found)


def _matching(state: ExerciseState, spec: ObligationsMet | ObligationCount) -> list[Obligation]:
    """The obligations an obligation check is about (never the cancelled), in the order opened."""
    matching = [
        o
        for o in state.obligations.values()
        if o.trigger_kind is spec.kind
        and o.rule == spec.rule
        and _wanted(spec.owner, o.owner)
        and _wanted(spec.incident, o.incident)
        and o.status is not Status.CANCELLED
    ]
    return sorted(matching, key=lambda o: (o.opened_at, o.id))


def _obligations(expectation: Expectation, spec: ObligationsMet, state: ExerciseState) -> Verdict:
    matching = _matching(state, spec)
    who = f" owed by {spec.owner}" if spec.owner else ""
    on = f" on {spec.incident}" if spec.incident else ""
    what = "answer to" if spec.rule == "answer" else "follow-up of"
    claim = (
        f"every {what} {spec.kind.value}{who}{on} met within {format_duration(spec.within)} (at least {spec.at_least})"
    )
    bad = [_late_text(ob, state) for ob in matching if not _met_within(ob, spec.within)]
    ok = not bad and len(matching) >= spec.at_least
    if len(matching) < spec.at_least:
        found = f"only {len(matching)} such obligation(s) arose"
    elif bad:
        found = f"{len(bad)} of {len(matching)} not met in time: " + "; ".join(bad[:3])
    else:
        found = f"{len(matching)} of {len(matching)} met in time"
    return Verdict(expectation, ok, claim, found)


def _met_within(ob: Obligation, within: timedelta) -> bool:
    return ob.status is Status.MET and ob.closed_at is not None and ob.closed_at - ob.opened_at <= within


def _late_text(ob: Obligation, state: ExerciseState) -> str:
    """An obligation not met in time: what was owed, when it was opened, and how it ended."""
    took = (ob.closed_at - ob.opened_at) if ob.closed_at else None
    how = (
        ob.status.value
        if ob.status is not Status.MET
        else f"met after {format_duration(took or ob.due_at - ob.opened_at)}"
    )
    return (
        f"{ob.owner} → {ob.counterparty} {'/'.join(k.value for k in ob.kinds)} for {ob.trigger} "
        f"(opened T{format_offset(ob.opened_at - state.scenario.start)}): {how}"
    )


def _bounds_text(spec: Bounds | MaxLevel) -> str:
    parts = []
    if spec.at_least is not None:
        parts.append(f"at least {spec.at_least}")
    if spec.at_most is not None:
        parts.append(f"at most {spec.at_most}")
    return " and ".join(parts)


def _within_bounds(spec: Bounds | MaxLevel, n: int) -> bool:
    return (spec.at_least is None or n >= spec.at_least) and (spec.at_most is None or n <= spec.at_most)


def _final_level(expectation: Expectation, spec: FinalLevel, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    level = state.ladder.level(spec.incident, spec.between)
    claim = f"{_subject(spec.incident, spec.between)} ends at level {spec.at_most} or lower"
    found = f"ends at {level} {state.ladder.name(level)}"
    history = state.ladder.changes(spec.incident, spec.between)
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
    matching = _matching(state, spec)
    hits = [o for o in matching if _counts(spec, o)]
    within = f" within {format_duration(spec.within)}" if spec.within is not None and spec.status == "met" else ""
    who = f" owed by {spec.owner}" if spec.owner else ""
    what = "answers to" if spec.rule == "answer" else "follow-ups of"
    claim = f"{_bounds_text(spec)} {what} {spec.kind.value}{who} {spec.status}{within}"
    ok = _within_bounds(spec, len(hits))
    found = f"{len(hits)} of {len(matching)}"
    if not ok:
        # too few: the ones that did not count; too many: the ones that did
        others = [o for o in matching if o not in hits] if spec.at_least is not None else hits
        found += _listed(others, state)
    return Verdict(expectation, ok, claim, found)


def _counts(spec: ObligationCount, ob: Obligation) -> bool:
    """The obligation ended with the status the check counts (for ``met``: in time, if given)."""
    if ob.status.value != spec.status:
        return False
    if spec.status == "met" and spec.within is not None:
        return ob.closed_at is not None and ob.closed_at - ob.opened_at <= spec.within
    return True


def _listed(obligations: list[Obligation], state: ExerciseState) -> str:
    """``; `` and the first four obligations in words (and how many more), or nothing."""
    if not obligations:
        return ""
    text = "; " + "; ".join(_ob_text(o, state) for o in obligations[:4])
    return text + (f"; … {len(obligations) - 4} more" if len(obligations) > 4 else "")


def _messages(expectation: Expectation, spec: MessageCount, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    hits = [m.envelope for m in state.messages if m.copy == 1 and _message_matches(spec, m.envelope)]
    claim = f"{_bounds_text(spec)} {_messages_text(spec)}"
    listed = ", ".join(
        f"{e.id} {e.kind.value} {e.sender}→{e.recipient} at T{format_offset(e.sent_at - start)}" for e in hits[:4]
    )
    found = f"{len(hits)} sent" + (f": {listed}" if listed else "") + (" …" if len(hits) > 4 else "")
    return Verdict(expectation, _within_bounds(spec, len(hits)), claim, found)


def _message_matches(spec: MessageCount, env: Envelope) -> bool:
    return all(
        _wanted(want, got)
        for want, got in (
            (spec.kind, env.kind),
            (spec.sender, env.sender),
            (spec.recipient, env.recipient),
            (spec.channel, env.channel),
            (spec.incident, env.incident),
        )
    )


def _messages_text(spec: MessageCount) -> str:
    """``EARLY_WARNING from aa-cert to bb-cert on cert about INC-1``: the fields given."""
    parts = (
        spec.kind.value if spec.kind else "messages",
        f"from {spec.sender}" if spec.sender else "",
        f"to {spec.recipient}" if spec.recipient else "",
        f"on {spec.channel}" if spec.channel else "",
        f"about {spec.incident}" if spec.incident else "",
    )
    return " ".join(part for part in parts if part)


def _wanted(want: object, got: object) -> bool:
    """A filter field: not given (None), or equal to what the message or obligation has."""
    return want is None or want == got


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
    whom = f"state {spec.state}" if spec.state else "another state"
    claim = f"{spec.incident} reaches {whom} within {format_duration(spec.within)} of detection"
    if stats is None or stats.detected_at is None:
        return Verdict(expectation, ok=False, claim=claim, found="never detected (no detect inject ran)")
    notices = [
        m.envelope
        for m in state.messages
        if m.copy == 1 and m.envelope.incident == spec.incident and _crosses_border(m.envelope, state, spec.state)
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


def _crosses_border(env: Envelope, state: ExerciseState, into: str | None = None) -> bool:
    """The message goes from one state to another (``into``: to that state)."""
    agencies = {a.id: a.state for a in state.scenario.agencies}
    sender, recipient = agencies.get(env.sender), agencies.get(env.recipient)
    return sender != recipient and (into is None or recipient == into)


__all__ = ["Verdict", "check"]
