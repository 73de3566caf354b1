"""Helpers for integration tests: run a scenario through a real broker, read what it wrote."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiomqtt

from sim.model.topics import Topics
from sim.runtime.exercise import RunResult, run_fast
from sim.runtime.transport import NODELAY, BrokerUrl
from sim.scenario.load import load_scenario


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


Msg = tuple[str, Any]


class Wire:
    """A raw client that sees everything under the exercise prefix."""

    def __init__(self, client: aiomqtt.Client, topics: Topics) -> None:
        self.client = client
        self.topics = topics
        self.seen: list[Msg] = []
        self._new = asyncio.Event()

    async def pump(self) -> None:
        async for message in self.client.messages:
            payload = bytes(message.payload) if isinstance(message.payload, bytes | bytearray) else b""
            try:
                data: Any = json.loads(payload) if payload else None
            except ValueError:
                data = payload
            self.seen.append((str(message.topic), data))
            self._new.set()

    async def wait_for(self, match: Callable[[str, Any], bool], timeout: float = 10) -> Msg:
        async def scan() -> Msg:
            checked = 0
            while True:
                for item in self.seen[checked:]:
                    if match(*item):
                        return item
                checked = len(self.seen)
                self._new.clear()
                await self._new.wait()

        return await asyncio.wait_for(scan(), timeout)

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        await self.client.publish(topic, payload, qos=1, retain=retain)


class open_wire:  # noqa: N801 - used as `async with open_wire(...)`
    """A raw observer client on the exercise prefix (or any filter), for tests to watch and poke."""

    def __init__(self, url: BrokerUrl, exercise: str, *, subscribe: str | None = None, client_id: str = "") -> None:
        self.url = url
        self.topics = Topics(exercise)
        self.subscribe = subscribe or self.topics.everything
        self.client_id = client_id or f"wire-{exercise}"
        self._client: aiomqtt.Client | None = None
        self._pump: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Wire:
        self._client = aiomqtt.Client(
            self.url.host,
            self.url.port,
            identifier=self.client_id,
            username=self.url.username,
            password=self.url.password,
            socket_options=NODELAY,
        )
        await self._client.__aenter__()
        await self._client.subscribe(self.subscribe, qos=1)
        wire = Wire(self._client, self.topics)
        self._pump = asyncio.create_task(wire.pump())
        return wire

    async def __aexit__(self, *exc: object) -> None:
        if self._pump is not None:
            self._pump.cancel()
            await asyncio.gather(self._pump, return_exceptions=True)
        if self._client is not None:
            await self._client.__aexit__(None, None, None)


async def command(wire: Wire, action: str, client: str = "facilitator", **fields: Any) -> dict[str, Any]:
    """Send a facilitator command through the broker and return the director's answer."""
    cid = f"t{len(wire.seen)}-{action}"
    payload = json.dumps({"id": cid, "action": action, **fields}).encode()
    await wire.publish(wire.topics.cmd(client), payload)
    _, result = await wire.wait_for(lambda t, p: t == wire.topics.result(client) and p.get("id") == cid)
    assert isinstance(result, dict)
    return result
