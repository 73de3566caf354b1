"""Simulated channel conditions and each message's fate on its link (pure).

A link is up or down and has a latency, a loss rate and a duplication rate. The sender's
link layer asks :func:`decide` what happens to each message; the answer depends only on the
condition and the sender's link RNG, so the same seed gives the same fates.
"""

from __future__ import annotations

import enum
import random
from dataclasses import dataclass, replace
from datetime import timedelta

from pydantic import BaseModel, ConfigDict

from sim.durations import Duration
from sim.roster import LinkKey
from sim.scenario import FaultKind, LinkFault


class Fate(enum.StrEnum):
    DELIVERED = "delivered"
    DUPLICATED = "duplicated"
    LOST = "lost"
    REFUSED = "refused"  # the link is down and the sender knows it at once


@dataclass(frozen=True)
class Condition:
    up: bool
    latency: timedelta
    loss: float = 0.0
    duplicate: float = 0.0


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


class LinkRow(BaseModel):
    """One link's condition as published on ``ctl/links``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    channel: str
    a: str
    b: str
    up: bool
    latency: Duration
    loss: float = 0.0
    duplicate: float = 0.0

    @property
    def key(self) -> LinkKey:
        return LinkKey(self.channel, self.a, self.b)

    @property
    def condition(self) -> Condition:
        return Condition(self.up, self.latency, self.loss, self.duplicate)


class LinkTable:
    """Current condition of every link; faults change it and can be reverted."""

    def __init__(self, base: dict[LinkKey, timedelta]) -> None:
        self._now = {key: Condition(up=True, latency=lat) for key, lat in base.items()}

    def get(self, key: LinkKey) -> Condition | None:
        return self._now.get(key)

    def keys_for(self, fault: LinkFault) -> list[LinkKey]:
        keys = [k for k in self._now if k.channel == fault.channel]
        if fault.between is not None:
            wanted = LinkKey.of(fault.channel, *fault.between)
            keys = [k for k in keys if k == wanted]
        return keys

    def apply(self, fault: LinkFault) -> dict[LinkKey, Condition]:
        """Apply a fault; returns the previous conditions of the links it changed."""
        before: dict[LinkKey, Condition] = {}
        for key in self.keys_for(fault):
            old = self._now[key]
            before[key] = old
            match fault.fault:
                case FaultKind.DOWN:
                    new = replace(old, up=False)
                case FaultKind.UP:
                    new = replace(old, up=True)
                case FaultKind.LATENCY:
                    assert fault.latency is not None
                    new = replace(old, latency=fault.latency)
                case FaultKind.LOSS:
                    new = replace(old, loss=fault.rate or 0.0)
                case FaultKind.DUPLICATE:
                    new = replace(old, duplicate=fault.rate or 0.0)
            self._now[key] = new
        return before

    def revert(self, fault: LinkFault, before: dict[LinkKey, Condition]) -> None:
        """Undo ``fault``'s own field on the links it changed (other faults stay)."""
        for key, old in before.items():
            now = self._now[key]
            match fault.fault:
                case FaultKind.DOWN | FaultKind.UP:
                    self._now[key] = replace(now, up=old.up)
                case FaultKind.LATENCY:
                    self._now[key] = replace(now, latency=old.latency)
                case FaultKind.LOSS:
                    self._now[key] = replace(now, loss=old.loss)
                case FaultKind.DUPLICATE:
                    self._now[key] = replace(now, duplicate=old.duplicate)

    def rows(self) -> list[LinkRow]:
        return [
            LinkRow(channel=k.channel, a=k.a, b=k.b, up=c.up, latency=c.latency, loss=c.loss, duplicate=c.duplicate)
            for k, c in sorted(self._now.items())
        ]

    @classmethod
    def from_rows(cls, rows: list[LinkRow]) -> LinkTable:
        table = cls({})
        table._now = {row.key: row.condition for row in rows}
        return table
