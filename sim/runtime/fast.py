"""Fast mode (DESIGN §7): conservative discrete-event rounds, as fast as the broker allows.

* :class:`FastPacing` (director): grant time T on ``ctl/clock`` → every agency with something
  due handles it and reports → when every expected report is in, nothing is in flight and every
  publish has reached the journal, the round's journal lines are written in canonical order and
  the :class:`~sim.runtime.clock.VirtualClock` jumps to the next time anything is due.
* :class:`FastNodePacing` (node): each new retained ``ctl/clock`` is a grant; the node runs the
  round once it has the round's injects, and reports ``{round, next_due, sent, received}``.
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import ClassVar

from sim.core.directorcore import clock_publish
from sim.model.control import ClockState
from sim.model.journal import Entry
from sim.runtime.clock import VirtualClock
from sim.runtime.logs import bind_sim_time
from sim.runtime.pacing import ExerciseStalled, Mode, Seat, Stage

SPEED_REFUSED = "fast mode runs as fast as it can; speed applies to realtime runs"


class FastPacing:
    mode: ClassVar[Mode] = "fast"

    def __init__(self, stage: Stage, *, speed: float) -> None:  # noqa: ARG002 - fast mode has no speed
        self.stage = stage
        self.clock = VirtualClock(stage.scenario.start)
        #: The last round granted.
        self.round = 0
        self._resumed = asyncio.Event()
        self._resumed.set()

    def now(self) -> datetime:
        return self.clock.now()

    def clock_state(self, round_no: int | None = None) -> ClockState:
        stage = self.stage
        return ClockState(
            mode="fast",
            round=self.round if round_no is None else round_no,
            now=self.clock.now(),
            start=stage.scenario.start,
            end=stage.scenario.end,
            paused=self.paused,
            injects=dict(sorted(stage.timeline.inject_counts.items())),
        )

    @property
    def paused(self) -> bool:
        return not self._resumed.is_set()

    def set_paused(self, paused: bool) -> datetime:
        """Between rounds: the round under way completes, the next waits."""
        if paused:
            self._resumed.clear()
        else:
            self._resumed.set()
        return self.now()

    def set_speed(self, speed: float | None) -> tuple[str | None, datetime]:  # noqa: ARG002 - always refused
        return SPEED_REFUSED, self.now()

    def record(self, entry: Entry) -> None:
        self.stage.recorder.buffer(entry)

    def start(self) -> None:
        """Nothing to set going: the first round is granted by :meth:`run`."""

    async def run(self) -> int:
        stage = self.stage
        end = stage.scenario.end
        while not stage.end_requested:
            await self._resumed.wait()
            if stage.end_requested:
                break
            nxt = self._next()
            if nxt is None or nxt > end:
                break
            await self._round(nxt)
        if not stage.end_requested:
            self.clock.advance_to(end)
        await stage.publish(clock_publish(stage.topics, self.clock_state(self.round + 1)))
        return self.round

    def _next(self) -> datetime | None:
        """When the next round is: the earliest time anything is due (never in the past)."""
        stage = self.stage
        candidates = [t for t in (stage.rounds.next_due(), stage.timeline.next_event()) if t is not None]
        return max(min(candidates), self.clock.now()) if candidates else None

    async def _round(self, at: datetime) -> None:
        """Grant ``at``: send what is due, wait for every report, write the round's journal."""
        stage = self.stage
        self.round += 1
        self.clock.advance_to(at)
        bind_sim_time(at)
        pubs, touched = stage.timeline.due(at)
        for pub in pubs:
            await stage.publish(pub)
        stage.rounds.begin(self.round, at, touched)
        await stage.publish(clock_publish(stage.topics, self.clock_state()))
        await stage.wait(stage.rounds.complete, stage.round_timeout, self._stalled)
        stage.recorder.flush()

    def _stalled(self) -> ExerciseStalled:
        rounds = self.stage.rounds
        return ExerciseStalled(self.round, self.now(), rounds.missing(), rounds.in_flight(), rounds.unseen())

    def nudge(self) -> None:
        """Rounds look at the plan afresh anyway."""

    def release(self) -> None:
        self._resumed.set()


class FastNodePacing:
    """Until the director's clock says otherwise a node follows grants: before any clock it
    reports after every message, and runs no round."""

    def __init__(self, seat: Seat) -> None:
        self.seat = seat
        self.round = 0
        self._grant: ClockState | None = None
        self._now: datetime | None = None

    def now(self) -> datetime | None:
        return self._now

    def set_time(self, moment: datetime) -> None:
        self._now = moment

    def on_clock(self, state: ClockState) -> None:
        self._now = state.now
        self.seat.time_known()
        if state.round > self.round:
            self._grant = state
            self.run_granted()

    def after_inbound(self) -> None:
        self.seat.report()  # the director counts what is still in flight

    def run_granted(self) -> None:
        grant, seat = self._grant, self.seat
        if grant is None or grant.round <= self.round:
            return
        if seat.core.injects < grant.injects.get(seat.agency, 0):
            return  # an inject of this round is still on its way
        self.round = grant.round
        due = seat.core.next_due()
        had_work = due is not None and due <= grant.now
        outs = seat.core.run_until(grant.now)
        seat.send_all(outs)
        seat.save()
        seat.report(force=had_work or bool(outs))

    def seconds_until(self, due: datetime | None) -> float | None:  # noqa: ARG002 - only grants move time
        return None

    def run_due(self) -> None:
        """Nothing falls due by itself: :meth:`run_granted` runs rounds."""
