"""The scenario format: who takes part, how they are linked, how each behaves when automated,
what happens when (injects), and what a facilitator should see (``expect:``).

Loading is strict and every problem is reported as ``file:line:column: field.path: message``.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator
from pathlib import Path

from pydantic import ValidationError

from sim.model.agreement import Agreement
from sim.model.compose import scripted_body
from sim.model.durations import format_duration
from sim.model.scenario import Scenario, ScriptedMessage
from sim.scenario.errors import InputFileError, SourceError
from sim.scenario.yamlsrc import Loc, SourceMap, format_loc

Problem = tuple[Loc, str]


def _check(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    """Cross-references pydantic cannot see: ids that must exist, links the agreement allows."""
    yield from _check_parties(scenario)
    yield from _check_links(scenario, agreement)
    yield from check_injects(scenario, agreement)
    yield from _check_expect(scenario)


#: Ids of the exercise's own participants: no agency may take them.
RESERVED_IDS = frozenset({"director", "observer", "facilitator"})


def _unknown(kind: str, value: str, known: Iterable[str]) -> str:
    """``unknown agency 'us-certt' (did you mean 'us-cert'?)``"""
    names = sorted(known)
    close = difflib.get_close_matches(value, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names)}"
    return f"unknown {kind} {value!r} ({hint})"


def _check_parties(scenario: Scenario) -> Iterator[Problem]:
    states = [s.id for s in scenario.states]
    agencies = [a.id for a in scenario.agencies]
    for i, state in enumerate(scenario.states):
        if states.count(state.id) > 1:
            yield ("states", i, "id"), f"state {state.id!r} is listed twice"
    for i, agency in enumerate(scenario.agencies):
        if agencies.count(agency.id) > 1:
            yield ("agencies", i, "id"), f"agency {agency.id!r} is listed twice"
        if agency.id in RESERVED_IDS:
            yield (
                ("agencies", i, "id"),
                (f"{agency.id!r} is reserved for the exercise's own {agency.id} (broker account, client id)"),
            )
        if agency.state not in states:
            yield ("agencies", i, "state"), _unknown("state", agency.state, states)
    for key in scenario.policies:
        if key != "default" and key not in agencies:
            yield ("policies", key), _unknown("agency", key, [*agencies, "default"])


def _check_links(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    agencies = {a.id: a for a in scenario.agencies}
    for i, link in enumerate(scenario.links):
        for j, end in enumerate(link.between):
            if end not in agencies:
                yield ("links", i, "between", j), _unknown("agency", end, agencies)
        if agreement is None:
            continue
        channel = agreement.channel(link.channel)
        if channel is None:
            known = ", ".join(c.id for c in agreement.channels)
            yield (
                ("links", i, "channel"),
                f"protocol {agreement.id!r} has no channel {link.channel!r} (it has: {known})",
            )
            continue
        ends = [agencies[e] for e in link.between if e in agencies]
        if len(ends) != 2:
            continue
        same_state = ends[0].state == ends[1].state
        if channel.scope == "domestic" and not same_state:
            yield ("links", i, "between"), f"{channel.id} is domestic: both ends must be in one state"
        if channel.scope == "bilateral" and same_state:
            yield ("links", i, "between"), f"{channel.id} joins two states: the ends are both in {ends[0].state}"
        if channel.roles and sorted(channel.roles) != sorted(a.role for a in ends):
            roles = " and ".join(channel.roles)
            yield ("links", i, "between"), f"{channel.id} joins roles {roles}, not {' and '.join(a.role for a in ends)}"


def check_injects(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    states = {s.id for s in scenario.states}
    agencies = {a.id for a in scenario.agencies}
    for i, inject in enumerate(scenario.injects):
        where: Loc = ("injects", i)
        if inject.at > scenario.duration:
            yield (*where, "at"), f"after the end of the scenario (duration {format_duration(scenario.duration)})"
        if inject.detect:
            if inject.detect.agency not in agencies:
                yield (*where, "detect", "agency"), _unknown("agency", inject.detect.agency, agencies)
            origin = inject.detect.suspected_origin
            if origin is not None and origin not in states:
                yield (*where, "detect", "suspected_origin"), _unknown("state", origin, states)
            response = inject.detect.response
            if response is not None and response.state not in states:
                yield (*where, "detect", "response", "state"), _unknown("state", response.state, states)
        if inject.policy and inject.policy.agency not in agencies:
            yield (*where, "policy", "agency"), _unknown("agency", inject.policy.agency, agencies)
        if inject.link:
            if agreement is not None and agreement.channel(inject.link.channel) is None:
                yield (*where, "link", "channel"), f"protocol {agreement.id!r} has no channel {inject.link.channel!r}"
            for j, end in enumerate(inject.link.between or ()):
                if end not in agencies:
                    yield (*where, "link", "between", j), _unknown("agency", end, agencies)
        if inject.message:
            yield from _check_message(inject.message, (*where, "message"), agencies, agreement)


def _check_message(
    msg: ScriptedMessage, where: Loc, agencies: set[str], agreement: Agreement | None
) -> Iterator[Problem]:
    for field, agency_id in (("from", msg.from_), ("to", msg.to)):
        if agency_id not in agencies:
            yield (*where, field), _unknown("agency", agency_id, agencies)
    if agreement is not None and msg.channel is not None:
        channel = agreement.channel(msg.channel)
        if channel is None:
            yield (*where, "channel"), f"protocol {agreement.id!r} has no channel {msg.channel!r}"
        elif msg.kind not in channel.kinds:
            yield (*where, "kind"), f"{msg.kind.value} may not travel on {channel.id}"
    yield from _check_body(msg, (*where, "body"))


def _check_expect(scenario: Scenario) -> Iterator[Problem]:
    incidents = set(scenario.incidents())
    agencies = {a.id for a in scenario.agencies}
    objectives = [o.id for o in scenario.objectives]
    for i, objective in enumerate(scenario.objectives):
        if objectives.count(objective.id) > 1:
            yield ("objectives", i, "id"), f"objective {objective.id!r} is listed twice"
    for i, inject in enumerate(scenario.injects):
        if inject.objective is not None and inject.objective not in objectives:
            yield ("injects", i, "objective"), f"unknown objective {inject.objective!r}"
    for i, expectation in enumerate(scenario.expect):
        where: Loc = ("expect", i)
        if expectation.objective is not None and expectation.objective not in objectives:
            yield (*where, "objective"), f"unknown objective {expectation.objective!r}"
        kind = expectation.kind
        spec = getattr(expectation, kind)
        incident = getattr(spec, "incident", None)
        if kind in ("max_level", "final_level", "notified") and incident not in incidents:
            yield (*where, kind, "incident"), f"no inject creates incident {incident!r}"
        for field in ("owner", "sender", "recipient"):
            agency = getattr(spec, field, None)
            if agency is not None and agency not in agencies:
                yield (*where, kind, field), _unknown("agency", agency, agencies)


def _check_body(msg: ScriptedMessage, where: Loc) -> Iterator[tuple[Loc, str]]:
    """A scripted body is validated now, not when it is sent 40 sim-hours in."""
    try:
        scripted_body(msg)
    except ValidationError as exc:
        for err in exc.errors():
            loc = tuple(p for p in err["loc"] if p != msg.kind.value)
            yield (*where, *loc), err["msg"].removeprefix("Value error, ")


def _fail(path: Path, smap: SourceMap, problems: list[tuple[Loc, str]]) -> InputFileError:
    errors = []
    for loc, message in problems:
        mark = smap.values.get(loc) or smap.nearest(loc)[0]
        errors.append(
            SourceError(path, mark.line if mark else None, mark.column if mark else None, format_loc(loc), message)
        )
    return InputFileError(errors)
