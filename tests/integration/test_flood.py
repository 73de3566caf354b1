"""1,000 random malformed payloads published at a node: none crashes it, each is rejected with a
reason, and a well-formed message sent afterwards is still handled."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Coroutine, Iterator
from datetime import timedelta
from typing import Any, TypeVar

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.core.roster import Roster
from sim.model.control import ClockState, ExerciseStatus
from sim.model.messages import EarlyWarning, Envelope, Goodwill, encode
from sim.runtime.broker import EmbeddedBroker
from sim.runtime.node import AgencyNode
from sim.scenario.load import LoadedScenario, load_scenario
from tests.conftest import TEST_SCENARIOS
from tests.integration.helpers import Wire, open_wire

pytestmark = pytest.mark.integration

T = TypeVar("T")
EXERCISE = "flood"
BATCH, BATCHES = 40, 25

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)
envelope_keys = st.sampled_from(["v", "id", "exercise", "sender", "recipient", "channel", "seq", "sent_at", "body"])
payloads = st.one_of(
    st.binary(max_size=200),
    json_values.map(lambda v: json.dumps(v).encode()),
    # look-alikes: envelope keys with nonsense values
    st.dictionaries(envelope_keys, json_values, max_size=9).map(lambda d: json.dumps(d).encode()),
)


class Rig:
    """A broker, one node (bb-cert) and a raw client, on an event loop in a thread of their own
    (hypothesis drives the test synchronously)."""

    def __init__(self, loaded: LoadedScenario) -> None:
        self.loaded = loaded
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        self.published = 0
        self.probes = 0
        self._scanned = 0
        self._rejected: list[dict[str, Any]] = []

    def run(self, coro: Coroutine[Any, Any, T], timeout: float = 30) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    async def start(self) -> None:
        self.broker = EmbeddedBroker()
        await self.broker.start()
        sc = self.loaded.scenario
        self.node = AgencyNode(
            self.broker.url, Roster.build(sc, self.loaded.agreement), "bb-cert", EXERCISE, 1, sc.policy_for("bb-cert")
        )
        self.node_task = asyncio.create_task(self.node.run())
        self.opener = open_wire(self.broker.url, EXERCISE)
        self.wire: Wire = await self.opener.__aenter__()
        self.status = status = ExerciseStatus(
            exercise=EXERCISE,
            scenario=sc.id,
            title=sc.title,
            sha256=self.loaded.sha256,
            protocol=self.loaded.agreement.id,
            seed=1,
            status="running",
            start=sc.start,
            end=sc.end,
            agencies=("bb-cert",),
        )
        await self.wire.publish(self.wire.topics.exercise_status, status.model_dump_json().encode(), retain=True)
        await self.wire.wait_for(lambda t, p: t == self.wire.topics.ready("bb-cert"))

    def rejections(self) -> list[dict[str, Any]]:
        """Rejections seen so far (scanning only what arrived since the last call)."""
        obs = self.wire.topics.obs("bb-cert")
        for topic, payload in self.wire.seen[self._scanned :]:
            if topic == obs and isinstance(payload, dict) and payload.get("event") == "rejected":
                self._rejected.append(payload)
        self._scanned = len(self.wire.seen)
        return self._rejected

    async def flood(self, items: list[bytes]) -> None:
        """Publish a batch, then a valid GOODWILL from aa-cert after it: once the node counts the
        probe as received (its round report says so), it has taken every payload before it (one
        publisher, one topic: in order). Rejections are observed at a bounded rate, so counting
        observations cannot tell that."""
        inbox = self.wire.topics.msg("bb-cert", "aa-cert")
        await asyncio.gather(*(self.wire.publish(inbox, item) for item in items))  # pipelined
        self.published += len(items)
        self.probes += 1
        sc = self.loaded.scenario
        probe = Envelope(
            id=f"aa-cert-{self.probes + 1}",
            exercise=EXERCISE,
            sender="aa-cert",
            recipient="bb-cert",
            channel="cert",
            seq=self.probes + 1,
            sent_at=sc.start,
            arrives_at=sc.start + timedelta(minutes=2),
            body=Goodwill(text="probe"),
        )
        await self.wire.publish(inbox, encode(probe))
        count = self.probes
        ready = self.wire.topics.ready("bb-cert")
        await self.wire.wait_for(
            lambda t, p: t == ready and isinstance(p, dict) and p["received_from"].get("aa-cert", 0) >= count
        )

    async def end(self) -> None:
        """End the exercise: the node observes what it only counted, and gives its final report."""
        status = self.status.model_copy(update={"status": "ended"})
        await self.wire.publish(self.wire.topics.exercise_status, status.model_dump_json().encode(), retain=True)
        ready = self.wire.topics.ready("bb-cert")
        await self.wire.wait_for(lambda t, p: t == ready and isinstance(p, dict) and p.get("final") is True)

    async def stop(self) -> None:
        self.node.finished.set()
        await asyncio.wait_for(self.node_task, 10)
        await self.opener.__aexit__(None, None, None)
        await self.broker.stop()


@pytest.fixture
def rig() -> Iterator[Rig]:
    the_rig = Rig(load_scenario(TEST_SCENARIOS / "drill.yaml"))
    the_rig.run(the_rig.start())
    yield the_rig
    the_rig.run(the_rig.stop())
    the_rig.loop.call_soon_threadsafe(the_rig.loop.stop)
    the_rig.thread.join(5)
    the_rig.loop.close()


@pytest.mark.timeout(120)
def test_a_thousand_malformed_payloads_are_each_rejected_and_the_node_keeps_serving(rig: Rig) -> None:
    @settings(max_examples=BATCHES, deadline=None, database=None, suppress_health_check=list(HealthCheck))
    @given(st.lists(payloads, min_size=BATCH, max_size=BATCH))
    def batch(items: list[bytes]) -> None:
        rig.run(rig.flood(items))

    batch()
    assert rig.published >= 1000
    assert not rig.node_task.done(), "the node is still running"

    # a well-formed early warning is still handled: bb-cert acknowledges it in sim time
    sc = rig.loaded.scenario

    async def genuine() -> dict[str, Any]:
        env = Envelope(
            id="aa-cert-1",
            exercise=EXERCISE,
            sender="aa-cert",
            recipient="bb-cert",
            channel="cert",
            incident="F-1",
            seq=1,
            sent_at=sc.start,
            arrives_at=sc.start + timedelta(minutes=2),
            body=EarlyWarning(
                summary="after the flood", aware_at=sc.start, suspected_malicious=True, cross_border=True
            ),
        )
        await rig.wire.publish(rig.wire.topics.msg("bb-cert", "aa-cert"), encode(env))
        grant = ClockState(mode="fast", round=1, now=sc.start + timedelta(hours=2), start=sc.start, end=sc.end)
        await rig.wire.publish(rig.wire.topics.clock, grant.model_dump_json().encode(), retain=True)
        _, ack = await rig.wire.wait_for(
            lambda t, p: (
                t == rig.wire.topics.msg("aa-cert", "bb-cert") and isinstance(p, dict) and p["body"]["kind"] == "ACK"
            )
        )
        assert isinstance(ack, dict)
        return ack

    ack = rig.run(genuine())
    assert ack["ref"] == "aa-cert-1"

    # Every payload was rejected with a reason. Observations of rejections come at a bounded rate
    # (a flood in is not a flood out, issue 11.8); each stands for itself and the ones of its
    # reason it counted before it, and at the end the rest are observed: they add up.
    rig.run(rig.end())
    rejections = rig.rejections()
    assert sum(1 + r.get("suppressed", 0) for r in rejections) == rig.published, "exactly one rejection per payload"
    assert len(rejections) < rig.published / 10, "observed at a bounded rate"
    assert {r["reason"] for r in rejections} <= {"MALFORMED", "UNKNOWN_KIND"}
    assert all(r["detail"] for r in rejections), "every rejection says why"
    errors = [
        p
        for t, p in rig.wire.seen
        if t == rig.wire.topics.msg("aa-cert", "bb-cert") and p["body"]["kind"] == "PROTOCOL_ERROR"
    ]
    assert 0 < len(errors) < rig.published / 10, "junk is answered at a bounded rate"
