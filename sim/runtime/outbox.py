"""A node's write-ahead outbox: what it decided to send is on disk before anything says it was
sent, and stays there until the broker has it.

The protocol core decides on publishes and its state moves on (sequence numbers, "sent"); the
node then saves its state *with* the publishes not yet acknowledged, and only then hands them to
the transport. Killed at any moment, the node restarts from a state file that either predates the
decision (it decides again, the same way: its RNG is in the file) or holds the publishes, which
are sent again. Receivers handle a message id once, and the journal fold an observation once, so
sending one twice is harmless; losing one is not."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import Protocol

from sim.core.nodestate import PendingPublish
from sim.model.topics import Publish


class Sends(Protocol):
    def send(
        self, topic: str, payload: bytes, *, retain: bool = False, on_acked: Callable[[], None] | None = None
    ) -> None: ...


class Outbox:
    def __init__(self, transport: Sends) -> None:
        self.transport = transport
        self._pending: dict[int, Publish] = {}
        self._n = 0
        #: Something was acknowledged since the state was last saved.
        self.changed = False

    def send(self, outs: list[Publish], write_ahead: Callable[[], None]) -> None:
        """Record ``outs``, save (``write_ahead``), then send them."""
        if not outs:
            return
        keys = []
        for out in outs:
            self._n += 1
            self._pending[self._n] = out
            keys.append(self._n)
        write_ahead()
        for key, out in zip(keys, outs, strict=True):
            self.transport.send(out.topic, out.payload, retain=out.retain, on_acked=partial(self._acked, key))

    def _acked(self, key: int) -> None:
        if self._pending.pop(key, None) is not None:
            self.changed = True

    def records(self) -> list[PendingPublish]:
        """What the broker has not acknowledged yet, in order (for the state file)."""
        self.changed = False
        return [
            PendingPublish(topic=p.topic, payload=p.payload.decode(), retain=p.retain)
            for _, p in sorted(self._pending.items())
        ]

    def replay(self, records: list[PendingPublish], write_ahead: Callable[[], None]) -> None:
        """Send again what a previous process of this node had not got acknowledged."""
        self.send([Publish(r.topic, r.payload.encode(), r.retain) for r in records], write_ahead)

    def __len__(self) -> int:
        return len(self._pending)
