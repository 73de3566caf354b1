"""An exercise id is used again and again on one broker: nothing of an earlier run — queued for a
persistent session, retained, or left half-done by a director that died — reaches the next."""

from __future__ import annotations

import asyncio
import hashlib
import json
import uuid
from pathlib import Path

import aiomqtt
import pytest

from sim.core.roster import Roster
from sim.model.control import DetectOrder
from sim.model.errors import HotlineError
from sim.model.injects import Detect
from sim.model.messages import EarlyWarning, Envelope, encode
from sim.model.topics import Topics
from sim.runtime.broker import MosquittoBroker
from sim.runtime.director import Director
from sim.runtime.exercise import run_fast
from sim.runtime.node import AgencyNode, run_key
from sim.runtime.transport import NODELAY, BrokerUrl
from sim.scenario.load import load_scenario
from tests.conftest import REPO, TEST_SCENARIOS
from tests.integration.helpers import open_wire, run_scenario

pytestmark = pytest.mark.integration

DRILL = TEST_SCENARIOS / "drill.yaml"


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


async def _publish(url: BrokerUrl, topic: str, payload: bytes, *, retain: bool = False) -> None:
    async with aiomqtt.Client(
        url.host, url.port, identifier=f"outsider-{uuid.uuid4().hex[:6]}", socket_options=NODELAY
    ) as client:
        await client.publish(topic, payload, qos=1, retain=retain)


@pytest.mark.timeout(60)
async def test_leftovers_of_an_earlier_run_do_not_reach_the_next(tmp_path: Path) -> None:
    exercise = f"again{uuid.uuid4().hex[:6]}"
    loaded = load_scenario(DRILL)
    sc = loaded.scenario
    topics = Topics(exercise)
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        first = await run_scenario(DRILL, mosquitto.url, tmp_path, exercise=exercise, name="first.jsonl")
        # Between the runs: a stale inject and a stale message, queued by the broker for the
        # nodes' persistent sessions, and a message retained on an inbox.
        stale = DetectOrder(
            seq=1,
            id="stale",
            at=sc.start,
            detect=Detect(agency="bb-cert", incident="STALE-1", severity=5, summary="stale"),
        )
        await _publish(mosquitto.url, topics.inject("bb-cert"), stale.model_dump_json().encode())
        envelope = Envelope(
            id="aa-cert-1",
            exercise=exercise,
            sender="aa-cert",
            recipient="bb-cert",
            channel="cert",
            incident="STALE-2",
            seq=1,
            sent_at=sc.start,
            body=EarlyWarning(summary="stale", aware_at=sc.start, suspected_malicious=True, cross_border=True),
        )
        await _publish(mosquitto.url, topics.msg("bb-cert", "aa-cert"), encode(envelope))
        planted = envelope.model_copy(update={"id": "aa-cert-900", "seq": 900})
        await _publish(mosquitto.url, topics.msg("bb-cert", "aa-cert"), encode(planted), retain=True)
        second = await run_scenario(DRILL, mosquitto.url, tmp_path, exercise=exercise, name="second.jsonl")
    assert digest(second.journal) == digest(first.journal), "the same seed gives the same run, leftovers or not"
    assert "STALE-1" not in second.state.incidents
    assert "STALE-2" not in second.state.incidents
    assert second.ok


@pytest.mark.timeout(60)
async def test_a_dead_director_releases_its_agencies_and_a_new_one_runs(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    exercise = f"dead{uuid.uuid4().hex[:6]}"
    loaded = load_scenario(DRILL)
    sc = loaded.scenario
    roster = Roster.build(sc, loaded.agreement)
    key = run_key(exercise, loaded.sha256, sc.seed)
    nodes = [
        AgencyNode(amqtt_url, roster, a, exercise, sc.seed, sc.policy_for(a), run=key) for a in sorted(roster.agencies)
    ]
    director = Director(
        amqtt_url, loaded, roster, exercise, sc.seed, tmp_path / "dead.jsonl", mode="realtime", speed=60
    )
    run = asyncio.create_task(director.run())
    await director.open_for_joining.wait()
    tasks = []
    for node in nodes:  # one at a time (amqtt 0.12 resets concurrent connections)
        tasks.append(asyncio.create_task(node.run()))
        await node.transport.wait_connected(10)
    async with open_wire(amqtt_url, exercise, subscribe=Topics(exercise).exercise_status, client_id="w") as wire:
        await wire.wait_for(lambda t, p: isinstance(p, dict) and p.get("status") == "running", timeout=20)
    run.cancel()  # the director dies mid-exercise …
    await asyncio.gather(run, return_exceptions=True)
    # … says "aborted" as it goes, and every agency process finishes instead of waiting forever
    await asyncio.wait_for(asyncio.gather(*tasks), 10)
    # and a new run of the same exercise id goes through
    result = await run_scenario(DRILL, amqtt_url, tmp_path, exercise=exercise, name="new.jsonl")
    assert result.ok


async def test_garbage_presence_does_not_upset_the_director(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    exercise = f"pres{uuid.uuid4().hex[:6]}"
    topics = Topics(exercise)
    await _publish(amqtt_url, topics.presence("zz"), b"not json", retain=True)
    await _publish(amqtt_url, topics.presence("aa-cert"), b"[1, 2]", retain=True)
    result = await run_scenario(DRILL, amqtt_url, tmp_path, exercise=exercise)
    assert result.ok


def test_an_agency_may_not_take_a_reserved_id(tmp_path: Path) -> None:
    text = DRILL.read_text().replace("aa-nrrc", "director")
    bad = tmp_path / "reserved.yaml"
    bad.write_text(text)
    with pytest.raises(HotlineError, match="'director' is reserved"):
        load_scenario(bad)


async def test_two_runs_started_together_get_their_own_folders(tmp_path: Path) -> None:
    loaded = load_scenario(DRILL)
    one, two = await asyncio.gather(
        run_fast(loaded, out_dir=tmp_path, exercise="twin"), run_fast(loaded, out_dir=tmp_path, exercise="twin", seed=7)
    )
    assert one.journal.parent != two.journal.parent
    assert one.ok
    assert two.ok
    header = json.loads(two.journal.read_text().splitlines()[0])
    assert header["seed"] == 7
