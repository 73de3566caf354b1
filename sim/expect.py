"""Checking a scenario's ``expect:`` list against the folded journal (pure)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.durations import format_duration, format_offset
from sim.outcome import ExerciseState
from sim.protocol import Status
from sim.scenario import Expectation, MaxLevel, ObligationsMet


@dataclass(frozen=True)
class Verdict:
    expectation: Expectation
    ok: bool
    claim: str  # what was expected, in words
    found: str  # what happened, in words, with sim times and message ids when it failed


def check(state: ExerciseState) -> list[Verdict]:
    return [_one(e, state) for e in state.scenario.expect]


def _one(expectation: Expectation, state: ExerciseState) -> Verdict:
    start = state.scenario.start
    if expectation.max_level is not None:
        return _max_level(expectation, expectation.max_level, state)
    if expectation.obligations_met is not None:
        return _obligations(expectation, expectation.obligations_met, state)
    spec_lost = expectation.no_message_lost
    assert spec_lost is not None
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
