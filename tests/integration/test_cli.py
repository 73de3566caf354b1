"""The command line, as a new user runs it (subprocesses, real brokers)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import aiomqtt
import pytest

from sim.runtime.broker import MosquittoBroker
from sim.runtime.transport import NODELAY
from tests.conftest import REPO, SCENARIOS, TEST_SCENARIOS

pytestmark = pytest.mark.integration

HOTLINE = [sys.executable, "-m", "sim"]


def hotline(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([*HOTLINE, *args], cwd=cwd, capture_output=True, text=True, timeout=120, env=env, check=False)


def test_run_fast_prints_timeline_summary_and_writes_journal(tmp_path: Path) -> None:
    done = hotline("run", str(SCENARIOS / "election-interference.yaml"), "--fast", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "us-cert → ru-cert" in out
    assert "EARLY_WARNING" in out
    assert "L4 POLITICAL WARNING" in out
    assert "max level" in out  # the summary table
    assert "✓" in out
    journals = list(tmp_path.glob("election-interference-*/journal.jsonl"))
    assert len(journals) == 1
    header = json.loads(journals[0].read_text().splitlines()[0])
    assert header["scenario"]["id"] == "election-interference"
    assert header["seed"] == 2016


def test_run_by_id_and_failed_expectation_exits_1(tmp_path: Path) -> None:
    done = hotline(
        "run", "election-interference", "--fast", "--protocol", "none", "-q", "--out", str(tmp_path), cwd=tmp_path
    )
    assert done.returncode == 1, done.stdout + done.stderr
    assert "✗" in done.stdout
    assert "expectation(s) failed" in done.stdout


def test_validate_points_at_file_line_column_and_field(tmp_path: Path) -> None:
    text = (SCENARIOS / "election-interference.yaml").read_text()
    broken = text.replace("      severity: 2\n", "      severty: 2\n", 1)
    assert broken != text
    bad = tmp_path / "typo.yaml"
    bad.write_text(broken)
    line = broken.splitlines().index("      severty: 2") + 1
    done = hotline("validate", str(bad), cwd=tmp_path)
    assert done.returncode == 2
    expected = f"{bad}:{line}:7: injects[1].detect.severty: unknown field 'severty' (did you mean 'severity'?)"
    assert expected in done.stderr
    run = hotline("run", str(bad), "--fast", cwd=tmp_path)
    assert run.returncode == 2
    assert "severty" in run.stderr


def test_run_realtime_at_a_speed(tmp_path: Path) -> None:
    """Without --fast a run is paced by the wall clock: 6 sim hours at ×14400 take 1.5 s."""
    drill = str(TEST_SCENARIOS / "drill.yaml")
    done = hotline("run", drill, "--speed", "14400", "--out", str(tmp_path), cwd=tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "realtime ×14400" in done.stdout
    assert "delivery: all" in done.stdout
    wall = float(done.stdout.rsplit("·", 1)[1].split("s wall")[0])
    assert wall >= 1.5, "paced by the wall clock, not run as fast as possible"


def test_scenarios_lists_the_shipped_ones(tmp_path: Path) -> None:
    done = hotline("scenarios", cwd=tmp_path)
    assert done.returncode == 0
    assert "election-interference" in done.stdout
    assert "3d" in done.stdout


async def test_external_broker_garbage_is_answered_and_run_completes(tmp_path: Path) -> None:
    """With --broker, an outsider sees the envelopes; garbage sent to a node's inbox is answered
    with PROTOCOL_ERROR and the run still completes."""
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        url = str(mosquitto.url)
        async with aiomqtt.Client("127.0.0.1", mosquitto.port, identifier="outsider", socket_options=NODELAY) as c:
            await c.subscribe("hotline/#", qos=1)
            proc = await asyncio.create_subprocess_exec(
                *HOTLINE,
                "run",
                "election-interference",
                "--fast",
                "--broker",
                url,
                "--exercise",
                "ext",
                "--out",
                str(tmp_path),
                cwd=tmp_path,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
            seen_envelope = False
            errors: list[dict[str, object]] = []

            async def watch() -> None:
                nonlocal seen_envelope
                sent_garbage = False
                async for message in c.messages:
                    topic = str(message.topic)
                    if "/msg/" in topic and not sent_garbage:
                        seen_envelope = True
                        sent_garbage = True
                        await c.publish("hotline/v1/ext/msg/ru-cert/us-cert", b"{garbage", qos=1)
                    if topic == "hotline/v1/ext/msg/us-cert/ru-cert":
                        payload = json.loads(message.payload if isinstance(message.payload, bytes) else b"{}")
                        if payload["body"]["kind"] == "PROTOCOL_ERROR":
                            errors.append(payload)

            watcher = asyncio.create_task(watch())
            stdout, stderr = await asyncio.wait_for(proc.communicate(), 120)
            watcher.cancel()
            await asyncio.gather(watcher, return_exceptions=True)
    assert proc.returncode in (0, 1), stderr.decode()
    assert seen_envelope
    assert errors, "the garbage was answered with PROTOCOL_ERROR"
    assert errors[0]["body"]["reason"] == "MALFORMED"  # type: ignore[index]
    assert "journal" in stdout.decode()


def test_fast_and_speed_do_not_go_together(tmp_path: Path) -> None:
    done = hotline("run", "election-interference", "--fast", "--speed", "100", cwd=tmp_path)
    assert done.returncode == 2
    assert "--speed is for realtime runs" in done.stderr


def test_ctl_says_plainly_when_the_broker_is_not_there(tmp_path: Path) -> None:
    done = hotline("ctl", "pause", "--exercise", "x", "--broker", "mqtt://127.0.0.1:9", "--timeout", "1", cwd=tmp_path)
    assert done.returncode == 3
    assert "cannot reach the broker" in done.stderr
    assert "connection_lost" not in done.stderr, "no log noise before the error"
