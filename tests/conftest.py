"""Shared fixtures: real brokers over TCP on loopback (embedded amqtt, and Mosquitto started
from the repository's broker.conf on a free port)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from sim.runtime.broker import EmbeddedBroker, MosquittoBroker
from sim.runtime.transport import BrokerUrl

REPO = Path(__file__).resolve().parent.parent
SCENARIOS = REPO / "scenarios"
TEST_SCENARIOS = Path(__file__).resolve().parent / "integration" / "scenarios"

BROKERS = ["amqtt", "mosquitto"]


@pytest.fixture(params=BROKERS)
async def broker(request: pytest.FixtureRequest) -> AsyncIterator[BrokerUrl]:
    """A fresh broker per test, parametrized over both brokers."""
    if request.param == "amqtt":
        async with EmbeddedBroker() as embedded:
            yield embedded.url
        return
    if shutil.which("mosquitto") is None and not Path("/usr/sbin/mosquitto").exists():  # noqa: ASYNC240 - one stat at fixture set-up
        pytest.fail("mosquitto is not installed; .ci/run installs it (apt-get install mosquitto)")
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        yield mosquitto.url


@pytest.fixture
async def amqtt_url() -> AsyncIterator[BrokerUrl]:
    async with EmbeddedBroker() as embedded:
        yield embedded.url
