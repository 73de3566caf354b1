"""Helpers for integration tests: run a scenario through a real broker, read what it wrote."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sim.exercise import RunResult, run_fast
from sim.scenario import load_scenario
from sim.transport import BrokerUrl


async def run_scenario(
    path: Path,
    broker: BrokerUrl,
    tmp: Path,
    *,
    seed: int | None = None,
    protocol: str | None = None,
    exercise: str | None = None,
    name: str = "journal.jsonl",
) -> RunResult:
    loaded = load_scenario(path, protocol)
    return await run_fast(loaded, seed=seed, broker=broker, journal_path=tmp / name, exercise=exercise)


def entries(journal: Path) -> list[dict[str, Any]]:
    lines = journal.read_text().splitlines()
    return [json.loads(line) for line in lines[1:]]


def messages(journal: Path) -> list[dict[str, Any]]:
    return [e["payload"] for e in entries(journal) if "/msg/" in e["topic"]]


def observations(journal: Path, event: str | None = None) -> list[dict[str, Any]]:
    return [
        e["payload"]
        for e in entries(journal)
        if "/obs/" in e["topic"] and (event is None or e["payload"].get("event") == event)
    ]
