"""Nothing a participant sends can stop an exercise (issue 11, findings 1 and 8): poison on every
topic the director reads — retained before it starts, and live while it runs — on Mosquitto,
with the director in the loop. The exercise ends normally, its expectations hold, and the junk
is in the journal only as bounded records."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from sim.model.topics import Topics
from sim.runtime.broker import MosquittoBroker
from sim.runtime.exercise import RunResult, run_exercise
from sim.runtime.transport import BrokerUrl
from sim.scenario.load import load_scenario
from tests.conftest import REPO, TEST_SCENARIOS
from tests.integration.helpers import open_wire

pytestmark = pytest.mark.integration

DRILL = TEST_SCENARIOS / "drill.yaml"

#: One of each kind of poison the audit found (or could have).
POISON: dict[str, bytes] = {
    "encoded-surrogate": b'{"a":"\xed\xa0\x80"}',
    "escaped-surrogate": b'{"a":"\\ud800"}',
    "deep-list": b"[" * 1000 + b"]" * 1000,
    "deep-object": b'{"a":' * 1000 + b"1" + b"}" * 1000,
    "nan": b'{"v": 1, "n": NaN}',
    "infinity": b'{"v": 1e999}',
    "huge-int": b'{"v": ' + b"9" * 5000 + b"}",
    "binary": bytes(range(256)),
    "large": b'{"a":"' + b"x" * 300_000 + b'"}',
}


def reads(topics: Topics) -> list[str]:
    """Every topic the director reads (it subscribes to all of the exercise)."""
    return [
        topics.msg("bb-cert", "aa-cert"),
        topics.obs("aa-cert"),
        topics.presence("aa-cert"),
        topics.ready("aa-cert"),
        topics.cmd("facilitator"),
        topics.result("facilitator"),
        topics.inject("aa-cert"),
        topics.clock,
        topics.exercise_status,
        topics.links,
        topics.journal_path,
        topics.tally,
        f"{topics.root}/ctl/director",
        f"{topics.root}/nothing/here",
    ]


@pytest.fixture
async def mosquitto() -> AsyncIterator[BrokerUrl]:
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as broker:
        yield broker.url


def _run(url: BrokerUrl, tmp_path: Path, exercise: str) -> asyncio.Task[RunResult]:
    return asyncio.create_task(
        run_exercise(
            load_scenario(DRILL),
            mode="realtime",
            speed=3600,
            broker=url,
            exercise=exercise,
            journal_path=tmp_path / "journal.jsonl",
        )
    )


def _strict_lines(journal: Path) -> list[dict[str, Any]]:
    """Every journal line is strict JSON (no NaN, no Infinity) and valid UTF-8."""

    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in the journal")

    raw = journal.read_bytes()
    raw.decode("utf-8")  # strict
    return [json.loads(line, parse_constant=refuse) for line in raw.splitlines()]


def _assert_ran_normally(result: RunResult) -> None:
    assert result.ok, [f"{v.claim}: {v.found}" for v in result.verdicts if not v.ok]
    tally = result.state.tally
    assert tally is not None, "the director gave its final tally"
    assert tally.missing == (), tally
    assert tally.silent == (), tally


@pytest.mark.timeout(90)
async def test_retained_poison_on_every_topic_the_director_reads(mosquitto: BrokerUrl, tmp_path: Path) -> None:
    """Planted before the director starts: it reads each one at once, when it subscribes."""
    exercise = f"rp{uuid.uuid4().hex[:6]}"
    topics = Topics(exercise)
    kinds = list(POISON.values())
    planted = {topic: kinds[i % len(kinds)] for i, topic in enumerate(reads(topics))}
    # the audit's hang: a deep payload retained on an agency's presence
    planted |= {topics.presence(a): POISON["deep-object"] for a in ("aa-cert", "aa-nrrc", "bb-cert", "bb-nrrc")}
    async with open_wire(mosquitto, exercise, client_id=f"poisoner-{exercise}") as wire:
        for topic, payload in planted.items():
            await wire.publish(topic, payload, retain=True)
    result = await asyncio.wait_for(_run(mosquitto, tmp_path, exercise), 60)
    _assert_ran_normally(result)
    _strict_lines(result.journal)


@pytest.mark.timeout(90)
async def test_live_poison_on_every_topic_the_director_reads(mosquitto: BrokerUrl, tmp_path: Path) -> None:
    exercise = f"lp{uuid.uuid4().hex[:6]}"
    topics = Topics(exercise)
    async with open_wire(mosquitto, exercise, client_id=f"poisoner-{exercise}") as wire:
        run = _run(mosquitto, tmp_path, exercise)
        await wire.wait_for(
            lambda t, p: t == topics.exercise_status and isinstance(p, dict) and p["status"] == "running"
        )
        for topic in reads(topics):
            for payload in POISON.values():
                await wire.publish(topic, payload)
        result = await asyncio.wait_for(run, 60)
    _assert_ran_normally(result)
    lines = _strict_lines(result.journal)
    junk = [line for line in lines if "junk" in line]
    # what reached the director while it recorded is in the journal as bounded records
    assert {j["junk"]["reason"] for j in junk} >= {"TOO_DEEP", "TOO_LARGE", "MALFORMED", "NOT_FINITE"}, junk[:3]
    assert all(len(json.dumps(j)) < 1000 for j in junk), "a junk record is bounded"
    assert all(len(j["junk"]["sha256"]) == 64 for j in junk)
    assert max(len(line) for line in result.journal.read_bytes().splitlines()) < 20_000
