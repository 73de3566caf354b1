"""Simulated channel conditions and each message's fate on its link (pure).

A link is up or down and has a latency, a loss rate and a duplication rate. The sender's
link layer asks :func:`decide` what happens to each message; the answer depends only on the
condition and the sender's link RNG, so the same seed gives the same fates.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import timedelta
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from sim.model.durations import Duration


@dataclass(frozen=True, order=True)
class LinkKey:
    """An undirected link: a channel between two agencies (stored in sorted order)."""

    channel: str
    a: str
    b: str

    @classmethod
    def of(cls, channel: str, x: str, y: str) -> LinkKey:
        a, b = sorted((x, y))
        return cls(channel, a, b)

    def other(self, agency: str) -> str:
        return self.b if agency == self.a else self.a

    def joins(self, agency: str) -> bool:
        return agency in (self.a, self.b)

    @property
    def label(self) -> str:
        return f"{self.channel}:{self.a}~{self.b}"


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


class LinkRow(BaseModel):
    """One link's condition as published on ``ctl/links``."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    channel: Annotated[str, Field(max_length=64)]
    a: Annotated[str, Field(max_length=64)]
    b: Annotated[str, Field(max_length=64)]
    up: bool
    latency: Duration
    loss: Annotated[float, Field(ge=0, le=1)] = 0.0
    duplicate: Annotated[float, Field(ge=0, le=1)] = 0.0

    @property
    def key(self) -> LinkKey:
        return LinkKey(self.channel, self.a, self.b)

    @property
    def condition(self) -> Condition:
        return Condition(self.up, self.latency, self.loss, self.duplicate)
