"""Scenario loading: the shipped scenario loads, and every error names file, line, column and
field path (checked against deliberately broken copies written to tmp_path)."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from sim.core.roster import Roster
from sim.model.expectations import EXPECTATION
from sim.model.injects import INJECT, FaultKind, LinkFault
from sim.model.policy import Disposition, Policy
from sim.model.scenario import Link, Scenario
from sim.scenario.errors import InputFileError, NotFound, SourceError
from sim.scenario.load import find_scenario, load_scenario, shipped_scenarios
from sim.scenario.yamlsrc import format_loc, load_yaml

from .factories import ELECTION, scenario, scenario_data

SHIPPED_TEXT = ELECTION.read_text(encoding="utf-8")


def _at(text: str, needle: str, column_of: str | None = None) -> tuple[int, int]:
    """1-based (line, column) of ``column_of`` (default: the needle) on the needle's line."""
    assert text.count(needle) == 1, f"anchor {needle!r} must occur exactly once"
    before = text[: text.index(needle)]
    line = before.count("\n") + 1
    line_text = text.splitlines()[line - 1]
    return line, line_text.index(column_of or needle.splitlines()[0].strip()) + 1


def _broken(tmp_path: Path, old: str, new: str) -> tuple[Path, str]:
    """A copy of the shipped scenario with ``old`` (which must occur once) replaced."""
    assert SHIPPED_TEXT.count(old) == 1, f"anchor {old!r} must occur exactly once in the shipped scenario"
    text = SHIPPED_TEXT.replace(old, new)
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    return path, text


def _only_error(path: Path, protocol: str | None = None) -> SourceError:
    with pytest.raises(InputFileError) as info:
        load_scenario(path, protocol=protocol)
    errors = info.value.errors
    assert len(errors) == 1, errors
    assert errors[0].file == path
    return errors[0]


def _write(tmp_path: Path, data: dict[str, Any]) -> Path:
    path = tmp_path / "scenario.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# -- the shipped scenario ----------------------------------------------------------------------


def test_shipped_scenario_loads() -> None:
    loaded = load_scenario(ELECTION)
    scenario_ = loaded.scenario
    assert scenario_.id == "election-interference"
    assert loaded.agreement.id == "bilateral-2013"
    assert loaded.sha256 == hashlib.sha256(ELECTION.read_bytes()).hexdigest()
    assert {a.id for a in scenario_.agencies} == {
        "us-cert",
        "us-nrrc",
        "us-leader",
        "ru-cert",
        "ru-nrrc",
        "ru-leader",
    }
    assert scenario_.injects[0].at == timedelta(minutes=30)
    assert scenario_.injects[0].kind == "message"
    assert scenario_.incidents() == ["EI-1", "EI-2"]
    assert scenario_.end - scenario_.start == timedelta(hours=72)


def test_shipped_scenario_policies_merge_default_and_own() -> None:
    scenario_ = load_scenario(ELECTION).scenario
    ru_cert = scenario_.policy_for("ru-cert")
    assert ru_cert.disposition is Disposition.GUARDED
    assert ru_cert.reliability == 0.75
    assert ru_cert.notify_delay == (timedelta(minutes=15), timedelta(minutes=45))  # from default
    us_cert = scenario_.policy_for("us-cert")
    assert us_cert.disposition is Disposition.COOPERATIVE
    assert us_cert.reliability == 0.95
    assert us_cert.answer_delay == (timedelta(hours=3), timedelta(hours=12))


def test_shipped_scenarios_include_election_interference() -> None:
    assert ELECTION.name in {p.name for p in shipped_scenarios()}
    assert find_scenario("election-interference").name == ELECTION.name
    assert find_scenario(str(ELECTION)) == ELECTION


def test_find_scenario_unknown_name_lists_shipped() -> None:
    with pytest.raises(NotFound) as info:
        find_scenario("no-such-scenario")
    assert "election-interference" in info.value.known


def test_scenario_and_agreement_survive_a_json_round_trip() -> None:
    """The journal header carries both; replay must read back what was run."""
    loaded = load_scenario(ELECTION)
    again = Scenario.model_validate_json(loaded.scenario.model_dump_json(by_alias=True))
    assert again == loaded.scenario
    agreement = type(loaded.agreement).model_validate_json(loaded.agreement.model_dump_json(by_alias=True))
    assert agreement == loaded.agreement


def test_protocol_override_drops_links_of_unknown_channels() -> None:
    loaded = load_scenario(ELECTION, protocol="none")
    assert loaded.agreement.id == "none"
    roster = Roster.build(loaded.scenario, loaded.agreement)
    assert sorted(roster.dropped) == [
        "cert:us-cert~ru-cert",
        "leaders:us-leader~ru-leader",
        "nrrc:us-nrrc~ru-nrrc",
    ]
    assert roster.has_link("diplomatic", "us-leader", "ru-leader")
    assert not any(key.channel in ("cert", "nrrc", "leaders") for key in roster.latency)


def test_protocol_override_with_an_unknown_name_raises_not_found() -> None:
    with pytest.raises(NotFound) as info:
        load_scenario(ELECTION, protocol="no-such-protocol")
    known = info.value.known
    assert known == sorted(known)
    assert {"bilateral-2013", "incsea-cyber", "none"} <= set(known)


def test_protocol_override_still_reports_other_errors(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "      agency: ru-cert\n", "      agency: ru-certt\n")
    err = _only_error(path, protocol="none")
    assert err.field == "injects[7].detect.agency"
    assert (err.line, err.column) == _at(text, "agency: ru-certt", "ru-certt")


# -- errors located in a broken copy of the shipped scenario ------------------------------------


def test_typo_in_a_field_name_suggests_the_right_one(tmp_path: Path) -> None:
    old = "    escalation_threshold: 4   # Washington"
    path, text = _broken(tmp_path, old, old.replace("threshold", "treshold"))
    err = _only_error(path)
    assert err.field == "policies.us-nrrc.escalation_treshold"
    assert err.message == "unknown field 'escalation_treshold' (did you mean 'escalation_threshold'?)"
    assert (err.line, err.column) == _at(text, "escalation_treshold: 4")  # the key itself


def test_typo_in_a_nested_inject_field(tmp_path: Path) -> None:
    path, text = _broken(
        tmp_path, '      severity: 2\n      summary: "Intrusion', '      severty: 2\n      summary: "Intrusion'
    )
    with pytest.raises(InputFileError) as info:
        load_scenario(path)
    by_field = {e.field: e for e in info.value.errors}
    typo = by_field["injects[1].detect.severty"]
    assert "did you mean 'severity'?" in typo.message
    assert (typo.line, typo.column) == _at(text, "severty: 2")
    # the real field is now missing, but the did-you-mean says so already: one error, not two
    assert "injects[1].detect.severity" not in by_field
    assert len(info.value.errors) == 1


def test_unknown_field_without_a_close_match_lists_the_known_ones(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "seed: 2016\n", "seed: 2016\nxylophone: 3\n")
    err = _only_error(path)
    assert err.field == "xylophone"
    assert err.message.startswith("unknown field 'xylophone' (expected one of: ")
    assert "agencies" in err.message
    assert "injects" in err.message
    assert (err.line, err.column) == _at(text, "xylophone: 3")


def test_wrong_type(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "seed: 2016", "seed: lots")
    err = _only_error(path)
    assert err.field == "seed"
    assert "valid integer" in err.message
    assert (err.line, err.column) == _at(text, "seed: lots", "lots")


def test_unknown_agency_reference(tmp_path: Path) -> None:
    path, text = _broken(
        tmp_path,
        "    detect:\n      agency: us-cert\n      incident: EI-1\n      severity: 2",
        ("    detect:\n      agency: us-certt\n      incident: EI-1\n      severity: 2"),
    )
    err = _only_error(path)
    assert err.field == "injects[1].detect.agency"
    assert err.message == "unknown agency 'us-certt' (did you mean 'us-cert'?)"
    assert (err.line, err.column) == _at(text, "agency: us-certt", "us-certt")
    assert str(err) == f"{path}:{err.line}:{err.column}: injects[1].detect.agency: {err.message}"


def test_bad_duration(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "duration: 72h", "duration: 72 hours")
    err = _only_error(path)
    assert err.field == "duration"
    assert err.message == "'72 hours' is not a duration (write e.g. 90s, 45m, 1h30m, 3d)"
    assert (err.line, err.column) == _at(text, "duration: 72 hours", "72 hours")


def test_bad_duration_in_a_flow_mapping(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "ru-cert],     latency: 2m}", "ru-cert],     latency: 2 min}")
    err = _only_error(path)
    assert err.field == "links[0].latency"
    assert (err.line, err.column) == _at(text, "latency: 2 min}", "2 min")


def test_number_without_unit(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "duration: 72h", "duration: 72")
    err = _only_error(path)
    assert err.message == "72 has no unit (write e.g. 72m or 72h)"


def test_two_actions_in_one_inject(tmp_path: Path) -> None:
    old = "    link: {channel: cert, between: [us-cert, ru-cert], fault: down, for: 8h}\n"
    path, text = _broken(tmp_path, old, old + "    policy: {agency: ru-nrrc, set: {reliability: 0.5}}\n")
    err = _only_error(path)
    assert err.field == "injects[3]"
    assert err.message == "an inject has exactly one of: detect, link, message, policy (got link, policy)"
    line, _ = _at(text, '  - at: "+20:00"')
    assert (err.line, err.column) == (line, 5)  # the inject's mapping starts at "at"


def test_missing_required_field_points_at_its_parent(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, 'title: "Election infrastructure intrusion, traces to Russia"\n', "")
    err = _only_error(path)
    assert err.field == "title"
    assert err.message == "Field required"
    assert (err.line, err.column) == _at(text, "id: election-interference")


def test_yaml_syntax_error(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "  - {id: us, name: United States}", "  - {id: us, name: United States")
    err = _only_error(path)
    assert err.field == ""
    assert err.message.startswith("YAML syntax: ")
    # PyYAML notices the unclosed flow mapping where the next one begins
    assert (err.line, err.column) == _at(text, "  - {id: ru, name: Russian Federation}", "{")


def test_invalid_scripted_message_body(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, '        demand: "Cease all activity against US election infrastructure."\n', "")
    err = _only_error(path)
    assert err.field == "injects[5].message.body.demand"
    assert err.message == "Field required"
    assert (err.line, err.column) == _at(text, '        basis: "Intrusions', "basis")


def test_scripted_message_body_with_an_unknown_field(tmp_path: Path) -> None:
    old = '        demand: "Cease all activity against US election infrastructure."\n'
    path, text = _broken(tmp_path, old, old + "        colour: red\n")
    err = _only_error(path)
    assert err.field == "injects[5].message.body.colour"
    assert err.line == _at(text, "colour: red")[0]


def test_unknown_protocol_name(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "protocol: bilateral-2013", "protocol: bilateral-2031")
    err = _only_error(path)
    assert err.field == "protocol"
    assert "no protocol file or shipped protocol named 'bilateral-2031'" in err.message
    assert "bilateral-2013, incsea-cyber, none" in err.message
    assert (err.line, err.column) == _at(text, "protocol: bilateral-2031", "bilateral-2031")


def test_link_on_a_channel_the_protocol_lacks(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, "  - {channel: nrrc,    between", "  - {channel: nrcc,    between")
    err = _only_error(path)
    assert err.field == "links[1].channel"
    assert err.message == "protocol 'bilateral-2013' has no channel 'nrcc' (it has: domestic, cert, nrrc, leaders)"
    assert (err.line, err.column) == _at(text, "channel: nrcc", "nrcc")


def test_several_problems_are_reported_together(tmp_path: Path) -> None:
    path, _ = _broken(tmp_path, "      agency: ru-cert\n", "      agency: nobody\n")
    text = path.read_text().replace(
        "      agency: us-cert\n      incident: EI-1\n      severity: 2",
        ("      agency: nobody2\n      incident: EI-1\n      severity: 2"),
    )
    path.write_text(text)
    with pytest.raises(InputFileError) as info:
        load_scenario(path)
    assert [e.field for e in info.value.errors] == ["injects[1].detect.agency", "injects[7].detect.agency"]
    assert len(str(info.value).splitlines()) == 2


def test_missing_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.yaml"
    err = _only_error(missing)
    assert err.line is None
    assert err.column is None
    assert str(err).startswith(str(missing))


# -- YAML 1.2-ish scalars ---------------------------------------------------------------------

_MINIMAL = """\
id: norway
title: "Norway problem"
protocol: bilateral-2013
start: 2026-01-01T00:00:00Z
duration: 48h
states:
  - {id: no, name: Norway}
  - {id: se, name: Sweden}
agencies:
  - {id: no-cert, state: no, role: cert, name: "NorCERT"}
  - {id: se-cert, state: se, role: cert, name: "CERT-SE"}
links:
  - {channel: cert, between: [no-cert, se-cert], latency: 2m}
injects:
  - at: +26:30
    detect: {agency: no-cert, incident: N-1, severity: 1, summary: "scan", suspected_origin: se}
"""


def test_sexagesimal_offset_and_norway_stay_strings(tmp_path: Path) -> None:
    path = tmp_path / "norway.yaml"
    path.write_text(_MINIMAL, encoding="utf-8")
    data, smap = load_yaml(path)
    assert data["injects"][0]["at"] == "+26:30"
    assert data["states"][0]["id"] == "no"
    assert data["start"] == "2026-01-01T00:00:00Z"  # timestamps are left to pydantic
    assert smap.values[("injects", 0, "at")].line == 15
    loaded = load_scenario(path)
    assert loaded.scenario.injects[0].at == timedelta(hours=26, minutes=30)
    assert loaded.scenario.states[0].id == "no"
    assert loaded.scenario.agencies[0].state == "no"


@pytest.mark.parametrize(
    ("scalar", "expected"),
    [
        ("yes", "yes"),
        ("off", "off"),
        ("No", "No"),
        ("true", True),
        ("False", False),
        ("1_000", 1000),
        ("010", "010"),
        ("0.5", 0.5),
        ("~", None),
        ("null", None),
        ("12:30", "12:30"),
        ("2026-01-01", "2026-01-01"),
    ],
)
def test_strict_scalars(tmp_path: Path, scalar: str, expected: object) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(f"value: {scalar}\n")
    data, _ = load_yaml(path)
    assert data == {"value": expected}
    assert type(data["value"]) is type(expected)


def test_duplicate_key_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "dup.yaml"
    path.write_text("a: 1\nb:\n  c: 1\n  c: 2\n")
    with pytest.raises(InputFileError) as info:
        load_yaml(path)
    (err,) = info.value.errors
    assert (err.line, err.column, err.field, err.message) == (4, 3, "b.c", "duplicate key")


def test_empty_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "empty.yaml"
    path.write_text("# only a comment\n")
    with pytest.raises(InputFileError, match="the file is empty"):
        load_yaml(path)


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- a\n- b\n")
    with pytest.raises(InputFileError, match="the top level must be a mapping"):
        load_scenario(path)


def test_format_loc() -> None:
    assert format_loc(("injects", 3, "detect", "agency")) == "injects[3].detect.agency"
    assert format_loc(("links", 0, "between", 1)) == "links[0].between[1]"
    assert format_loc(()) == ""


# -- cross-reference checks on a scenario built in code ---------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _add_inject(inject: dict[str, Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data.setdefault("injects", []).append(inject)

    return mutate


def _set(path: tuple[str | int, ...], value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        node: Any = data
        for part in path[:-1]:
            node = node[part]
        node[path[-1]] = value

    return mutate


_DETECT = {"agency": "aa-cert", "incident": "INC-1", "severity": 1, "summary": "s", "suspected_origin": "bb"}

CROSS_CHECKS: list[tuple[str, Mutation, str, str]] = [
    ("state twice", _set(("states", 1, "id"), "aa"), "states[1].id", "state 'aa' is listed twice"),
    ("agency twice", _set(("agencies", 1, "id"), "aa-cert"), "agencies[1].id", "agency 'aa-cert' is listed twice"),
    ("unknown state", _set(("agencies", 0, "state"), "cc"), "agencies[0].state", "unknown state 'cc'"),
    ("policy for nobody", _set(("policies",), {"zz": {"reliability": 0.5}}), "policies.zz", "unknown agency 'zz'"),
    ("link end", _set(("links", 0, "between", 1), "zz-cert"), "links[0].between[1]", "unknown agency 'zz-cert'"),
    (
        "domestic across states",
        _set(("links",), [{"channel": "domestic", "between": ["aa-cert", "bb-cert"], "latency": "1m"}]),
        "links[0].between",
        "domestic is domestic: both ends must be in one state",
    ),
    (
        "bilateral within a state",
        _set(("links",), [{"channel": "nrrc", "between": ["aa-nrrc", "aa-leader"], "latency": "1m"}]),
        "links[0].between",
        "nrrc joins two states: the ends are both in aa",
    ),
    (
        "wrong roles",
        _set(("links",), [{"channel": "cert", "between": ["aa-cert", "bb-nrrc"], "latency": "1m"}]),
        "links[0].between",
        "cert joins roles cert and cert, not cert and nrrc",
    ),
    ("inject after the end", _add_inject({"at": "+73:00", "detect": _DETECT}), "injects[0].at", "after the end"),
    (
        "unknown origin",
        _add_inject({"at": "+01:00", "detect": {**_DETECT, "suspected_origin": "cc"}}),
        "injects[0].detect.suspected_origin",
        "unknown state 'cc'",
    ),
    (
        "policy change for nobody",
        _add_inject({"at": "+01:00", "policy": {"agency": "zz", "set": {"reliability": 0.1}}}),
        "injects[0].policy.agency",
        "unknown agency 'zz'",
    ),
    (
        "fault on an unknown channel",
        _add_inject({"at": "+01:00", "link": {"channel": "pigeon", "fault": "down"}}),
        "injects[0].link.channel",
        "protocol 'bilateral-2013' has no channel 'pigeon'",
    ),
    (
        "fault between unknown agencies",
        _add_inject({"at": "+01:00", "link": {"channel": "cert", "between": ["aa-cert", "zz"], "fault": "down"}}),
        "injects[0].link.between[1]",
        "unknown agency 'zz'",
    ),
    (
        "message from nobody",
        _add_inject(
            {"at": "+01:00", "message": {"from": "zz", "to": "bb-cert", "kind": "GOODWILL", "body": {"text": "hi"}}}
        ),
        "injects[0].message.from",
        "unknown agency 'zz'",
    ),
    (
        "kind not allowed on the channel",
        _add_inject(
            {
                "at": "+01:00",
                "message": {
                    "from": "aa-cert",
                    "to": "bb-cert",
                    "channel": "cert",
                    "kind": "WARNING",
                    "incident": "I",
                    "body": {"demand": "d", "basis": "b"},
                },
            }
        ),
        "injects[0].message.kind",
        "WARNING may not travel on cert",
    ),
    (
        "message on an unknown channel",
        _add_inject(
            {
                "at": "+01:00",
                "message": {
                    "from": "aa-cert",
                    "to": "bb-cert",
                    "channel": "fax",
                    "kind": "GOODWILL",
                    "body": {"text": "t"},
                },
            }
        ),
        "injects[0].message.channel",
        "protocol 'bilateral-2013' has no channel 'fax'",
    ),
    (
        "expectation on an incident nobody creates",
        _set(("expect",), [{"max_level": {"incident": "NOPE", "at_most": 2}}]),
        "expect[0].max_level.incident",
        "no inject creates incident 'NOPE'",
    ),
    (
        "expectation of an unknown owner",
        _set(("expect",), [{"obligations_met": {"kind": "EARLY_WARNING", "owner": "zz", "within": "1h"}}]),
        "expect[0].obligations_met.owner",
        "unknown agency 'zz'",
    ),
]


@pytest.mark.parametrize(
    ("mutate", "field", "message"), [c[1:] for c in CROSS_CHECKS], ids=[c[0] for c in CROSS_CHECKS]
)
def test_cross_reference_errors(tmp_path: Path, mutate: Mutation, field: str, message: str) -> None:
    data = scenario_data()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(InputFileError) as info:
        load_scenario(path)
    matching = [e for e in info.value.errors if e.field == field]
    assert matching, [str(e) for e in info.value.errors]
    assert message in matching[0].message
    assert matching[0].line is not None


def test_the_code_built_scenario_itself_is_valid(tmp_path: Path) -> None:
    loaded = load_scenario(_write(tmp_path, scenario_data()))
    assert loaded.scenario == scenario()


# -- model validators --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel": "cert", "between": ["a", "b"], "latency": "0s"}, "latency must be positive"),
        ({"channel": "cert", "between": ["a", "a"], "latency": "1m"}, "a link joins two different agencies"),
    ],
)
def test_link_validation(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        Link.model_validate(data)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"channel": "cert", "fault": "latency"}, "fault: latency needs 'latency'"),
        ({"channel": "cert", "fault": "latency", "latency": "0s"}, "latency must be positive"),
        ({"channel": "cert", "fault": "loss"}, "fault: loss needs 'rate'"),
        ({"channel": "cert", "fault": "duplicate"}, "fault: duplicate needs 'rate'"),
        ({"channel": "cert", "fault": "up", "for": "1h"}, "fault: up restores the link; it takes no 'for'"),
        ({"channel": "cert", "fault": "loss", "rate": 1.5}, "less than or equal to 1"),
    ],
)
def test_link_fault_validation(data: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        LinkFault.model_validate(data)


def test_link_fault_for_is_an_alias() -> None:
    fault = LinkFault.model_validate({"channel": "cert", "fault": "down", "for": "8h"})
    assert fault.for_ == timedelta(hours=8)
    assert fault.fault is FaultKind.DOWN
    assert fault.model_dump(by_alias=True, mode="json")["for"] == "8h"


def test_policy_ranges_must_be_ordered() -> None:
    with pytest.raises(ValidationError, match=r"write \[shortest, longest\] with shortest <= longest") as info:
        Policy.model_validate({"ack_delay": ["2h", "1h"]})
    assert info.value.errors()[0]["loc"] == ("ack_delay",)  # located at the field itself


def test_inject_needs_one_action() -> None:
    with pytest.raises(ValidationError, match="an inject has exactly one of: detect, link, message, policy") as info:
        INJECT.validate_python({"at": "+01:00"})
    assert "(got" not in str(info.value)


def test_expectation_needs_exactly_one_check() -> None:
    with pytest.raises(ValidationError, match="an expectation has exactly one of"):
        EXPECTATION.validate_python({"no_message_lost": {}, "max_level": {"incident": "I", "at_most": 1}})
    with pytest.raises(ValidationError, match="give at_most and/or at_least"):
        EXPECTATION.validate_python({"max_level": {"incident": "I"}})


def test_scenario_duration_must_be_positive() -> None:
    with pytest.raises(ValidationError, match="duration must be positive"):
        scenario(duration="0s")


def test_policy_for_uses_builtin_defaults_without_patches() -> None:
    assert scenario().policy_for("aa-cert") == Policy()
    patched = scenario(policies={"default": {"reliability": 0.5}, "aa-cert": {"disposition": "denying"}})
    assert patched.policy_for("aa-cert").reliability == 0.5
    assert patched.policy_for("aa-cert").disposition is Disposition.DENYING
    assert patched.policy_for("bb-cert").disposition is Disposition.COOPERATIVE


def test_inject_time_without_plus_and_colon_is_an_error(tmp_path: Path) -> None:
    path, text = _broken(tmp_path, '  - at: "+01:30"', "  - at: 90")
    err = _only_error(path)
    assert err.field == "injects[1].at"
    assert (err.line, err.column) == _at(text, "at: 90", "90")
