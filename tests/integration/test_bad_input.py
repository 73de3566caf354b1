"""A node keeps serving whatever is published at it: garbage, spoofed senders, unknown kinds.

The test plays the director itself with a raw MQTT client, so it can put anything on the wire.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import aiomqtt
import pytest
import structlog
from structlog.testing import capture_logs

from sim.core.roster import Roster
from sim.model.control import ClockState, ExerciseStatus, RoundReport
from sim.model.messages import EarlyWarning, Envelope, encode
from sim.model.topics import Topics
from sim.runtime.logs import sim_stamp
from sim.runtime.node import AgencyNode
from sim.runtime.transport import NODELAY, BrokerUrl
from sim.scenario.load import load_scenario
from tests.conftest import TEST_SCENARIOS
from tests.integration.helpers import Wire

pytestmark = pytest.mark.integration


@pytest.fixture
async def wire(broker: BrokerUrl) -> AsyncIterator[Wire]:
    exercise = f"bad-{uuid.uuid4().hex[:8]}"
    topics = Topics(exercise)
    async with aiomqtt.Client(broker.host, broker.port, identifier=f"test-{exercise}", socket_options=NODELAY) as c:
        await c.subscribe(topics.everything, qos=1)
        w = Wire(c, topics)
        pump = asyncio.create_task(w.pump())
        yield w
        pump.cancel()
        await asyncio.gather(pump, return_exceptions=True)


async def test_node_rejects_bad_input_and_keeps_serving(broker: BrokerUrl, wire: Wire) -> None:
    loaded = load_scenario(TEST_SCENARIOS / "silent-counterpart.yaml")
    scenario = loaded.scenario
    roster = Roster.build(scenario, loaded.agreement)
    topics = wire.topics
    node = AgencyNode(broker, roster, "bb-cert", topics.exercise, 1, scenario.policy_for("aa-cert"))
    task = asyncio.create_task(node.run())
    try:
        status = ExerciseStatus(
            exercise=topics.exercise,
            scenario=scenario.id,
            title=scenario.title,
            sha256=loaded.sha256,
            protocol=loaded.agreement.id,
            seed=1,
            status="running",
            start=scenario.start,
            end=scenario.end,
            agencies=("bb-cert",),
        )
        await wire.publish(topics.exercise_status, status.model_dump_json().encode(), retain=True)
        await wire.wait_for(lambda t, p: t == topics.ready("bb-cert"))

        # 1. garbage
        await wire.publish(topics.msg("bb-cert", "aa-cert"), b"\x00not json at all")
        _, rejected = await wire.wait_for(lambda t, p: t == topics.obs("bb-cert") and p.get("event") == "rejected")
        assert rejected["reason"] == "MALFORMED"
        assert rejected["published_as"] == "aa-cert"
        _, error = await wire.wait_for(lambda t, p: t == topics.msg("aa-cert", "bb-cert"))
        assert error["body"]["kind"] == "PROTOCOL_ERROR"
        assert error["body"]["reason"] == "MALFORMED"

        # 2. an unknown kind
        await wire.publish(topics.msg("bb-cert", "aa-cert"), json.dumps({"v": 1, "body": {"kind": "LAUNCH"}}).encode())
        _, rejected = await wire.wait_for(lambda t, p: t == topics.obs("bb-cert") and p.get("reason") == "UNKNOWN_KIND")
        assert "body" in rejected["detail"]

        # 3. a spoofed sender: aa-nrrc's connection publishing a message that claims to be aa-cert's
        start = scenario.start
        spoof = Envelope(
            id="aa-cert-99",
            exercise=topics.exercise,
            sender="aa-cert",
            recipient="bb-cert",
            channel="cert",
            incident="X-1",
            seq=99,
            sent_at=start,
            arrives_at=start + timedelta(minutes=2),
            body=EarlyWarning(summary="spoof", aware_at=start, suspected_malicious=True, cross_border=True),
        )
        await wire.publish(topics.msg("bb-cert", "aa-nrrc"), encode(spoof))
        _, rejected = await wire.wait_for(
            lambda t, p: t == topics.obs("bb-cert") and p.get("reason") == "SENDER_MISMATCH"
        )
        assert rejected["offending_id"] == "aa-cert-99"
        assert rejected["published_as"] == "aa-nrrc"

        # 4. the node still serves: a genuine early warning is acknowledged in sim time
        genuine = spoof.model_copy(update={"id": "aa-cert-1", "seq": 1, "body": spoof.body})
        await wire.publish(topics.msg("bb-cert", "aa-cert"), encode(genuine))
        round_no, now = 0, start
        for _ in range(20):

            def reported(t: str, p: Any, r: int = round_no) -> bool:
                return t == topics.ready("bb-cert") and p["round"] == r and p["received_from"].get("aa-cert", 0) >= 1

            _, report = await wire.wait_for(reported)
            due = RoundReport.model_validate(report).next_due
            if due is None:
                break
            round_no, now = round_no + 1, max(due, now)
            grant = ClockState(mode="fast", round=round_no, now=now, start=start, end=scenario.end)
            await wire.publish(topics.clock, grant.model_dump_json().encode(), retain=True)
            if any(t == topics.msg("aa-cert", "bb-cert") and p["body"]["kind"] == "ACK" for t, p in wire.seen):
                break
        _, ack = await wire.wait_for(lambda t, p: t == topics.msg("aa-cert", "bb-cert") and p["body"]["kind"] == "ACK")
        assert ack["ref"] == "aa-cert-1"
        assert not task.done(), "the node is still running"
    finally:
        node.finished.set()
        await asyncio.wait_for(task, 10)


async def test_a_node_warning_says_whose_and_when(broker: BrokerUrl, wire: Wire) -> None:
    """The protocol core logs a rejected payload without knowing whose node it is: the log
    context bound by the node (STYLE §10) says whose (agency, exercise) and when (sim time)."""
    loaded = load_scenario(TEST_SCENARIOS / "silent-counterpart.yaml")
    scenario = loaded.scenario
    topics = wire.topics
    node = AgencyNode(
        broker, Roster.build(scenario, loaded.agreement), "bb-cert", topics.exercise, 1, scenario.policy_for("bb-cert")
    )
    with capture_logs(processors=[structlog.contextvars.merge_contextvars]) as logs:
        task = asyncio.create_task(node.run())
        try:
            status = ExerciseStatus(
                exercise=topics.exercise,
                scenario=scenario.id,
                title=scenario.title,
                sha256=loaded.sha256,
                protocol=loaded.agreement.id,
                seed=1,
                status="running",
                start=scenario.start,
                end=scenario.end,
                agencies=("bb-cert",),
            )
            await wire.publish(topics.exercise_status, status.model_dump_json().encode(), retain=True)
            await wire.wait_for(lambda t, p: t == topics.ready("bb-cert"))
            await wire.publish(topics.msg("bb-cert", "aa-cert"), b"\x00not json at all")
            await wire.wait_for(lambda t, p: t == topics.obs("bb-cert") and p.get("event") == "rejected")
        finally:
            node.finished.set()
            await asyncio.wait_for(task, 10)
    warning = next(e for e in logs if e["event"] == "rejected_payload")
    assert warning["log_level"] == "warning"
    assert warning["agency"] == "bb-cert"
    assert warning["exercise"] == topics.exercise
    assert warning["sim_time"] == sim_stamp(scenario.start) == scenario.start.strftime("%Y-%m-%dT%H:%M:%SZ")
    assert structlog.contextvars.get_contextvars() == {}, "the context stays with the node's own tasks"
