"""Evaluation end to end: every shipped scenario through ``hotline test``'s runner, the
commands as a user runs them (subprocesses, embedded broker), and determinism of the
scenario library."""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from sim.runtime.batch import run_scenarios
from sim.runtime.transport import BrokerUrl
from sim.scenario.load import shipped_scenarios
from tests.conftest import SCENARIOS
from tests.integration.helpers import run_scenario

pytestmark = pytest.mark.integration

HOTLINE = [sys.executable, "-m", "sim"]


def hotline(*args: str, cwd: Path, timeout: float = 110) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run(
        [*HOTLINE, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout, env=env, check=False
    )


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
async def test_every_shipped_scenario_passes_hotline_test(path: Path, amqtt_url: BrokerUrl) -> None:
    (outcome,) = await run_scenarios([path], broker=amqtt_url)
    failed = [f"{v.claim}: {v.found}" for v in outcome.verdicts if not v.ok]
    assert outcome.ok, outcome.error or "\n".join(failed)
    assert len(outcome.verdicts) >= 3


def test_the_library_has_seven_scenarios_each_24_to_96_hours_with_objectives() -> None:
    from sim.scenario.load import load_scenario  # noqa: PLC0415 - only this test needs it

    loaded = [load_scenario(p) for p in shipped_scenarios()]
    assert len(loaded) >= 7
    for item in loaded:
        sc = item.scenario
        assert 24 <= sc.duration.total_seconds() / 3600 <= 96, sc.id
        assert sc.objectives, sc.id
        assert all(e.objective for e in sc.expect if e.kind != "no_message_lost" or e.objective), sc.id
        assert sc.summary.strip(), sc.id
    assert max(len(x.scenario.states) for x in loaded) >= 20
    assert sum(1 for x in loaded if len(x.scenario.states) >= 3) >= 2


@pytest.mark.timeout(120)
def test_hotline_test_on_the_scenarios_folder_passes(tmp_path: Path) -> None:
    done = hotline("test", str(SCENARIOS), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.strip().splitlines()
    n = len(shipped_scenarios())
    assert lines[-1] == f"{n} passed, 0 failed"
    assert sum(1 for line in lines if line.startswith("PASS  ")) == n


def test_a_broken_expectation_fails_with_sim_time_and_messages(tmp_path: Path) -> None:
    """The election spiral with the walk-back offered in time (+10:00): the spiral stops below
    the leaders' line, so the copy's 'reaches level 5' expectation fails — and says why."""
    text = (SCENARIOS / "election-spiral.yaml").read_text()
    early = text.replace('  - at: "+30:00"\n    id: W-1', '  - at: "+10:00"\n    id: W-1')
    assert early != text
    folder = tmp_path / "copies"
    folder.mkdir()
    (folder / "spiral-early-walk-back.yaml").write_text(early)
    shutil.copy(SCENARIOS / "sinkhole-takedown.yaml", folder / "sinkhole-takedown.yaml")
    done = hotline("test", str(folder), cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    out = done.stdout
    assert out.strip().splitlines()[-1] == "1 passed, 1 failed"
    assert "FAIL  election-spiral" in out
    assert "PASS  sinkhole-takedown" in out
    assert "✗ expect[2] EL-1 peaks at least 5" in out
    assert "found: peaked at 3 CONSULTATION" in out
    assert "T+10:00 EL-1 ▼" in out  # the walk-back itself, with its sim time…
    assert "[ru-nrrc-1]" in out  # …and the message that carried it


def test_hotline_test_under_another_protocol_shows_what_changes(tmp_path: Path) -> None:
    done = hotline("test", "sinkhole-takedown", "--protocol", "bilateral-2013", cwd=tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "TD-1 peaks at most 1" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "0 passed, 1 failed"


def test_hotline_test_bad_input_exits_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\n")
    done = hotline("test", str(bad), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert f"ERROR {bad}" in done.stdout
    assert "0 passed, 0 failed, 1 error" in done.stdout


def test_run_then_report_in_every_format(tmp_path: Path) -> None:
    done = hotline("run", "election-interference", "--fast", "-q", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    (journal,) = tmp_path.glob("election-interference-*/journal.jsonl")
    md = hotline("report", str(journal), cwd=tmp_path)
    assert md.returncode == 0, md.stderr
    assert "# After-action report — Election infrastructure intrusion" in md.stdout
    assert "L4 POLITICAL WARNING │" in md.stdout
    assert "## Improvement plan" in md.stdout
    page = tmp_path / "aar.html"
    html = hotline("report", str(journal.parent), "--format", "html", "--out", str(page), cwd=tmp_path)
    assert html.returncode == 0, html.stderr
    assert page.read_text().count("<svg") == 2  # EI-1 and EI-2
    data = json.loads(hotline("report", str(journal), "-f", "json", cwd=tmp_path).stdout)
    assert data["overview"]["scenario"] == "election-interference"
    status = {o["id"]: o["status"] for o in data["objectives"]}
    assert status["O-3"] == "met"  # contained below the leaders' line
    assert status["O-1"] == "met"  # notified within two hours (its own expectation)


def test_report_bad_input_exits_2(tmp_path: Path) -> None:
    missing = hotline("report", str(tmp_path / "nope.jsonl"), cwd=tmp_path)
    assert missing.returncode == 2
    assert "no such journal" in missing.stderr
    junk = tmp_path / "junk.jsonl"
    junk.write_text("not json\n")
    bad = hotline("report", str(junk), cwd=tmp_path)
    assert bad.returncode == 2
    assert "junk.jsonl:1" in bad.stderr
    fmt = hotline("report", str(junk), "--format", "pdf", cwd=tmp_path)
    assert fmt.returncode == 2


def test_compare_sets_the_agreements_side_by_side(tmp_path: Path) -> None:
    done = hotline(
        "compare",
        "sinkhole-takedown",
        "-p",
        "incsea-cyber",
        "-p",
        "bilateral-2013",
        "--seeds",
        "3",
        "-f",
        "json",
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    data = json.loads(done.stdout)
    incsea, bilateral = data["protocols"]
    assert (incsea["protocol"], bilateral["protocol"]) == ("incsea-cyber", "bilateral-2013")
    assert incsea["runs"] == bilateral["runs"] == 3
    assert data["seeds"] == [2023, 2024, 2025]
    # the agreement makes the difference: the notice keeps the takedown technical
    assert incsea["median_max_level"] <= 1
    assert bilateral["median_max_level"] >= 3
    assert incsea["p_level_4"] < bilateral["p_level_4"]
    md = hotline(
        "compare",
        "sinkhole-takedown",
        "-p",
        "incsea-cyber",
        "-p",
        "bilateral-2013",
        "-n",
        "1",
        "-f",
        "md",
        cwd=tmp_path,
    )
    assert "| P(level ≥ 4) |" in md.stdout


def test_compare_needs_two_protocols(tmp_path: Path) -> None:
    done = hotline("compare", "sinkhole-takedown", "-p", "incsea-cyber", cwd=tmp_path)
    assert done.returncode == 2
    assert "at least two" in done.stderr
    unknown = hotline("compare", "sinkhole-takedown", "-p", "incsea-cyber", "-p", "nope", cwd=tmp_path)
    assert unknown.returncode == 2


def test_schema_and_msel(tmp_path: Path) -> None:
    schema = hotline("schema", cwd=tmp_path)
    assert schema.returncode == 0
    assert json.loads(schema.stdout)["title"] == "Hotline scenario"
    out = tmp_path / "msel.csv"
    done = hotline("msel", "poc-comm-check", "--out", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    rows = list(csv.reader(io.StringIO(out.read_text())))
    assert rows[0][:3] == ["number", "time", "utc"]
    assert len(rows) == 1 + 26  # two faults and 24 pings


@pytest.mark.parametrize("name", ["sinkhole-takedown", "poc-comm-check", "grid-false-flag"])
async def test_library_scenarios_are_deterministic(name: str, amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    path = SCENARIOS / f"{name}.yaml"
    protocol = "bilateral-2013" if name == "sinkhole-takedown" else None
    one = await run_scenario(path, amqtt_url, tmp_path, protocol=protocol, name="one.jsonl")
    two = await run_scenario(path, amqtt_url, tmp_path, protocol=protocol, name="two.jsonl")
    assert one.journal.read_bytes() == two.journal.read_bytes()
