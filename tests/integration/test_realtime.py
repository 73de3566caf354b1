"""Realtime exercises: the clock is shared through the broker, and the facilitator steers it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from sim.model.control import ClockState
from sim.runtime.clock import RealtimeClock
from sim.runtime.exercise import RunResult, run_exercise
from sim.runtime.transport import BrokerUrl
from sim.scenario.load import load_scenario
from tests.conftest import TEST_SCENARIOS
from tests.integration.helpers import Wire, command, entries, open_wire

pytestmark = pytest.mark.integration

DRILL = TEST_SCENARIOS / "drill.yaml"


def _at(result: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(result["at"])


async def _running(wire: Wire) -> None:
    await wire.wait_for(
        lambda t, p: t == wire.topics.exercise_status and isinstance(p, dict) and p.get("status") == "running"
    )


def _start(broker: BrokerUrl, tmp_path: Path, exercise: str, speed: float) -> asyncio.Task[RunResult]:
    loaded = load_scenario(DRILL)
    return asyncio.create_task(
        run_exercise(
            loaded,
            mode="realtime",
            speed=speed,
            broker=broker,
            exercise=exercise,
            journal_path=tmp_path / "journal.jsonl",
        )
    )


async def test_realtime_run_completes_and_meets_expectations(broker: BrokerUrl, tmp_path: Path) -> None:
    result = await run_exercise(
        load_scenario(DRILL),
        mode="realtime",
        speed=7200,
        broker=broker,
        exercise=f"rt{uuid.uuid4().hex[:6]}",
        journal_path=tmp_path / "j.jsonl",
    )
    assert result.ok, [f"{v.claim}: {v.found}" for v in result.verdicts if not v.ok]
    assert result.state.tally is not None
    assert result.state.tally.missing == ()
    assert result.state.tally.sent >= 10
    # 6 sim hours at ×7200 is 3 s of wall time (plus start-up)
    assert result.stats.wall_seconds >= 2.5, "paced by the wall clock"


async def test_pause_freezes_sim_time_and_deadlines_until_resume(broker: BrokerUrl, tmp_path: Path) -> None:
    exercise = f"p{uuid.uuid4().hex[:6]}"
    async with open_wire(broker, exercise) as wire:
        run = _start(broker, tmp_path, exercise, speed=600)
        await _running(wire)
        paused = await command(wire, "pause")
        assert paused["accepted"], paused
        frozen = _at(paused)
        # While paused, sim time stands still however long the facilitator takes…
        sped = await command(wire, "speed", speed=100_000)
        assert sped["accepted"]
        again = await command(wire, "pause")
        assert not again["accepted"]
        assert again["reason"] == "already paused"
        assert _at(sped) == frozen
        assert _at(again) == frozen
        _, clock = await wire.wait_for(
            lambda t, p: t == wire.topics.clock and isinstance(p, dict) and p.get("speed") == 100_000
        )
        assert clock["paused"] is True
        # …and no deadline fires: nothing but control traffic is stamped after the pause.
        resumed = await command(wire, "resume")
        assert resumed["accepted"]
        assert _at(resumed) == frozen
        result = await asyncio.wait_for(run, 30)  # at ×100000 the remaining hours take seconds
    assert result.ok
    journal = entries(result.journal)
    pause_index = next(i for i, e in enumerate(journal) if e["topic"].endswith("/ctl/result/facilitator"))
    resume_index = max(
        i
        for i, e in enumerate(journal)
        if e["topic"].endswith("/ctl/result/facilitator") and e["payload"]["action"] == "resume"
    )
    during = [e for e in journal[pause_index:resume_index] if "/ctl/" not in e["topic"]]
    assert all(datetime.fromisoformat(e["t"]) <= frozen + timedelta(seconds=1) for e in during), during
    assert journal[-1]["topic"].endswith("/ctl/tally")


async def test_a_late_joiner_computes_the_same_sim_time(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    exercise = f"l{uuid.uuid4().hex[:6]}"
    async with open_wire(amqtt_url, exercise) as wire:
        run = _start(amqtt_url, tmp_path, exercise, speed=60)
        await _running(wire)
        # A participant that joins now only has the retained clock state to go by.
        async with open_wire(amqtt_url, exercise, subscribe=wire.topics.clock, client_id="late") as late:
            _, retained = await late.wait_for(
                lambda t, p: isinstance(p, dict) and p.get("mode") == "realtime" and not p.get("paused")
            )
            clock = RealtimeClock(datetime(2000, 1, 1, tzinfo=UTC))
            clock.adopt(ClockState.model_validate(retained))
            mine = clock.now()
            answer = await command(wire, "pause")
        director = _at(answer)
        # at ×60 one wall second is one sim minute: the two agree within the command round trip
        assert abs((director - mine).total_seconds()) < 60
        assert (await command(wire, "end"))["accepted"]
        await asyncio.wait_for(run, 20)


async def test_live_inject_and_refusals(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    exercise = f"i{uuid.uuid4().hex[:6]}"
    async with open_wire(amqtt_url, exercise) as wire:
        run = _start(amqtt_url, tmp_path, exercise, speed=600)
        await _running(wire)
        detect = {
            "at": "+00:00",
            "detect": {
                "agency": "bb-cert",
                "incident": "LIVE-1",
                "severity": 2,
                "summary": "Facilitator inject",
                "suspected_origin": "aa",
            },
        }
        accepted = await command(wire, "inject", inject=detect)
        assert accepted["accepted"], accepted
        bad = {"at": "+00:00", "detect": {**detect["detect"], "agency": "zz-cert"}}  # type: ignore[dict-item]
        refused = await command(wire, "inject", inject=bad)
        assert not refused["accepted"]
        assert "unknown agency 'zz-cert'" in refused["reason"]
        nonsense = await command(wire, "speed", speed=-5)
        assert not nonsense["accepted"]
        assert "speed" in nonsense["reason"]
        # the live inject reaches the agency and it warns its counterpart about LIVE-1
        await wire.wait_for(
            lambda t, p: (
                t == wire.topics.msg("aa-cert", "bb-cert") and isinstance(p, dict) and p.get("incident") == "LIVE-1"
            ),
            timeout=20,
        )
        ended = await command(wire, "end")
        assert ended["accepted"]
        result = await asyncio.wait_for(run, 20)
    assert "LIVE-1" in result.state.incidents
    assert result.state.tally is not None
    assert result.state.tally.missing == ()


async def test_fast_mode_refuses_speed_and_obeys_end(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    exercise = f"f{uuid.uuid4().hex[:6]}"
    async with open_wire(amqtt_url, exercise) as wire:
        loaded = load_scenario(DRILL)
        run = asyncio.create_task(
            run_exercise(loaded, mode="fast", broker=amqtt_url, exercise=exercise, journal_path=tmp_path / "j.jsonl")
        )
        await _running(wire)
        paused = await command(wire, "pause")
        if paused["accepted"]:  # the run may already be over: fast mode is fast
            refused = await command(wire, "speed", speed=10)
            assert not refused["accepted"]
            assert "fast mode" in refused["reason"]
            assert (await command(wire, "end"))["accepted"]
        await asyncio.wait_for(run, 20)
