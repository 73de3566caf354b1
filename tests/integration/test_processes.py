"""One process per participant gives the same exercise as everything in one process."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sim.runtime.broker import free_port, wait_listening
from sim.runtime.transport import BrokerUrl
from tests.conftest import SCENARIOS
from tests.integration.helpers import run_scenario
from tests.integration.procs import Proc

pytestmark = pytest.mark.integration

ELECTION = SCENARIOS / "election-interference.yaml"
AGENCIES = ["us-cert", "us-nrrc", "us-leader", "ru-cert", "ru-nrrc", "ru-leader"]


@pytest.mark.timeout(60)
async def test_separate_processes_give_the_same_journal_as_one_process(tmp_path: Path, amqtt_url: BrokerUrl) -> None:
    single = await run_scenario(ELECTION, amqtt_url, tmp_path, name="single.jsonl")
    port = free_port()
    url = f"mqtt://127.0.0.1:{port}"
    broker = await Proc("broker", ["broker", "--port", str(port)], tmp_path).start()
    procs: list[Proc] = [broker]
    try:
        await wait_listening("127.0.0.1", port)
        director = await Proc(
            "director",
            ["director", str(ELECTION), "--broker", url, "--fast", "--out", str(tmp_path / "runs"), "-q"],
            tmp_path,
        ).start()
        procs.append(director)
        state = str(tmp_path / "state")
        for agency in AGENCIES:
            args = ["node", "election-interference", "--agency", agency, "--broker", url, "--state-dir", state]
            procs.append(await Proc(agency, args, tmp_path).start())
        code = await director.wait(45)
        assert code == 0, director.output()
        for node in procs[2:]:
            assert await node.wait(10) == 0, node.output()
    finally:
        for proc in procs:
            await proc.stop()
    (journal,) = (tmp_path / "runs").glob("election-interference-*/journal.jsonl")
    assert hashlib.sha256(journal.read_bytes()).hexdigest() == hashlib.sha256(single.journal.read_bytes()).hexdigest()
    assert "us-cert: exercise over" in procs[2].output()
