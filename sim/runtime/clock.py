"""Sim time, and the only module in ``sim/`` that reads the wall clock or sleeps.

Two clocks, both answering ``now()``: the same model code runs on either, as SimPy's
environment does with its ``rt`` variant overriding only how time advances. Which one runs is
the pacing's choice (:mod:`sim.runtime.pacing`):

* :class:`VirtualClock` (fast mode): time stands still until it is moved — by the director's
  fast rounds (:mod:`sim.runtime.fast`) to the next moment anything is due, which it then grants.
* :class:`RealtimeClock` (realtime): ``sim = t0_sim + speed × (wall − t0_wall)``, pausable; a
  node adopts the director's retained ``ctl/clock`` so that every participant, including one
  that joins late, agrees on sim time (:mod:`sim.runtime.realtime`).
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class ClockLike(Protocol):
    """What :meth:`RealtimeClock.adopt` needs of a published clock state."""

    @property
    def now(self) -> datetime: ...

    @property
    def wall(self) -> datetime | None: ...

    @property
    def speed(self) -> float | None: ...

    @property
    def paused(self) -> bool: ...


class VirtualClock:
    """Discrete-event time: it moves only when told to, and only forward."""

    def __init__(self, start: datetime) -> None:
        self._now = start

    def now(self) -> datetime:
        return self._now

    def advance_to(self, moment: datetime) -> None:
        if moment < self._now:
            raise ValueError(f"time runs forward: {moment} < {self._now}")
        self._now = moment


class RealtimeClock:
    """Sim time paced by the wall clock, at ``speed`` sim seconds per wall second."""

    def __init__(self, start: datetime, speed: float = 60.0, *, paused: bool = False) -> None:
        self._anchor_sim = start
        self._anchor_wall = time.monotonic()
        self.speed = speed
        self.paused = paused
        self.changed = asyncio.Event()

    def now(self) -> datetime:
        if self.paused:
            return self._anchor_sim
        elapsed = (time.monotonic() - self._anchor_wall) * self.speed
        return self._anchor_sim + timedelta(seconds=elapsed)

    def _rebase(self) -> None:
        self._anchor_sim = self.now()
        self._anchor_wall = time.monotonic()

    def set(self, *, now: datetime | None = None, speed: float | None = None, paused: bool | None = None) -> datetime:
        """Change the clock (any field left None keeps its value); returns the sim time at which
        the change took effect."""
        self._rebase()
        moment = self._anchor_sim
        if now is not None:
            self._anchor_sim = now
        if speed is not None:
            self.speed = speed
        if paused is not None:
            self.paused = paused
        self.changed.set()
        return moment

    def adopt(self, state: ClockLike) -> None:
        """Take over the director's clock: ``state.now`` held at wall time ``state.wall``."""
        speed = state.speed or self.speed
        now = state.now
        if not state.paused and state.wall is not None:
            now = state.now + timedelta(seconds=(wall_now() - state.wall).total_seconds() * speed)
        self.set(now=now, speed=speed, paused=state.paused)

    def anchor(self) -> tuple[datetime, datetime]:
        """(sim now, wall now) — what the director publishes so others can adopt this clock."""
        return self.now(), wall_now()

    def wall_seconds_until(self, moment: datetime) -> float | None:
        """How long to wait (wall) until sim time reaches ``moment``; None while paused."""
        if self.paused:
            return None
        return max(0.0, (moment - self.now()).total_seconds() / self.speed)

    async def sleep_until(self, moment: datetime) -> None:
        """Wait until sim time reaches ``moment`` — or the clock changes (pause, speed)."""
        self.changed.clear()
        delay = self.wall_seconds_until(moment)
        try:
            await asyncio.wait_for(self.changed.wait(), timeout=delay)
        except TimeoutError:
            return


def wall_now() -> datetime:
    """Wall-clock UTC now, for run-directory names and presence — never for sim time."""
    return datetime.now(UTC)


def utc_stamp() -> str:
    return wall_now().strftime("%Y%m%dT%H%M%SZ")


def monotonic() -> float:
    return time.monotonic()


async def pause(seconds: float) -> None:
    """The one sleep in ``sim/`` (reconnect backoff)."""
    await asyncio.sleep(seconds)
