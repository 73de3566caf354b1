"""What the dashboard shows and how its keys steer it: one :class:`Controller` interface, two
sources behind it — a live exercise (:class:`~tui.control.live.LiveController`: the broker feed,
facilitator commands, the exercise itself running in the background) and a recorded journal
(:class:`~tui.control.replay.ReplayController`: the playback position the same keys move).

The app (:class:`~tui.app.DashboardApp`) only asks its controller; which of the two it gets is
decided once, where the app is built (:mod:`tui.launch`). A controller reaches back into the
app through the small :class:`Host` interface: say something on the status line, redraw, run a
background task, close."""

from __future__ import annotations

from collections.abc import Coroutine
from datetime import datetime
from typing import Protocol

from sim.model.injects import Inject
from tui.model import DashboardModel
from tui.panels import ModeInfo

#: Keys that only some sources have; a controller lists the ones it steers in ``actions``.
LIVE_ACTIONS = frozenset({"inject", "end_exercise"})
REPLAY_ACTIONS = frozenset({"step", "scrub", "jump"})
SOURCE_ACTIONS = LIVE_ACTIONS | REPLAY_ACTIONS


class Host(Protocol):
    """The app, as a controller sees it."""

    def say(self, text: str, *, bad: bool = False) -> None:
        """Put ``text`` on the status line (red when ``bad``)."""
        ...

    def redraw(self) -> None:
        """Draw the whole dashboard now (after a key changed what it shows)."""
        ...

    def start(self, work: Coroutine[object, object, None], *, name: str, exit_on_error: bool = False) -> None:
        """Run ``work`` in the background; its failure is reported as ``name: error``."""
        ...

    def close(self) -> None:
        """Close the dashboard."""
        ...


class Controller(Protocol):
    """A source of the dashboard's model and the meaning of its steering keys."""

    @property
    def actions(self) -> frozenset[str]:
        """Which of :data:`SOURCE_ACTIONS` this source offers (the others are hidden)."""
        ...

    @property
    def model(self) -> DashboardModel | None:
        """What to show (None until a live feed knows its scenario)."""
        ...

    @property
    def now(self) -> datetime | None:
        """The sim time shown: the playback position, or the live clock."""
        ...

    @property
    def problem(self) -> str | None:
        """Something the facilitator should know that stops the source (scenario not found…)."""
        ...

    @property
    def settled(self) -> bool:
        """The model shows the current position (nothing left to fold)."""
        ...

    def attach(self, host: Host) -> None:
        """The dashboard is on screen: start what runs in the background."""
        ...

    def mode(self) -> ModeInfo:
        """The header's account of the source."""
        ...

    def tick(self, elapsed: float) -> None:
        """One frame: ``elapsed`` wall seconds since the last."""
        ...

    def redraw_every(self) -> float:
        """Seconds between full redraws just now (0: whenever the model moved); while the source
        is busy catching up, the screen yields it the time."""
        ...

    def waiting(self) -> str | None:
        """Commands still waiting for an answer, for the status line."""
        ...

    def quit(self) -> bool:
        """q was pressed: True to close now (False: the source is winding down first)."""
        ...

    def pause(self) -> None: ...

    def speed(self, *, up: bool) -> None: ...

    def step(self, direction: int) -> None: ...

    def scrub(self, fraction: float) -> None: ...

    def jump(self, where: str) -> None: ...

    def inject(self, inject: Inject) -> None: ...

    def end(self) -> None: ...
