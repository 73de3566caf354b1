"""Cross-references pydantic cannot see: ids that must exist, links the agreement allows,
objectives that are named. Every problem is located (``file:line:column: field.path``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sim.model.agreement import Agreement, Channel
from sim.model.durations import format_duration
from sim.model.expectations import Expectation
from sim.model.refs import Known, Loc, Problem, unknown
from sim.model.scenario import Agency, Scenario
from sim.scenario.errors import InputFileError, SourceError
from sim.scenario.yamlsrc import SourceMap, format_loc


def _check(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    """Cross-references pydantic cannot see: ids that must exist, links the agreement allows."""
    yield from _check_parties(scenario)
    yield from _check_links(scenario, agreement)
    yield from check_injects(scenario, agreement)
    yield from _check_expect(scenario)


#: Ids of the exercise's own participants: no agency may take them.
RESERVED_IDS = frozenset({"director", "observer", "facilitator", "console"})


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
            yield ("agencies", i, "state"), unknown("state", agency.state, states)
    for key in scenario.policies:
        if key != "default" and key not in agencies:
            yield ("policies", key), unknown("agency", key, [*agencies, "default"])


def _check_links(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    agencies = {a.id: a for a in scenario.agencies}
    for i, link in enumerate(scenario.links):
        for j, end in enumerate(link.between):
            if end not in agencies:
                yield ("links", i, "between", j), unknown("agency", end, agencies)
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
        if len(ends) == 2:
            yield from ((("links", i, "between"), problem) for problem in _ends_problems(channel, ends[0], ends[1]))


def _ends_problems(channel: Channel, x: Agency, y: Agency) -> Iterator[str]:
    """Why a channel may not join these two agencies (its scope, its roles)."""
    same_state = x.state == y.state
    if channel.scope == "domestic" and not same_state:
        yield f"{channel.id} is domestic: both ends must be in one state"
    if channel.scope == "bilateral" and same_state:
        yield f"{channel.id} joins two states: the ends are both in {x.state}"
    if channel.roles and sorted(channel.roles) != sorted((x.role, y.role)):
        yield f"{channel.id} joins roles {' and '.join(channel.roles)}, not {x.role} and {y.role}"


def check_injects(scenario: Scenario, agreement: Agreement | None) -> Iterator[Problem]:
    known = Known(frozenset(s.id for s in scenario.states), frozenset(a.id for a in scenario.agencies), agreement)
    for i, inject in enumerate(scenario.injects):
        where: Loc = ("injects", i)
        if inject.at > scenario.duration:
            yield (*where, "at"), f"after the end of the scenario (duration {format_duration(scenario.duration)})"
        for loc, message in inject.action.problems(known):
            yield (*where, inject.kind, *loc), message


def _check_expect(scenario: Scenario) -> Iterator[Problem]:
    objectives = [o.id for o in scenario.objectives]
    for i, objective in enumerate(scenario.objectives):
        if objectives.count(objective.id) > 1:
            yield ("objectives", i, "id"), f"objective {objective.id!r} is listed twice"
    for i, inject in enumerate(scenario.injects):
        if inject.objective is not None and inject.objective not in objectives:
            yield ("injects", i, "objective"), f"unknown objective {inject.objective!r}"
    for i, expectation in enumerate(scenario.expect):
        if expectation.objective is not None and expectation.objective not in objectives:
            yield ("expect", i, "objective"), f"unknown objective {expectation.objective!r}"
        yield from _expectation_refs(scenario, ("expect", i), expectation)


def _expectation_refs(scenario: Scenario, where: Loc, expectation: Expectation) -> Iterator[Problem]:
    """The incident, agencies and states one expectation names."""
    kind = expectation.kind
    incident = expectation.incident
    if kind in ("max_level", "final_level", "notified") and incident not in scenario.incidents():
        yield (*where, kind, "incident"), f"no inject creates incident {incident!r}"
    agencies = {a.id for a in scenario.agencies}
    for field, agency in expectation.agencies():
        if agency not in agencies:
            yield (*where, kind, field), unknown("agency", agency, agencies)
    states = {s.id for s in scenario.states}
    for path, state in expectation.states():
        if state not in states:
            loc = tuple(int(p) if p.isdigit() else p for p in path.split("."))
            yield (*where, kind, *loc), unknown("state", state, states)


def _fail(path: Path, smap: SourceMap, problems: list[tuple[Loc, str]]) -> InputFileError:
    errors = []
    for loc, message in problems:
        mark = smap.values.get(loc) or smap.nearest(loc)[0]
        errors.append(
            SourceError(path, mark.line if mark else None, mark.column if mark else None, format_loc(loc), message)
        )
    return InputFileError(errors)
