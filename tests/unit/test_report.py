"""The after-action report is computed from the journal alone (no broker: node cores wired in
memory write a real journal)."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from sim.cli.app import report_of
from sim.cli.run import write_report
from sim.evaluation.journalfile import JournalError
from sim.evaluation.report import Report, render
from sim.evaluation.report.formats.chart import columns, ladder_chart, level_at
from sim.evaluation.report.formats.markdown import markdown
from sim.evaluation.report.formats.svg import ladder_svg
from sim.evaluation.report.model import Step
from tests.unit.eval_journal import journal_of
from tests.unit.factories import T0, scenario_data

POLICIES = {
    "default": {
        "reliability": 1.0,
        "notify_delay": ["10m", "10m"],
        "ack_delay": ["10m", "10m"],
        "answer_delay": ["2h", "2h"],
    },
    "bb-cert": {"reliability": 0.0, "late_answers": 0.0},  # never acknowledges
}


def _data(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "policies": POLICIES,
        "injects": [
            {
                "at": "+01:00",
                "id": "I-1",
                "note": "intrusion found",
                "detect": {
                    "agency": "aa-cert",
                    "incident": "INC-1",
                    "severity": 2,
                    "summary": "intrusion",
                    "suspected_origin": "bb",
                },
            },
            {
                "at": "+06:00",
                "id": "I-2",
                "link": {"channel": "cert", "between": ["aa-cert", "bb-cert"], "fault": "down", "for": "10h"},
            },
            {
                "at": "+08:00",
                "id": "I-3",
                "detect": {
                    "agency": "aa-cert",
                    "incident": "INC-1",
                    "severity": 3,
                    "summary": "worse",
                    "suspected_origin": "bb",
                },
            },
        ],
        "objectives": [
            {"id": "O-1", "text": "notified fast"},
            {"id": "O-2", "text": "acknowledged within the hour"},
            {"id": "O-3", "text": "nothing linked"},
        ],
        "expect": [
            {"objective": "O-1", "notified": {"incident": "INC-1", "within": "1h"}},
            {"objective": "O-2", "obligations_met": {"kind": "EARLY_WARNING", "owner": "bb-cert", "within": "1h"}},
        ],
    }
    return scenario_data(**(base | overrides))


@pytest.fixture(scope="module")
def journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return journal_of(_data(), tmp_path_factory.mktemp("aar"))


@pytest.fixture(scope="module")
def report(journal: Path) -> Report:
    return report_of(journal)


def test_overview_names_scenario_protocol_seed_and_participants(report: Report) -> None:
    ov = report.overview
    assert (ov.scenario, ov.protocol, ov.seed, ov.mode) == ("unit", "bilateral-2013", 3, "fast")
    assert ov.duration == timedelta(hours=72)
    assert {p.id for p in ov.participants} == {"aa-cert", "aa-nrrc", "aa-leader", "bb-cert", "bb-nrrc", "bb-leader"}
    assert {p.state_name for p in ov.participants} == {"Alphaland", "Betaland"}


def test_ladder_steps_say_when_and_why(report: Report) -> None:
    (incident,) = report.incidents
    first = incident.steps[0]
    assert (first.previous, first.level) == (0, 1)
    assert first.at == T0 + timedelta(hours=1, minutes=10)  # detection + the 10-minute notify delay
    assert "EARLY_WARNING aa-cert→bb-cert on cert" in first.reason
    assert incident.time_to_notice == timedelta(minutes=10)
    assert incident.detected_by == "aa-cert"
    # the silent CERT makes aa-cert escalate: a formal inquiry on the NRRC channel is the peak
    assert incident.peak == 2
    assert any(s.level == 2 and "REQUEST_INFO" in s.reason for s in incident.steps)
    assert incident.time_to_deescalate is not None
    assert incident.time_at_peak == incident.time_to_deescalate  # held once, until the walk-back


def test_metrics_count_obligations_by_agency_and_channel(report: Report) -> None:
    by_agency = {t.key: t for t in report.tallies.by_agency}
    assert by_agency["bb-cert"].missed == 1
    assert by_agency["bb-nrrc"].met == 1
    by_channel = {t.key: t for t in report.tallies.by_channel}
    assert by_channel["cert"].missed == 1
    timing = {(t.trigger, t.rule): t for t in report.metrics.timings}
    assert timing[("REQUEST_INFO", "answer")].median == timedelta(hours=2)
    assert timing[("EARLY_WARNING", "answer")].missed == 1
    assert timing[("EARLY_WARNING", "answer")].median is None


def test_channel_availability_follows_the_link_faults(report: Report) -> None:
    cert = next(link for link in report.links if link.link == "cert:aa-cert~bb-cert")
    assert cert.outages == ((T0 + timedelta(hours=6), T0 + timedelta(hours=16)),)
    assert cert.down_for == timedelta(hours=10)
    assert cert.up_share == pytest.approx(1 - 10 / 72)
    nrrc = next(link for link in report.links if link.channel == "nrrc")
    assert nrrc.up_share == 1.0


def test_refused_messages_are_counted_with_their_reason(report: Report) -> None:
    assert dict(report.problems.counts)["refused: cert link down"] >= 1
    assert all(p.agency == "aa-cert" for p in report.problems.items if p.what == "refused")


def test_objectives_met_not_met_and_not_evaluated_with_evidence(report: Report) -> None:
    status = {o.id: o for o in report.objectives}
    assert status["O-1"].status == "met"
    assert status["O-2"].status == "not met"
    assert "bb-cert" in status["O-2"].evidence[0]
    assert status["O-3"].status == "not evaluated"


def test_improvement_plan_names_the_responsible_agency(report: Report) -> None:
    missed = [f for f in report.findings if f.kind == "missed obligation"]
    assert [f.agency for f in missed] == ["bb-cert"]
    assert "did not send ACK to aa-cert" in missed[0].finding
    assert missed[0].recommendation
    assert [f.number for f in report.findings] == list(range(1, len(report.findings) + 1))


def test_timeline_has_injects_levels_faults_and_misses_in_time_order(report: Report) -> None:
    kinds = [e.what for e in report.timeline]
    for what in ("inject", "level", "missed", "link", "refused", "escalate"):
        assert what in kinds
    assert [e.at for e in report.timeline] == sorted(e.at for e in report.timeline)
    assert report.timeline[0].text.startswith("I-1: intrusion found")


def test_a_pre_notification_sent_too_late_is_a_protocol_violation(tmp_path: Path) -> None:
    data = _data(
        protocol="incsea-cyber",
        policies={"default": {"reliability": 1.0, "notify_delay": ["10m", "10m"]}},
        injects=[
            {
                "at": "+01:00",
                "detect": {
                    "agency": "aa-cert",
                    "incident": "OP-1",
                    "severity": 1,
                    "summary": "botnet",
                    "response": {"activity": "sinkholing", "state": "bb", "after": "24h", "lasts": "2h"},
                },
            }
        ],
        expect=[],
        objectives=[],
    )
    report = report_of(journal_of(data, tmp_path))
    violations = [f for f in report.findings if f.kind == "protocol violation"]
    assert len(violations) == 1
    assert violations[0].agency == "aa-cert"
    assert "min_lead" in violations[0].finding


def test_markdown_reads_in_a_terminal(report: Report) -> None:
    text = markdown(report)
    for heading in ("# After-action report", "## Incidents", "## Metrics", "## Objectives", "## Improvement plan"):
        assert heading in text
    chart = text.split("```")[1]
    assert "L2 FORMAL INQUIRY    │" in chart
    assert "█" in chart
    assert "+72h" in chart
    assert "| 1 | T+02:12 | bb-cert |" in text


def test_html_has_one_svg_per_incident_with_a_marker_per_step(report: Report) -> None:
    page = render(report, "html")
    assert page.startswith("<!doctype html>")
    assert page.count("<svg") == len(report.incidents)
    assert page.count("<circle") == sum(len(i.steps) for i in report.incidents)
    assert "<script" not in page  # self-contained, nothing to fetch
    assert not re.search(r"(src|href)=['\"]https?:", page)
    assert "Improvement plan" in page


def test_json_is_plain_data(report: Report) -> None:
    data = json.loads(render(report, "json"))
    assert data["report"] == "hotline-aar"
    assert data["overview"]["duration"] == 72 * 3600
    assert data["incidents"][0]["steps"][0]["at"].endswith("Z")
    assert {o["id"] for o in data["objectives"]} == {"O-1", "O-2", "O-3"}


def test_unknown_format_is_refused(report: Report) -> None:
    with pytest.raises(ValueError, match="unknown report format"):
        render(report, "pdf")


def test_write_report_puts_md_and_html_next_to_the_journal(journal: Path) -> None:
    written = write_report(journal)
    assert [p.name for p in written] == ["report.md", "report.html"]
    assert all(p.parent == journal.parent and p.stat().st_size > 0 for p in written)


def test_a_file_that_is_not_a_journal_is_an_error(tmp_path: Path) -> None:
    bad = tmp_path / "journal.jsonl"
    bad.write_text('{"hello": 1}\n')
    with pytest.raises(JournalError, match="not a Hotline journal"):
        report_of(bad)


def test_level_at_and_columns_take_the_highest_level_in_each_slice() -> None:
    steps = (
        Step(T0 + timedelta(hours=1), 1, 0, "", "m1"),
        Step(T0 + timedelta(hours=2, minutes=10), 4, 1, "", "m2"),
        Step(T0 + timedelta(hours=2, minutes=20), 1, 4, "", "m3"),
    )
    assert level_at(steps, T0) == 0
    assert level_at(steps, T0 + timedelta(hours=2, minutes=15)) == 4
    # a 10-minute spike inside an hour-long slice still shows
    assert columns(steps, T0, T0 + timedelta(hours=4), 4) == [0, 1, 4, 1]


def test_charts_show_a_short_spike(report: Report) -> None:
    incident = report.incidents[0]
    lines = ladder_chart(report, incident, width=72)
    assert lines[0].startswith("L2 FORMAL INQUIRY")
    assert "█" in lines[0]
    svg = ladder_svg(report, incident)
    assert "polyline" in svg
    assert "<title>" in svg


def test_communication_checks_show_depth_or_why_there_was_none(tmp_path: Path) -> None:
    data = scenario_data(
        policies={"default": {"reliability": 1.0, "ack_delay": ["1h", "1h"], "check_depth": "ACKNOWLEDGED"}},
        injects=[
            {"at": "+00:00", "link": {"channel": "cert", "between": ["aa-cert", "bb-cert"], "fault": "down"}},
            {"at": "+01:00", "message": {"from": "aa-cert", "to": "bb-cert", "kind": "COMM_CHECK"}},
            {"at": "+01:00", "message": {"from": "aa-nrrc", "to": "bb-nrrc", "kind": "COMM_CHECK"}},
        ],
    )
    report = report_of(journal_of(data, tmp_path))
    rows = {c.recipient: c for c in report.checks}
    assert rows["bb-nrrc"].depth == "ACKNOWLEDGED"
    assert rows["bb-nrrc"].replied_after == timedelta(hours=1, minutes=15)  # 15 min on the NRRC link
    assert (rows["bb-cert"].depth, rows["bb-cert"].replied_after) == ("REFUSED", None)
    (undelivered,) = [f for f in report.findings if f.kind == "undelivered message"]
    assert undelivered.agency == "aa-cert / bb-cert"
    assert "refused by the down link" in undelivered.finding
