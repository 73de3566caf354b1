"""The unit tests' in-memory :class:`~tests.unit.factories.Network` drives NodeCores in rounds the
way the real director does over a broker. If the two ever diverge, unit tests that use the
Network stop describing the product: this test runs one scenario both ways and compares every
protocol message, observation and inject order."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.core.roster import Roster
from sim.model.topics import Topics
from sim.runtime.transport import BrokerUrl
from sim.scenario.load import load_scenario
from tests.conftest import SCENARIOS
from tests.integration.helpers import entries, run_scenario
from tests.unit.factories import EXERCISE, Network

pytestmark = pytest.mark.integration

AREAS = ("msg", "obs")


def _traffic(pairs: list[tuple[str, object]]) -> list[tuple[str, str]]:
    """(topic, canonical payload) of protocol messages, observations and inject orders, sorted."""
    topics = Topics(EXERCISE)
    out = []
    for topic, payload in pairs:
        parsed = topics.parse(topic)
        if parsed is None:
            continue
        if parsed.area in AREAS or (parsed.area == "ctl" and parsed.parts[0] == "inject"):
            out.append((topic, json.dumps(payload, sort_keys=True)))
    return sorted(out)


@pytest.mark.parametrize("name", ["election-interference", "hospital-ransomware", "channel-outage-drill"])
async def test_network_and_director_produce_the_same_traffic(name: str, amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    path = SCENARIOS / f"{name}.yaml"
    loaded = load_scenario(path)
    sc = loaded.scenario
    roster = Roster.build(sc, loaded.agreement)
    network = Network.build(roster, seed=sc.seed, policies={a: sc.policy_for(a) for a in roster.agencies}, scenario_=sc)
    network.run(sc.end)
    in_memory = _traffic([(p.topic, json.loads(p.payload)) for _, p in network.wire])

    result = await run_scenario(path, amqtt_url, tmp_path, exercise=EXERCISE)
    over_broker = _traffic([(e["topic"], e["payload"]) for e in entries(result.journal) if "payload" in e])

    assert len(in_memory) > 20, "the scenario produced traffic"
    assert in_memory == over_broker
