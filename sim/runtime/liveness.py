"""How a node watches its director: gone (the director's Will on ``ctl/director``), the node says
so and waits a grace period — a director started again begins a new run, which the node joins —
and then stops; and, once the exercise has ended, how long it stays for the director's tally."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import structlog

from sim.model.control import DirectorPresence

log = structlog.get_logger("hotline.node")


class DirectorWatch:
    def __init__(self, grace: float, on_gone: Callable[[], None]) -> None:
        #: Wall seconds to wait for a director that is gone before stopping.
        self.grace = grace
        self.on_gone = on_gone
        #: Set when the director did not come back in time.
        self.gone = False
        self._back = asyncio.Event()
        self._lost = False
        self._waiting: asyncio.Task[None] | None = None

    def presence(self, presence: DirectorPresence, *, watching: bool) -> None:
        """The director's presence changed; ``watching``: we are in a run it directs."""
        if presence.online:
            if self._lost:
                log.warning("director_back", session=presence.session)
            self._lost = False
            self._back.set()
            return
        if not watching or self._lost:
            return
        self._lost = True
        self._back.clear()
        log.warning("director_lost", grace_seconds=self.grace)
        self._waiting = asyncio.create_task(self._wait(), name="director-grace")

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._back.wait(), self.grace)
        if not self._back.is_set():
            log.error("director_gone", waited_seconds=self.grace)
            self.gone = True
            self.on_gone()

    def cancel(self) -> None:
        if self._waiting is not None:
            self._waiting.cancel()


class Lingering:
    """After the end: stay (taking late messages, giving the final account again) until the
    director's tally, or ``seconds`` at most; then ``done``."""

    def __init__(self, seconds: float, done: Callable[[], None]) -> None:
        self.seconds = seconds
        self.done = done
        self.tallied = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def started(self) -> bool:
        return self._task is not None

    def start(self) -> None:
        self._task = asyncio.create_task(self._wait(), name="linger")

    async def _wait(self) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.tallied.wait(), self.seconds)
        self.done()

    def cancel(self) -> None:
        if self._task is not None:
            self._task.cancel()
        self._task = None
        self.tallied.clear()
