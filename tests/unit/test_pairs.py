"""Incidents between more than two states: the ladder per incident and pair of states, the
checks that name a pair or a state, and detections that name the states affected."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.core.ladder import Ladder, pair_label
from sim.evaluation.expect import check
from sim.evaluation.journalfile import read_entries, read_header
from sim.evaluation.outcome import ExerciseState, fold
from sim.evaluation.report import build, render
from sim.model.messages import Body, Envelope, Kind, encode
from sim.model.scenario import Scenario
from sim.model.topics import Topics
from sim.scenario.errors import InputFileError
from sim.scenario.load import load_scenario
from tui.model import DashboardModel
from tui.timeaxis import Window
from tui.timeline import RowSpec, row_of, row_specs

from .eval_journal import journal_of, run_in_memory
from .factories import EXERCISE, T0, agreement, envelope, hours, three_state_data

STATES = {f"{s}-{role}": s for s in ("de", "pl", "ee") for role in ("cert", "nrrc")}
_seq = iter(range(1, 1_000_000))


def _env(
    kind: Kind | Body, sender: str, recipient: str, channel: str, *, severity: int = 0, at: datetime = T0
) -> Envelope:
    return envelope(
        kind, sender=sender, recipient=recipient, channel=channel, severity=severity, seq=next(_seq), sent_at=at
    )


def test_a_stand_down_between_one_pair_leaves_the_other_pair_where_it_is() -> None:
    ladder = Ladder(agreement("bilateral-2013"), STATES)
    ladder.observe(_env(Kind.EARLY_WARNING, "de-cert", "pl-cert", "cert"), T0)
    ladder.observe(_env(Kind.WARNING, "de-nrrc", "ee-nrrc", "nrrc", at=T0 + hours(1)), T0 + hours(1))
    ladder.observe(_env(Kind.CONSULT_REQUEST, "de-nrrc", "pl-nrrc", "nrrc", at=T0 + hours(2)), T0 + hours(2))
    assert ladder.level("INC-1", ("pl", "de")) == 3
    assert ladder.level("INC-1", ("de", "ee")) == 4
    change = ladder.observe(_env(Kind.STAND_DOWN, "pl-nrrc", "de-nrrc", "nrrc", at=T0 + hours(3)), T0 + hours(3))
    assert change is None  # the incident stays where DE-EE is
    assert ladder.level("INC-1", ("de", "pl")) == 0
    assert ladder.level("INC-1", ("de", "ee")) == 4
    assert ladder.level("INC-1") == 4
    assert [pair_label(p) for p in ladder.pairs("INC-1")] == ["de–pl", "de–ee"]
    assert [c.level for c in ladder.changes("INC-1", ("de", "pl"))] == [1, 3, 0]
    assert ladder.top_pair("INC-1") == ("de", "ee")


def test_the_incident_comes_down_when_its_last_high_pair_does() -> None:
    ladder = Ladder(agreement("bilateral-2013"), STATES)
    ladder.observe(_env(Kind.WARNING, "de-nrrc", "pl-nrrc", "nrrc"), T0)
    ladder.observe(_env(Kind.EARLY_WARNING, "de-cert", "ee-cert", "cert"), T0)
    change = ladder.observe(_env(Kind.STAND_DOWN, "de-nrrc", "pl-nrrc", "nrrc", at=T0 + hours(1)), T0 + hours(1))
    assert change is not None
    assert (change.previous, change.level, change.pair) == (4, 1, ("de", "pl"))
    assert ladder.peak("INC-1") == (4, T0)
    assert ladder.peak("INC-1", ("ee", "de")) == (1, T0)


def test_two_states_read_as_one_pair() -> None:
    """With two states the incident's ladder is its one pair's: what it always was."""
    two = {"aa-cert": "aa", "bb-cert": "bb", "aa-nrrc": "aa", "bb-nrrc": "bb"}
    ladder = Ladder(agreement("bilateral-2013"), two)
    ladder.observe(_env(Kind.WARNING, "aa-nrrc", "bb-nrrc", "nrrc"), T0)
    ladder.observe(_env(Kind.STAND_DOWN, "bb-nrrc", "aa-nrrc", "nrrc", at=T0 + hours(1)), T0 + hours(1))
    assert ladder.pairs("INC-1") == [("aa", "bb")]
    assert ladder.changes("INC-1") == ladder.changes("INC-1", ("aa", "bb"))
    assert ladder.level("INC-1") == 0


def _state(expect: list[dict[str, Any]], messages: list[Envelope]) -> ExerciseState:
    data = three_state_data(
        injects=[
            {"at": "+00:00", "detect": {"agency": "de-cert", "incident": "INC-1", "severity": 2, "summary": "port"}}
        ],
        expect=expect,
    )
    scenario = Scenario.model_validate(data)
    state = ExerciseState(scenario, agreement("bilateral-2013"), EXERCISE)
    topics = Topics(EXERCISE)
    order = {"seq": 1, "id": "i-1", "at": "2026-01-01T00:00:00Z", "detect": data["injects"][0]["detect"]}
    state.apply_raw(T0, topics.inject("de-cert"), json.dumps(order).encode())
    for env in messages:
        state.apply_raw(env.sent_at, topics.msg(env.recipient, env.sender), encode(env))
    return state


def _traffic() -> list[Envelope]:
    return [
        _env(Kind.WARNING, "de-nrrc", "pl-nrrc", "nrrc", at=T0 + hours(1)),
        _env(Kind.STAND_DOWN, "pl-nrrc", "de-nrrc", "nrrc", at=T0 + hours(2)),
        _env(Kind.EARLY_WARNING, "de-cert", "ee-cert", "cert", at=T0 + hours(5)),
    ]


@pytest.mark.parametrize(
    ("spec", "ok"),
    [
        ({"max_level": {"incident": "INC-1", "at_least": 4}}, True),
        ({"max_level": {"incident": "INC-1", "between": ["ee", "de"], "at_least": 2}}, False),
        ({"max_level": {"incident": "INC-1", "between": ["de", "ee"], "at_most": 1}}, True),
        ({"max_level": {"incident": "INC-1", "between": ["pl", "ee"], "at_most": 0}}, True),
        ({"final_level": {"incident": "INC-1", "at_most": 0}}, False),
        ({"final_level": {"incident": "INC-1", "between": ["de", "pl"], "at_most": 0}}, True),
        ({"notified": {"incident": "INC-1", "within": "2h"}}, True),
        ({"notified": {"incident": "INC-1", "state": "ee", "within": "2h"}}, False),
        ({"notified": {"incident": "INC-1", "state": "ee", "within": "6h"}}, True),
    ],
)
def test_checks_that_name_a_pair_or_a_state(spec: dict[str, Any], ok: bool) -> None:
    state = _state([spec], _traffic())
    (verdict,) = check(state)
    assert verdict.ok is ok, verdict


def test_a_check_names_the_pair_in_its_claim() -> None:
    (verdict,) = check(
        _state([{"max_level": {"incident": "INC-1", "between": ["de", "ee"], "at_least": 3}}], _traffic())
    )
    assert verdict.claim == "INC-1 between de and ee peaks at least 3"
    assert verdict.found.startswith("peaked at 1 TECHNICAL CONCERN")


def _load(tmp_path: Path, data: dict[str, Any]) -> Any:
    path = tmp_path / "three.yaml"
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return load_scenario(path)


def _detect(**extra: Any) -> dict[str, Any]:
    detect = {"agency": "de-cert", "incident": "PORT-1", "severity": 2, "summary": "port", "suspected_origin": "pl"}
    return {"at": "+01:00", "detect": detect | extra}


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"injects": [_detect(affected=["ee", "ees"])]},
            "injects[0].detect.affected[1]",
            "unknown state 'ees' (did you mean 'ee'?)",
        ),
        (
            {
                "injects": [_detect()],
                "expect": [{"max_level": {"incident": "PORT-1", "between": ["de", "eee"], "at_least": 1}}],
            },
            "expect[0].max_level.between[1]",
            "unknown state 'eee' (did you mean 'ee'?)",
        ),
        (
            {"injects": [_detect()], "expect": [{"notified": {"incident": "PORT-1", "state": "pll", "within": "1h"}}]},
            "expect[0].notified.state",
            "unknown state 'pll' (did you mean 'pl'?)",
        ),
    ],
)
def test_unknown_states_are_located(tmp_path: Path, data: dict[str, Any], field: str, message: str) -> None:
    with pytest.raises(InputFileError) as info:
        _load(tmp_path, three_state_data(**data))
    (error,) = info.value.errors
    assert (error.field, error.message) == (field, message)
    assert error.line is not None


def test_a_pair_is_two_different_states(tmp_path: Path) -> None:
    data = three_state_data(
        injects=[_detect()], expect=[{"max_level": {"incident": "PORT-1", "between": ["de", "de"], "at_least": 1}}]
    )
    with pytest.raises(InputFileError, match="a pair is two different states"):
        _load(tmp_path, data)


def _warned(policy: dict[str, Any] | None = None, **extra: Any) -> list[tuple[str, str]]:
    """Who the detecting CERT sent an EARLY_WARNING to, run in memory."""
    data = three_state_data(injects=[_detect(**extra)])
    if policy is not None:
        data["policies"] = {"default": {"reliability": 1.0}, "de-cert": policy}
    net = run_in_memory(Scenario.model_validate(data))
    return sorted(
        (m.recipient, m.channel) for m in net.messages() if m.kind is Kind.EARLY_WARNING and m.sender == "de-cert"
    )


def test_automated_agencies_warn_each_affected_state_and_the_origin() -> None:
    assert _warned() == [("pl-cert", "cert")]
    assert _warned(affected=["ee", "pl", "de"]) == [("ee-cert", "cert"), ("pl-cert", "cert")]


def test_a_policy_says_whether_affected_states_are_warned() -> None:
    assert _warned({"warn_affected": False}, affected=["ee"]) == [("pl-cert", "cert")]


def _port_journal(tmp_path: Path) -> Path:
    """Germany detects an incident at its port that Poland caused and Estonia suffers too; at
    +12:00 Germany and Poland stand down on their CERT link."""
    stand_down = {"root_cause": "misconfigured crane controller", "closure": "fixed"}
    data = three_state_data(
        injects=[
            _detect(affected=["ee"]),
            {
                "at": "+12:00",
                "message": {
                    "from": "de-cert",
                    "to": "pl-cert",
                    "kind": "STAND_DOWN",
                    "incident": "PORT-1",
                    "body": stand_down,
                },
            },
        ]
    )
    return journal_of(data, tmp_path)


def test_the_report_charts_each_pair(tmp_path: Path) -> None:
    journal = _port_journal(tmp_path)
    header = read_header(journal)
    state, events = fold(header, read_entries(journal))
    report = build(header, state, events)
    (incident,) = report.incidents
    pairs = {p.id: (p.peak, p.final_level) for p in incident.pairs}
    assert pairs == {"PORT-1 de–pl": (1, 0), "PORT-1 de–ee": (1, 1)}
    assert incident.final_level == 1  # the stand-down with Poland leaves Estonia's warning standing
    markdown = render(report, "md")
    assert "#### PORT-1 de–pl" in markdown
    assert "#### PORT-1 de–ee" in markdown
    assert "PORT-1 de–pl falls to L0 ROUTINE" in markdown
    assert render(report, "html").count("aria-label='Escalation ladder of PORT-1") == 3


def test_the_dashboard_shows_the_pairs_beneath_the_incident(tmp_path: Path) -> None:
    journal = _port_journal(tmp_path)
    header = read_header(journal)
    model = DashboardModel(header.scenario, header.agreement, header.exercise)
    for entry in read_entries(journal):
        model.apply(entry)
    specs = row_specs(model)
    assert specs[:3] == [RowSpec("PORT-1"), RowSpec("PORT-1", pair=("de", "pl")), RowSpec("PORT-1", pair=("de", "ee"))]
    window = Window(header.scenario.start, header.scenario.duration)
    rows = [row_of(model, spec, window, 72, header.scenario.end) for spec in specs[:3]]
    assert [r.label for r in rows] == ["PORT-1 L1", "de–pl L0", "de–ee L1"]
    assert "de–ee" in rows[0].text  # the incident's band names the pair at its level
    assert rows[1].kind == rows[2].kind == "pair"
