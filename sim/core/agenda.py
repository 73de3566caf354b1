"""A node's agenda: what falls due when, taken in a canonical order.

Messages waiting for their simulated arrival, inject orders and the agency's own scheduled
drafts share one heap (SimPy style). Items due at the same instant come messages first (by
sender, then sequence number), then injects (by sequence number), then drafts; a counter makes
every remaining tie deterministic.
"""

from __future__ import annotations

import enum
import heapq
from dataclasses import dataclass, field
from datetime import datetime

from sim.core.automation.drafts import Draft
from sim.model.control import InjectOrder
from sim.model.messages import Envelope


class Slot(enum.IntEnum):
    """Order of items due at the same instant."""

    MESSAGE = 0
    INJECT = 1
    DRAFT = 2


@dataclass(frozen=True)
class Inbound:
    """A message that passed screening and waits for its simulated arrival."""

    envelope: Envelope
    topic_sender: str


#: What the agenda holds.
Item = Inbound | InjectOrder | Draft


@dataclass(frozen=True, order=True)
class Due:
    """One item on the agenda; ordered by (at, slot, key, order, counter)."""

    at: datetime
    slot: Slot
    key: str
    order: int
    counter: int
    item: Item = field(compare=False)


class Agenda:
    def __init__(self) -> None:
        self._heap: list[Due] = []
        #: Items pushed so far (the tie-breaker of the next one).
        self.counter = 0

    def push(self, at: datetime, slot: Slot, key: str, order: int, item: Item) -> None:
        self.counter += 1
        heapq.heappush(self._heap, Due(at, slot, key, order, self.counter, item))

    def next_time(self) -> datetime | None:
        return self._heap[0].at if self._heap else None

    def pop(self) -> Due:
        return heapq.heappop(self._heap)

    def entries(self) -> list[Due]:
        """Everything on the agenda, in heap order (for a snapshot)."""
        return list(self._heap)

    def load(self, entries: list[Due], counter: int) -> None:
        self._heap = list(entries)
        heapq.heapify(self._heap)
        self.counter = counter
