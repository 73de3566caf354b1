"""The director has a Will (issue 11, finding 2). Killed, the broker announces it; the nodes say
so, wait a grace period for it and then stop; a director started again begins a new run that the
nodes join; and `hotline report` calls the cut-off journal an incomplete run.

One process per participant, on Mosquitto, as in a live exercise."""

from __future__ import annotations

import asyncio
import signal
import sys
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.runtime.broker import MosquittoBroker
from tests.conftest import REPO, TEST_SCENARIOS
from tests.integration.helpers import open_wire
from tests.integration.procs import Proc

pytestmark = pytest.mark.integration

DRILL = TEST_SCENARIOS / "drill.yaml"
AGENCIES = ("aa-cert", "aa-nrrc", "bb-cert", "bb-nrrc")


@pytest.fixture
async def mosquitto() -> AsyncIterator[MosquittoBroker]:
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as broker:
        yield broker


def _director(url: str, exercise: str, tmp_path: Path, name: str, speed: str) -> Proc:
    args = ["director", str(DRILL), "--broker", url, "--exercise", exercise, "--speed", speed, "-q"]
    return Proc(name, [*args, "--out", str(tmp_path / "runs")], tmp_path)


def _nodes(url: str, exercise: str, tmp_path: Path, grace: str) -> list[Proc]:
    return [
        Proc(
            agency,
            [
                "node",
                str(DRILL),
                "--agency",
                agency,
                "--broker",
                url,
                "--exercise",
                exercise,
                "--state-dir",
                str(tmp_path / "state"),
                "--director-grace",
                grace,
            ],
            tmp_path,
        )
        for agency in AGENCIES
    ]


async def _hotline(*args: str, cwd: Path) -> tuple[int, str]:
    proc = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "sim", *args, cwd=cwd, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode()


@pytest.mark.timeout(120)
async def test_a_killed_director_is_announced_and_the_nodes_stop_after_a_grace_period(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    exercise = f"dk{uuid.uuid4().hex[:6]}"
    url = str(mosquitto.url)
    director = await _director(url, exercise, tmp_path, "director", "300").start()
    nodes = [await node.start() for node in _nodes(url, exercise, tmp_path, "3")]
    try:
        async with open_wire(mosquitto.url, exercise) as wire:
            await wire.wait_for(lambda t, p: "/msg/" in t, timeout=30)  # traffic is flowing
            director.kill(signal.SIGKILL)
            _, gone = await wire.wait_for(lambda t, p: t == wire.topics.director and p.get("online") is False)
            assert gone["online"] is False  # the broker said so: the Will
        codes = [await node.wait(30) for node in nodes]
    finally:
        for proc in (director, *nodes):
            await proc.stop()
    assert codes == [3] * len(nodes), [n.output()[-500:] for n in nodes]
    for node in nodes:
        assert "director_lost" in node.output()
        assert "the director is gone" in node.output()
    (journal,) = (tmp_path / "runs").glob(f"{exercise}-*/journal.jsonl")
    code, report = await _hotline("report", str(journal), cwd=tmp_path)
    assert code == 0, report
    assert "Incomplete run" in report


@pytest.mark.timeout(150)
async def test_a_director_started_again_begins_a_new_run_the_nodes_join(
    mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    exercise = f"dr{uuid.uuid4().hex[:6]}"
    url = str(mosquitto.url)
    first = await _director(url, exercise, tmp_path, "director-1", "300").start()
    nodes = [await node.start() for node in _nodes(url, exercise, tmp_path, "60")]
    second = _director(url, exercise, tmp_path, "director-2", "3600")
    try:
        async with open_wire(mosquitto.url, exercise) as wire:
            await wire.wait_for(lambda t, p: "/msg/" in t, timeout=30)
            first.kill(signal.SIGKILL)
            await wire.wait_for(lambda t, p: t == wire.topics.director and p.get("online") is False)
        await second.start()
        assert await second.wait(60) == 0, second.output()
        codes = [await node.wait(30) for node in nodes]
    finally:
        for proc in (first, second, *nodes):
            await proc.stop()
    assert codes == [0] * len(nodes), [n.output()[-500:] for n in nodes]
    assert "delivery: all" in second.output()
    journals = sorted((tmp_path / "runs").glob(f"{exercise}-*/journal.jsonl"))
    assert len(journals) == 2
    reports = [await _hotline("report", str(j), cwd=tmp_path) for j in journals]
    assert sum("Incomplete run" in text for _, text in reports) == 1, "the first run's journal has no end"
