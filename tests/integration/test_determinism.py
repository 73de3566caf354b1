"""Fast mode is deterministic: same scenario and seed, byte-identical journal."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from sim.runtime.broker import EmbeddedBroker, MosquittoBroker
from sim.runtime.transport import BrokerUrl
from tests.conftest import REPO, SCENARIOS
from tests.integration.helpers import run_scenario

pytestmark = pytest.mark.integration

ELECTION = SCENARIOS / "election-interference.yaml"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def test_same_seed_gives_byte_identical_journal(broker: BrokerUrl, tmp_path: Path) -> None:
    one = await run_scenario(ELECTION, broker, tmp_path, name="one.jsonl")
    two = await run_scenario(ELECTION, broker, tmp_path, name="two.jsonl")
    assert one.journal.read_bytes() == two.journal.read_bytes()
    assert one.stats.rounds == two.stats.rounds


async def test_other_seed_gives_other_journal(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    one = await run_scenario(ELECTION, amqtt_url, tmp_path, seed=1, name="one.jsonl")
    two = await run_scenario(ELECTION, amqtt_url, tmp_path, seed=2, name="two.jsonl")
    assert digest(one.journal) != digest(two.journal)


async def test_both_brokers_give_the_same_journal(tmp_path: Path) -> None:
    """The broker is a medium, not a participant: amqtt and Mosquitto give the same bytes."""
    async with EmbeddedBroker() as embedded:
        a = await run_scenario(ELECTION, embedded.url, tmp_path, name="amqtt.jsonl")
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        m = await run_scenario(ELECTION, mosquitto.url, tmp_path, name="mosquitto.jsonl")
    assert digest(a.journal) == digest(m.journal)
