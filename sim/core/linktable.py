"""Simulated channel conditions and each message's fate on its link (pure).

A link is up or down and has a latency, a loss rate and a duplication rate. The sender's
link layer asks :func:`decide` what happens to each message; the answer depends only on the
condition and the sender's link RNG, so the same seed gives the same fates.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import timedelta

from sim.model.injects import FaultKind, LinkFault
from sim.model.links import Condition, Fate, LinkKey, LinkRow


@dataclass(frozen=True)
class Decision:
    fate: Fate
    latency: timedelta

    @property
    def copies(self) -> int:
        return {Fate.DELIVERED: 1, Fate.DUPLICATED: 2}.get(self.fate, 0)


def decide(condition: Condition, rng: random.Random) -> Decision:
    # Always draw twice, so one message's fate never shifts the draws of the next one.
    lost_draw, dup_draw = rng.random(), rng.random()
    if not condition.up:
        return Decision(Fate.REFUSED, condition.latency)
    if lost_draw < condition.loss:
        return Decision(Fate.LOST, condition.latency)
    if dup_draw < condition.duplicate:
        return Decision(Fate.DUPLICATED, condition.latency)
    return Decision(Fate.DELIVERED, condition.latency)


class LinkTable:
    """Current condition of every link: the scenario's base latency with the active faults laid
    over it in the order they began. Ending a fault recomputes from what is still active, so
    overlapping faults (an 8-hour outage inside a 2-hour one) end correctly."""

    def __init__(self, base: dict[LinkKey, timedelta]) -> None:
        self._base = {key: Condition(up=True, latency=lat) for key, lat in base.items()}
        self._now = dict(self._base)
        self._faults: dict[int, tuple[LinkFault, tuple[LinkKey, ...]]] = {}
        self._next = 0

    def get(self, key: LinkKey) -> Condition | None:
        return self._now.get(key)

    def keys_for(self, fault: LinkFault) -> list[LinkKey]:
        keys = [k for k in self._now if k.channel == fault.channel]
        if fault.between is not None:
            wanted = LinkKey.of(fault.channel, *fault.between)
            keys = [k for k in keys if k == wanted]
        return keys

    def apply(self, fault: LinkFault) -> int | None:
        """Lay a fault over the links it names; returns its id for :meth:`end` (None when it
        names no link of this agreement). ``up`` ends the outages of those links instead."""
        keys = tuple(self.keys_for(fault))
        if not keys:
            return None
        if fault.fault is FaultKind.UP:
            for fid, (active, touched) in list(self._faults.items()):
                if active.fault is FaultKind.DOWN and set(touched) & set(keys):
                    del self._faults[fid]
            self._recompute(keys)
            return None
        self._next += 1
        self._faults[self._next] = (fault, keys)
        self._recompute(keys)
        return self._next

    def end(self, fault_id: int) -> bool:
        """End a fault (its ``for:`` ran out). False if it had already ended."""
        entry = self._faults.pop(fault_id, None)
        if entry is None:
            return False
        self._recompute(entry[1])
        return True

    def _recompute(self, keys: tuple[LinkKey, ...]) -> None:
        for key in keys:
            condition = self._base[key]
            for fault, touched in self._faults.values():  # in the order they began
                if key in touched:
                    condition = _overlay(condition, fault)
            self._now[key] = condition

    def rows(self) -> list[LinkRow]:
        return [
            LinkRow(channel=k.channel, a=k.a, b=k.b, up=c.up, latency=c.latency, loss=c.loss, duplicate=c.duplicate)
            for k, c in sorted(self._now.items())
        ]

    @classmethod
    def from_rows(cls, rows: list[LinkRow]) -> LinkTable:
        """The conditions as published (nodes follow the director's table, faults included)."""
        table = cls({})
        table._base = {row.key: row.condition for row in rows}
        table._now = dict(table._base)
        return table


def _overlay(condition: Condition, fault: LinkFault) -> Condition:
    match fault.fault:
        case FaultKind.DOWN:
            return replace(condition, up=False)
        case FaultKind.LATENCY:
            assert fault.latency is not None
            return replace(condition, latency=fault.latency)
        case FaultKind.LOSS:
            return replace(condition, loss=fault.rate or 0.0)
        case FaultKind.DUPLICATE:
            return replace(condition, duplicate=fault.rate or 0.0)
        case FaultKind.UP:
            return replace(condition, up=True)
