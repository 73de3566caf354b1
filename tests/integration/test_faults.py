"""Surviving faults on a real deployment: Mosquitto with persistence is restarted mid-exercise,
and an agency's process is killed with SIGKILL and started again."""

from __future__ import annotations

import asyncio
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
from tests.integration.helpers import Wire, entries, open_wire
from tests.integration.procs import Proc

pytestmark = pytest.mark.integration

DRILL = TEST_SCENARIOS / "drill.yaml"


def _presence(journal: Path, agency: str) -> list[dict[str, Any]]:
    return [e["payload"] for e in entries(journal) if e["topic"].endswith(f"/presence/{agency}")]


@pytest.mark.timeout(60)
async def test_broker_restart_mid_exercise_loses_nothing(tmp_path: Path) -> None:
    exercise = f"br{uuid.uuid4().hex[:6]}"
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        run = asyncio.create_task(
            run_exercise(
                load_scenario(DRILL),
                mode="realtime",
                speed=2400,
                broker=mosquitto.url,
                exercise=exercise,
                journal_path=tmp_path / "journal.jsonl",
            )
        )
        async with open_wire(mosquitto.url, exercise) as wire:
            await wire.wait_for(lambda t, p: "/msg/" in t, timeout=20)  # traffic is flowing
        await mosquitto.restart()  # SIGTERM: Mosquitto saves its store, then starts again
        result = await asyncio.wait_for(run, 45)
    tally = result.state.tally
    assert tally is not None
    assert tally.missing == ()
    assert tally.silent == ()
    assert tally.sent >= 10
    assert result.ok, [f"{v.claim}: {v.found}" for v in result.verdicts if not v.ok]
    # every agency came back on a new connection, and the journal shows it
    for agency in ("aa-cert", "aa-nrrc", "bb-cert", "bb-nrrc"):
        sessions = [p["session"] for p in _presence(result.journal, agency) if p["online"]]
        assert sessions[0] == 1
        assert max(sessions) >= 2, f"{agency} reconnected: {sessions}"


@pytest.mark.timeout(60)
async def test_killed_node_restarts_where_it_was_and_gets_what_was_sent_meanwhile(tmp_path: Path) -> None:
    exercise = f"kill{uuid.uuid4().hex[:6]}"
    loaded = load_scenario(DRILL)
    sc = loaded.scenario
    roster = Roster.build(sc, loaded.agreement)
    async with MosquittoBroker(REPO / "broker.conf", anonymous=True) as mosquitto:
        url = mosquitto.url
        director = Director(
            url, loaded, roster, exercise, sc.seed, tmp_path / "journal.jsonl", mode="realtime", speed=1800
        )
        run = asyncio.create_task(director.run())
        await director.open_for_joining.wait()
        others = [
            AgencyNode(
                url, roster, a, exercise, sc.seed, sc.policy_for(a), run=run_key(exercise, loaded.sha256, sc.seed)
            )
            for a in ("aa-cert", "aa-nrrc", "bb-nrrc")
        ]
        tasks = [asyncio.create_task(n.run()) for n in others]
        args = [
            "node",
            str(DRILL),
            "--agency",
            "bb-cert",
            "--broker",
            str(url),
            "--exercise",
            exercise,
            "--state-dir",
            str(tmp_path / "state"),
        ]
        victim = await Proc("bb-cert-1", args, tmp_path).start()
        topics = director.topics
        try:
            async with open_wire(url, exercise) as wire:
                # bb-cert has taken on an obligation (acknowledge aa-cert's early warning)…
                _, opened = await wire.wait_for(
                    lambda t, p: t == topics.obs("bb-cert") and _is(p, "obligation", "open"), timeout=20
                )
                owed = opened["obligation"]["id"]
                victim.kill()  # …and dies without a word: SIGKILL
                await wire.wait_for(lambda t, p: t == topics.presence("bb-cert") and p == _presence_of(False, 1))
                # what is sent to it while it is away waits at the broker
                await wire.wait_for(
                    lambda t, p: t.startswith(topics.msg("bb-cert", "")) and _after_offline(wire, t), timeout=20
                )
                restarted = await Proc("bb-cert-2", args, tmp_path).start()
                await wire.wait_for(lambda t, p: t == topics.presence("bb-cert") and p == _presence_of(True, 2))
                state = await asyncio.wait_for(run, 45)
                assert await restarted.wait(10) == 0, restarted.output()
                closed = [
                    p
                    for t, p in wire.seen
                    if t == topics.obs("bb-cert")
                    and isinstance(p, dict)
                    and p.get("event") == "obligation"
                    and p["obligation"]["id"] == owed
                    and p["status"] in ("met", "missed")
                ]
        finally:
            victim.kill()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    assert closed, f"the restarted node carried on with {owed} (it resumed its saved state)"
    tally = state.tally
    assert tally is not None
    assert tally.missing == (), tally
    presence = [(p["online"], p["session"]) for p in _presence(tmp_path / "journal.jsonl", "bb-cert")]
    assert (False, 1) in presence, presence
    assert presence.index((False, 1)) < presence.index((True, 2))


def _is(payload: Any, event: str, status: str) -> bool:
    return isinstance(payload, dict) and payload.get("event") == event and payload.get("status") == status


def _presence_of(online: bool, session: int) -> dict[str, Any]:
    return {"agency": "bb-cert", "online": online, "session": session}


def _after_offline(wire: Wire, topic: str) -> bool:
    """True once a message to bb-cert was published after its offline presence."""
    offline = next(
        i for i, (t, p) in enumerate(wire.seen) if t.endswith("/presence/bb-cert") and p == _presence_of(False, 1)
    )
    return any(t.startswith(topic.rsplit("/", 1)[0]) for t, _ in wire.seen[offline + 1 :])
