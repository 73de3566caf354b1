"""Realtime: sim time paced by the wall clock at ``speed`` sim seconds per wall second.

* :class:`RealtimePacing` (director): owns the :class:`~sim.runtime.clock.RealtimeClock`; its
  state (anchor, speed, pause) is retained on ``ctl/clock`` so that every participant computes
  the same sim time. The facilitator pauses, resumes and changes speed; journal lines are
  written as they come.
* :class:`RealtimeNodePacing` (node): adopts the retained clock (a node that joins late agrees
  on sim time too) and wakes itself when the next thing falls due.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

from sim.core.directorcore import clock_publish
from sim.model.control import ClockState
from sim.model.journal import Entry
from sim.runtime.clock import RealtimeClock
from sim.runtime.logs import bind_sim_time
from sim.runtime.pacing import Mode, Seat, Stage


class RealtimePacing:
    mode: ClassVar[Mode] = "realtime"

    def __init__(self, stage: Stage, *, speed: float) -> None:
        self.stage = stage
        self.clock = RealtimeClock(stage.scenario.start, speed, paused=True)
        self._wake = asyncio.Event()

    def now(self) -> datetime:
        end: datetime = self.stage.scenario.end
        return min(self.clock.now(), end)

    def clock_state(self) -> ClockState:
        stage = self.stage
        sim_now, wall = self.clock.anchor()
        return ClockState(
            mode="realtime",
            round=0,
            now=min(sim_now, stage.scenario.end),
            start=stage.scenario.start,
            end=stage.scenario.end,
            speed=self.clock.speed,
            wall=wall,
            paused=self.clock.paused,
            injects=dict(sorted(stage.timeline.inject_counts.items())),
        )

    @property
    def paused(self) -> bool:
        return self.clock.paused

    def set_paused(self, paused: bool) -> datetime:
        return self.clock.set(paused=paused)

    def set_speed(self, speed: float | None) -> tuple[str | None, datetime]:
        if speed is None:
            return "speed needs a value (sim seconds per wall second)", self.now()
        return None, self.clock.set(speed=speed)

    def record(self, entry: Entry) -> None:
        self.stage.recorder.write(entry)

    def start(self) -> None:
        """Start the clock at the scenario's start, and tell everyone."""
        self.clock.set(now=self.stage.scenario.start, paused=False)
        self.stage.send_clock()

    async def run(self) -> int:
        """Hand out what is due as sim time reaches it; sleep until the next thing (or a
        command) otherwise. No rounds."""
        stage = self.stage
        end = stage.scenario.end
        while not stage.end_requested:
            now = self.now()
            bind_sim_time(now)
            pubs, _ = stage.timeline.due(now)
            for pub in pubs:
                await stage.publish(pub)
            if now >= end:
                break
            nxt = stage.timeline.next_event()
            await self._sleep_until(end if nxt is None else min(nxt, end))
        self.clock.set(now=self.now(), paused=True)
        await stage.publish(clock_publish(stage.topics, self.clock_state()))
        return 0

    async def _sleep_until(self, target: datetime) -> None:
        """Until sim time reaches ``target``, the clock changes, or a command nudges us."""
        self._wake.clear()
        sleeper = asyncio.create_task(self.clock.sleep_until(target))
        waker = asyncio.create_task(self._wake.wait())
        await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
        sleeper.cancel()
        waker.cancel()
        await asyncio.gather(sleeper, waker, return_exceptions=True)

    def nudge(self) -> None:
        self._wake.set()

    def release(self) -> None:
        self._wake.set()


class RealtimeNodePacing:
    def __init__(self, seat: Seat) -> None:
        self.seat = seat
        self.round = 0  # no rounds in realtime
        self.clock: RealtimeClock | None = None
        #: The exercise's end: a node acts on nothing due after it (its clock runs on until the
        #: director's end reaches it).
        self.end: datetime | None = None

    def now(self) -> datetime | None:
        return None if self.clock is None else self.clock.now()

    def set_time(self, moment: datetime) -> None:
        """Nothing to set: sim time is the adopted clock's."""

    def on_clock(self, state: ClockState) -> None:
        if self.clock is None:
            self.clock = RealtimeClock(state.now, state.speed or 1.0)
        self.clock.adopt(state)
        self.end = state.end
        self.seat.time_known()
        self.seat.wake()

    def after_inbound(self) -> None:
        """Nothing to report: the director counts no rounds in realtime."""

    def run_granted(self) -> None:
        """No grants in realtime: what is due runs when the clock reaches it."""

    def seconds_until(self, due: datetime | None) -> float | None:
        if self.clock is None or due is None or (self.end is not None and due > self.end):
            return None  # (nothing happens after the exercise's end)
        return self.clock.wall_seconds_until(due)

    def run_due(self) -> None:
        if self.clock is None:
            return
        seat = self.seat
        now = self.clock.now() if self.end is None else min(self.clock.now(), self.end)
        seat.send_all(seat.core.run_until(now, late=True))
        seat.save()
