"""A node's persistent state: everything it needs to carry on after a crash.

:class:`NodeState` is written after every change and reloaded at restart (a few kB). The
agenda is stored one :class:`HeapEntry` per item, with the item in the field of its type.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel

from sim.core.agenda import Due, Inbound, Slot
from sim.core.automation.drafts import AutomatonState, Draft
from sim.model.control import InjectOrder
from sim.model.links import LinkRow
from sim.model.messages import Envelope, Kind
from sim.model.obligations import Book


class HeapEntry(BaseModel):
    at: datetime
    cls: int
    key: str
    order: int
    counter: int
    inbound: Inbound | None = None
    inject: InjectOrder | None = None
    draft: Draft | None = None

    @classmethod
    def of(cls, due: Due) -> HeapEntry:
        entry = cls(at=due.at, cls=int(due.slot), key=due.key, order=due.order, counter=due.counter)
        match due.item:
            case Inbound() as inbound:
                entry.inbound = inbound
            case Draft() as draft:
                entry.draft = draft
            case inject:
                entry.inject = inject
        return entry

    def due(self) -> Due:
        item = self.inbound or self.inject or self.draft
        assert item is not None
        return Due(self.at, Slot(self.cls), self.key, self.order, self.counter, item)


class PendingPublish(BaseModel):
    """A publish decided on and not yet acknowledged by the broker (the write-ahead outbox)."""

    topic: str
    payload: str
    retain: bool = False


class NodeState(BaseModel):
    """Everything a node needs to carry on after a crash: written after every change,
    reloaded at restart (a few kB)."""

    agency: str
    run: str
    session: int = 0
    now: datetime | None = None
    seq: int
    counter: int
    obs_n: int
    published: int
    injects: int
    sent_to: dict[str, int]
    received_from: dict[str, int]
    #: Ids of the protocol messages sent to and received from each peer (the delivery tally's).
    sent_ids: dict[str, list[str]] = {}
    received_ids: dict[str, list[str]] = {}
    book: Book
    automaton: AutomatonState
    heap: list[HeapEntry]
    outbox: dict[str, Envelope]
    last_from: list[tuple[str, Kind, str]]
    links: list[LinkRow]
    rng_policy: Any
    rng_links: Any
    #: Written before anything is sent (write-ahead): what the broker has not acknowledged yet,
    #: published again when the node restarts from this state.
    pending: list[PendingPublish] = []


def rng_state(value: Any) -> tuple[Any, ...]:
    """random.Random.getstate() after a JSON round trip (lists back to tuples)."""
    version, internal, gauss = value
    return (version, tuple(internal), gauss)
