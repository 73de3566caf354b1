"""The dashboard on a recorded journal: a :class:`~tui.replay.Replayer` whose playback position
the keys move (space pause, + - speed, . , step, [ ] scrub, home/end). Each frame advances the
position and folds towards it; a backlog (a jump, a huge journal) is folded in a background task
in slices, so the screen and the keys stay responsive."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime

from sim.model.injects import Inject
from tui.control import REPLAY_ACTIONS, Host
from tui.model import DashboardModel
from tui.panels import ModeInfo
from tui.playback import format_speed
from tui.replay import SCAN_BYTES, Replayer

#: Entries folded per slice.
FOLD_CHUNK = 500
#: Wall time a frame may spend folding ordinary playback (a backlog goes to the background task).
FRAME_FOLD_SECONDS = 0.02
#: Wall time spent folding journal entries per slice while a replay catches up with its position
#: (the rest of the frame keeps the screen and the keys responsive).
FOLD_SECONDS = 0.05
#: While a replay catches up, the whole dashboard is redrawn this often (the header every frame).
CATCH_UP_REDRAW = 1.0


class ReplayController:
    actions = REPLAY_ACTIONS

    def __init__(self, replayer: Replayer) -> None:
        self.replayer = replayer
        self._host: Host | None = None
        self._folding = False

    @property
    def host(self) -> Host:
        assert self._host is not None, "attach() first"
        return self._host

    # -- what to show ----------------------------------------------------------------------------

    @property
    def model(self) -> DashboardModel:
        return self.replayer.model

    @property
    def now(self) -> datetime:
        return self.replayer.model.now

    @property
    def problem(self) -> str | None:
        return None

    @property
    def settled(self) -> bool:
        return self.replayer.behind == 0

    def mode(self) -> ModeInfo:
        pb = self.replayer.playback
        behind = self.replayer.behind
        mode = f"replay {format_speed(pb.speed)}" + (f" · loading {behind} entries" if behind else "")
        return ModeInfo("journal", mode, self.replayer.index.path.name, progress=pb.fraction, paused=pb.paused)

    def waiting(self) -> str | None:
        return None

    # -- running ---------------------------------------------------------------------------------

    def attach(self, host: Host) -> None:
        self._host = host

    def tick(self, elapsed: float) -> None:
        began = time.monotonic()
        replayer = self.replayer
        replayer.playback.advance(elapsed)
        # Keep up with ordinary playback within the frame; a backlog goes to _catch_up.
        while not self._folding and not replayer.fold(FOLD_CHUNK) and time.monotonic() - began < FRAME_FOLD_SECONDS:
            pass
        if not self._folding and (replayer.behind > 0 or not replayer.index.complete):
            self._folding = True
            self.host.start(self._catch_up(), name="fold", exit_on_error=True)

    async def _catch_up(self) -> None:
        """Fold (and index) in slices, yielding to the screen and the keys between slices, until
        the model shows the playback position and the whole journal is indexed."""
        replayer = self.replayer
        try:
            while replayer.behind > 0 or not replayer.index.complete:
                deadline = time.monotonic() + FOLD_SECONDS
                while not replayer.fold(FOLD_CHUNK) and time.monotonic() < deadline:
                    pass
                if not replayer.index.complete and time.monotonic() < deadline:
                    replayer.index.scan(SCAN_BYTES)  # index the rest while the screen is up
                await asyncio.sleep(0)  # a turn for input, timers and the screen
        finally:
            self._folding = False

    def redraw_every(self) -> float:
        return CATCH_UP_REDRAW if self.replayer.behind > 0 else 0.0

    def quit(self) -> bool:
        return True

    # -- playback keys ---------------------------------------------------------------------------

    def pause(self) -> None:
        playback = self.replayer.playback
        playback.toggle()
        self.host.say("paused" if playback.paused else "playing")
        self.host.redraw()

    def speed(self, *, up: bool) -> None:
        playback = self.replayer.playback
        if up:
            playback.faster()
        else:
            playback.slower()
        self.host.say(f"replay speed {format_speed(playback.speed)}")
        self.host.redraw()

    def step(self, direction: int) -> None:
        replayer = self.replayer
        replayer.index.scan()
        replayer.playback.step(replayer.index.message_times, forward=direction > 0)
        replayer.fold()
        self.host.redraw()

    def scrub(self, fraction: float) -> None:
        self.replayer.playback.scrub(fraction)
        self.host.redraw()

    def jump(self, where: str) -> None:
        if where == "start":
            self.replayer.playback.jump_start()
        else:
            self.replayer.playback.jump_end()
        self.host.redraw()

    # Commands belong to live exercises: a journal records what happened, it takes no orders.

    def inject(self, inject: Inject) -> None:
        pass

    def end(self) -> None:
        pass
