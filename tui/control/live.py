"""The dashboard on a live exercise: the broker feed (:class:`~tui.live.LiveFeed`), the
facilitator's commands its keys send (pause/resume, speed, inject, end) with the director's
answers on the status line, and — under ``hotline run`` — the exercise itself, started once the
feed is subscribed so the dashboard misses none of it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Generic, TypeVar

from sim.model.control import CommandResult
from sim.model.injects import Inject
from tui.commands import Action, CommandBook, describe, describe_result, pause_or_resume
from tui.control import LIVE_ACTIONS, Host
from tui.live import LiveFeed
from tui.model import DashboardModel
from tui.panels import ModeInfo
from tui.playback import format_speed, next_speed

#: Under a flood of live traffic (more than BUSY entries since the last frame) the whole dashboard
#: is redrawn at most every BUSY_REDRAW seconds, so that taking in the traffic keeps most of the CPU.
BUSY, BUSY_REDRAW = 20, 1.0
#: The speed + and - start from when the clock names none.
DEFAULT_SPEED = 60.0

#: What the background exercise returns.
T = TypeVar("T")


class LiveController(Generic[T]):
    """Steers a live exercise through its director; ``background`` (optional) is the exercise
    itself, whose result (or exception) ends up in :attr:`background_result`."""

    actions = LIVE_ACTIONS

    def __init__(
        self,
        feed: LiveFeed,
        *,
        background: Callable[[], Awaitable[T]] | None = None,
        on_quit: Callable[[], None] | None = None,
    ) -> None:
        self.feed = feed
        self.background = background
        #: Quitting while the exercise still runs: ask it to end properly first (tally, journal,
        #: report), then close when it has. A second q closes at once.
        self.on_quit = on_quit
        self.background_result: T | BaseException | None = None
        self.book = CommandBook(feed.client)
        self._host: Host | None = None
        self._exercise_done = background is None
        self._ending = False
        self._seen = 0
        self._busy = False

    @property
    def host(self) -> Host:
        assert self._host is not None, "attach() first"
        return self._host

    # -- what to show ----------------------------------------------------------------------------

    @property
    def model(self) -> DashboardModel | None:
        return self.feed.model

    @property
    def now(self) -> datetime | None:
        return None if self.feed.model is None else self.feed.model.now

    @property
    def problem(self) -> str | None:
        return self.feed.problem

    @property
    def settled(self) -> bool:
        return True

    def mode(self) -> ModeInfo:
        feed = self.feed
        clock, status = feed.clock, feed.status
        if status is not None and status.status in ("ended", "aborted"):
            mode, paused = status.status.upper(), True
        elif feed.director_gone:
            mode, paused = "DIRECTOR GONE · stopped", True
        elif feed.director_lost_at is not None:
            mode, paused = "DIRECTOR LOST · waiting for it", True
        elif clock is None:
            mode, paused = "waiting for the clock", True
        elif clock.paused:
            mode, paused = "PAUSED", True
        elif clock.speed is None:  # a fast clock has no pace: it moves round by round
            mode, paused = f"fast · round {clock.round}", False
        else:
            mode, paused = f"realtime {format_speed(clock.speed)}", False
        connection = "connected" if feed.connected else "connecting…"
        return ModeInfo("broker", mode, feed.wires.label, connection=connection, paused=paused)

    def waiting(self) -> str | None:
        waiting = self.book.waiting()
        if not waiting:
            return None
        return "waiting for the director: " + ", ".join(describe(c) for c in waiting[-3:])

    # -- running ---------------------------------------------------------------------------------

    def attach(self, host: Host) -> None:
        self._host = host
        self.feed.on_result = self._answered
        host.start(self._run(), name="broker")

    async def _run(self) -> None:
        if self.background is not None:
            self.host.start(self._run_background(), name="exercise")
        await self.feed.run()

    async def _run_background(self) -> None:
        assert self.background is not None
        await self.feed.transport.wait_connected()
        try:
            self.background_result = await self.background()
        except Exception as exc:
            self.background_result = exc  # re-raised by run_live once the dashboard has closed
            raise
        finally:
            self._exercise_done = True
            if self._ending:
                self.host.close()

    def tick(self, elapsed: float) -> None:  # noqa: ARG002 - the live clock says where we are
        self.feed.tick()
        received = self.feed.stats.received
        self._busy = received - self._seen > BUSY
        self._seen = received

    def redraw_every(self) -> float:
        return BUSY_REDRAW if self._busy else 0.0

    def quit(self) -> bool:
        if self._exercise_done or self.on_quit is None or self._ending:
            return True
        self._ending = True
        self.host.say("ending the exercise… (q again to close at once)")
        self.on_quit()
        return False

    # -- commands --------------------------------------------------------------------------------

    def _send(self, action: Action, *, speed: float | None = None, inject: Inject | None = None) -> None:
        status = self.feed.status
        if status is not None and status.status in ("ended", "aborted"):
            self.host.say(f"the exercise has {status.status}: nothing to {action}", bad=True)
            return
        if self.feed.director_lost_at is not None:
            self.host.say(f"the director is gone: nothing to {action} until it is back", bad=True)
            return
        command = self.book.make(action, speed=speed, inject=inject)
        self.host.say(f"sent {describe(command)} ({command.id})")
        feed = self.feed

        async def publish() -> None:
            await feed.send(command)

        self.host.start(publish(), name="broker")

    def _answered(self, result: CommandResult) -> None:
        command = self.book.answer(result)
        if command is not None:
            self.host.say(describe_result(result, command), bad=not result.accepted)

    def pause(self) -> None:
        self._send(pause_or_resume(self.feed.clock))

    def speed(self, *, up: bool) -> None:
        clock = self.feed.clock
        current = clock.speed if clock is not None and clock.speed else DEFAULT_SPEED
        self._send("speed", speed=next_speed(current, up=up))

    def inject(self, inject: Inject) -> None:
        self._send("inject", inject=inject)

    def end(self) -> None:
        self._send("end")

    # Playback keys belong to replays: a live exercise moves only forward, at the director's pace.

    def step(self, direction: int) -> None:
        pass

    def scrub(self, fraction: float) -> None:
        pass

    def jump(self, where: str) -> None:
        pass
