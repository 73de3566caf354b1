"""``hotline test`` output (pure), the newer expectation kinds, and the checks that tie
expectations and injects to objectives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from sim.evaluation.expect import Verdict, check
from sim.evaluation.journalfile import read_entries, read_header
from sim.evaluation.outcome import fold
from sim.evaluation.suite import ScenarioOutcome, explain, outcome_lines, totals_line
from sim.model.expectations import EXPECTATION
from sim.runtime.batch import collect
from sim.scenario.errors import InputFileError
from sim.scenario.load import load_scenario
from tests.unit.eval_journal import journal_of
from tests.unit.factories import SCENARIOS, scenario_data

DETECT = {"agency": "aa-cert", "incident": "INC-1", "severity": 2, "summary": "intrusion", "suspected_origin": "bb"}


def _verdict(ok: bool, claim: str = "INC-1 peaks at most 1", found: str = "peaked at 2") -> Verdict:
    return Verdict(EXPECTATION.validate_python({"max_level": {"incident": "INC-1", "at_most": 1}}), ok, claim, found)


def test_a_passing_scenario_is_one_line() -> None:
    outcome = ScenarioOutcome("s1", Path("s1.yaml"), (_verdict(ok=True),), protocol="p", seed=1, messages=3)
    (line,) = outcome_lines(outcome)
    assert line.startswith("PASS  s1  (1/1 expectations · 3 messages")
    assert "protocol p · seed 1" in line


def test_a_failure_is_explained_with_sim_time_and_messages() -> None:
    context = {1: ("T+03:20 INC-1 ▲ L1→L2 FORMAL INQUIRY: REQUEST_INFO aa-nrrc→bb-nrrc on nrrc [aa-nrrc-1]",)}
    outcome = ScenarioOutcome(
        "s2", Path("s2.yaml"), (_verdict(ok=True), _verdict(ok=False)), protocol="p", seed=1, context=context
    )
    lines = outcome_lines(outcome)
    assert lines[0].startswith("FAIL  s2  (1/2 expectations")
    assert lines[1] == "      ✗ expect[1] INC-1 peaks at most 1"
    assert lines[2] == "          found: peaked at 2"
    assert "[aa-nrrc-1]" in lines[3]
    assert "T+03:20" in lines[3]


def test_bad_input_and_no_expectations_fail() -> None:
    bad = ScenarioOutcome("x.yaml", Path("x.yaml"), error="error: x.yaml:3:1: id: required", bad_input=True)
    assert outcome_lines(bad) == ["ERROR x.yaml", "      error: x.yaml:3:1: id: required"]
    empty = ScenarioOutcome("e", Path("e.yaml"), ())
    assert not empty.ok
    assert "expect: is empty" in outcome_lines(empty)[1]
    good = ScenarioOutcome("g", Path("g.yaml"), (_verdict(ok=True),))
    # a scenario that cannot run is an error, not a failed expectation
    assert totals_line([good, bad, empty]) == "1 passed, 1 failed, 1 error"
    assert totals_line([good]) == "1 passed, 0 failed"


def test_collect_takes_files_ids_and_directories_but_not_protocols(tmp_path: Path) -> None:
    paths = collect([str(SCENARIOS)])
    assert paths
    assert all(p.parent == SCENARIOS for p in paths)
    assert not any("protocols" in p.parts for p in paths)
    assert collect(["election-interference"]) == [SCENARIOS / "election-interference.yaml"]
    assert collect([str(tmp_path / "missing.yaml")]) == [tmp_path / "missing.yaml"]


def _state(tmp_path: Path, **overrides: Any) -> Any:
    data = scenario_data(
        policies={"default": {"reliability": 1.0, "notify_delay": ["10m", "10m"], "ack_delay": ["10m", "10m"]}},
        injects=[
            {"at": "+01:00", "detect": DETECT},
            {"at": "+02:00", "message": {"from": "aa-cert", "to": "bb-cert", "kind": "COMM_CHECK"}},
        ],
        **overrides,
    )
    journal = journal_of(data, tmp_path)
    state, _ = fold(read_header(journal), read_entries(journal))
    return state


@pytest.mark.parametrize(
    ("spec", "ok"),
    [
        ({"messages": {"kind": "EARLY_WARNING", "sender": "aa-cert", "at_least": 1}}, True),
        ({"messages": {"kind": "EARLY_WARNING", "sender": "aa-cert", "at_most": 0}}, False),
        ({"messages": {"channel": "leaders", "at_least": 1}}, False),
        ({"obligation_count": {"kind": "EARLY_WARNING", "status": "met", "within": "1h", "at_least": 1}}, True),
        ({"obligation_count": {"kind": "EARLY_WARNING", "status": "met", "within": "5m", "at_least": 1}}, False),
        ({"obligation_count": {"kind": "COMM_CHECK", "status": "missed", "at_most": 0}}, True),
        ({"check_depth": {"depth": "AUTHORITY", "at_least": 1}}, True),
        ({"check_depth": {"depth": "AUTHORITY", "at_least": 2}}, False),
        ({"notified": {"incident": "INC-1", "within": "12m"}}, True),  # sent after 10m, 2m in transit
        ({"notified": {"incident": "INC-1", "within": "11m"}}, False),  # sent in time, but not yet received
        ({"notified": {"incident": "INC-1", "within": "9m"}}, False),
        ({"final_level": {"incident": "INC-1", "at_most": 1}}, True),
        ({"final_level": {"incident": "INC-1", "at_most": 0}}, False),
    ],
)
def test_newer_expectation_kinds(tmp_path: Path, spec: dict[str, Any], ok: bool) -> None:
    state = _state(tmp_path, expect=[spec])
    (verdict,) = check(state)
    assert verdict.ok is ok, f"{verdict.claim}: {verdict.found}"
    assert verdict.claim
    assert verdict.found


def test_explain_lists_the_level_changes_of_a_failed_incident_expectation(tmp_path: Path) -> None:
    state = _state(tmp_path, expect=[{"max_level": {"incident": "INC-1", "at_most": 0}}])
    (verdict,) = check(state)
    assert not verdict.ok
    (line,) = explain(verdict, state)
    assert line.startswith("T+01:10 INC-1 ▲ L0→L1 TECHNICAL CONCERN: EARLY_WARNING aa-cert→bb-cert")


def test_unknown_objectives_are_input_errors(tmp_path: Path) -> None:
    text = (SCENARIOS / "sinkhole-takedown.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("    objective: O-2\n", "    objective: O-9\n", 1))
    with pytest.raises(InputFileError) as caught:
        load_scenario(bad)
    (error,) = caught.value.errors
    assert "unknown objective 'O-9'" in str(error)
    assert error.line == text.splitlines().index("    objective: O-2") + 1


def test_bounds_need_a_bound_and_in_order() -> None:
    with pytest.raises(ValueError, match="give at_least and/or at_most"):
        EXPECTATION.validate_python({"messages": {"kind": "ACK"}})
    with pytest.raises(ValueError, match="at_least is more than at_most"):
        EXPECTATION.validate_python({"messages": {"kind": "ACK", "at_least": 3, "at_most": 1}})
