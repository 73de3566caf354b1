"""Nothing is lost without the run failing (issue 11, findings 4 and 5), checked independently of
the nodes' own counts: the message ids their state files say were sent, against the journal.

* A node that decided on a message while the broker was unreachable, and was then killed, sends
  it when it is started again: its outbox is written ahead of "sent" (finding 5).
* Mosquitto killed with SIGKILL mid-exercise and started again: every message the state files
  say was sent is in the journal — or the run failed, naming exactly what was not received."""

from __future__ import annotations

import asyncio
import json
import uuid
from pathlib import Path
from typing import Any

import pytest

from sim.core.roster import Roster
from sim.runtime.broker import MosquittoBroker
from sim.runtime.director import Director
from sim.runtime.exercise import run_exercise
from sim.runtime.node import AgencyNode, run_key
from sim.scenario.load import load_scenario
from tests.conftest import REPO, TEST_SCENARIOS
from tests.integration.helpers import entries, open_wire

pytestmark = pytest.mark.integration

DRILL = TEST_SCENARIOS / "drill.yaml"
AGENCIES = ("aa-cert", "aa-nrrc", "bb-cert", "bb-nrrc")


def _state(path: Path) -> dict[str, Any]:
    try:
        data: dict[str, Any] = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return data


def _sent(state: dict[str, Any]) -> set[str]:
    """What a node's protocol state says it sent (its book), PROTOCOL_ERROR replies aside."""
    return {i for i, sent in state.get("book", {}).get("sent", {}).items() if sent["kind"] != "PROTOCOL_ERROR"}


def _journal_ids(journal: Path) -> set[str]:
    return {e["payload"]["id"] for e in entries(journal) if "/msg/" in e["topic"] and "payload" in e}


class Watched(AgencyNode):
    """A node whose saves the test can wait for."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.saved = asyncio.Event()

    def save(self, *, force: bool = False) -> None:
        super().save(force=force)
        self.saved.set()


async def _until_sent_more(node: Watched, state_file: Path, before: set[str], timeout: float) -> set[str]:
    """Wait until the node's state file records a message sent that was not in ``before``."""

    async def watch() -> set[str]:
        while not (new := _sent(_state(state_file)) - before):
            node.saved.clear()
            await node.saved.wait()
        return new

    return await asyncio.wait_for(watch(), timeout)


@pytest.mark.timeout(120)
async def test_a_message_decided_while_the_broker_was_down_survives_the_node_being_killed(tmp_path: Path) -> None:
    exercise = f"wal{uuid.uuid4().hex[:6]}"
    loaded = load_scenario(DRILL)
    sc = loaded.scenario
    roster = Roster.build(sc, loaded.agreement)
    state_dir = tmp_path / "state"
    state_file = state_dir / "bb-cert.state.json"
    key = run_key(exercise, loaded.sha256, sc.seed)

    def node(agency: str, **kw: Any) -> AgencyNode:
        return AgencyNode(mosquitto.url, roster, agency, exercise, sc.seed, sc.policy_for(agency), run=key, **kw)

    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        journal = tmp_path / "journal.jsonl"
        director = Director(mosquitto.url, loaded, roster, exercise, sc.seed, journal, mode="realtime", speed=900)
        run = asyncio.create_task(director.run())
        await director.open_for_joining.wait()
        tasks = [asyncio.create_task(node(a).run()) for a in AGENCIES if a != "bb-cert"]
        victim = Watched(
            mosquitto.url, roster, "bb-cert", exercise, sc.seed, sc.policy_for("bb-cert"), run=key, state_dir=state_dir
        )
        crashed = asyncio.create_task(victim.run())
        try:
            async with open_wire(mosquitto.url, exercise) as wire:
                # an early warning reaches bb-cert: it owes an acknowledgement, in 20-40 sim minutes
                await wire.wait_for(lambda t, p: t == wire.topics.msg("bb-cert", "aa-cert"), timeout=30)
                before = _sent(_state(state_file))
                await mosquitto.stop()  # the broker is unreachable while it decides, and sends…
            decided = await _until_sent_more(victim, state_file, before, timeout=30)
            crashed.cancel()  # …and the process dies before the broker is back: its queue is gone
            await asyncio.gather(crashed, return_exceptions=True)
            await mosquitto.start()
            restarted = node("bb-cert", state_dir=state_dir)
            tasks.append(asyncio.create_task(restarted.run()))
            result = await asyncio.wait_for(run, 60)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert decided <= _journal_ids(journal), "what was decided during the outage was sent after all"
    assert result.tally is not None
    assert result.tally.missing == (), result.tally


@pytest.mark.timeout(120)
async def test_mosquitto_killed_mid_exercise_loses_nothing_without_the_run_failing(tmp_path: Path) -> None:
    exercise = f"k9{uuid.uuid4().hex[:6]}"
    journal = tmp_path / "journal.jsonl"
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        run = asyncio.create_task(
            run_exercise(
                load_scenario(DRILL),
                mode="realtime",
                speed=1800,
                broker=mosquitto.url,
                exercise=exercise,
                journal_path=journal,
            )
        )
        async with open_wire(mosquitto.url, exercise) as wire:
            await wire.wait_for(lambda t, p: "/msg/" in t, timeout=30)
        await mosquitto.stop(kill=True)  # SIGKILL: no chance to save anything
        await mosquitto.start()
        result = await asyncio.wait_for(run, 60)
    states = {a: _state(journal.with_suffix(".nodes") / f"{a}.state.json") for a in AGENCIES}
    sent = set().union(*(_sent(s) for s in states.values()))
    assert len(sent) >= 8
    received = {i for s in states.values() for ids in s.get("received_ids", {}).values() for i in ids}
    never_received = sent - received
    tally = result.state.tally
    assert tally is not None
    assert {i for pair in tally.missing for i in pair.lost} == never_received, "the tally names every loss"
    assert result.ok == (not never_received), "a loss fails the run"
    assert received <= _journal_ids(journal), "what arrived is in the journal"
