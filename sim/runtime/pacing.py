"""How sim time advances: one interface, two implementations (fast, realtime).

The director and every node each hold one *pacing*; nothing else in the runtime asks which
mode it is in. :func:`sim.runtime.modes.pacing_for` is the one place that turns a mode name
into its pair of implementations:

* :mod:`sim.runtime.fast` — conservative rounds on a :class:`~sim.runtime.clock.VirtualClock`:
  the director grants time T, every agency with something due handles it and reports, the
  round's journal lines are written in canonical order, and time jumps to the next due moment.
* :mod:`sim.runtime.realtime` — a :class:`~sim.runtime.clock.RealtimeClock` paced by the wall
  clock at ``speed``, pausable; journal lines are written as they come; nodes adopt the
  director's retained clock and wake themselves when something falls due.

A pacing gets what it needs of its owner through :class:`Stage` (the director) or
:class:`Seat` (a node), which those classes satisfy structurally.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, ClassVar, Literal, Protocol

from sim.model.errors import HotlineError

if TYPE_CHECKING:
    from sim.core.directorcore import Rounds, Script
    from sim.core.nodecore import NodeCore
    from sim.model.control import ClockState
    from sim.model.journal import Entry
    from sim.model.scenario import Scenario
    from sim.model.topics import Publish, Topics
    from sim.runtime.recorder import Recorder

Mode = Literal["fast", "realtime"]


class ExerciseStalled(HotlineError):
    def __init__(self, round_no: int, at: datetime, missing: list[str], in_flight: int, unseen: int) -> None:
        super().__init__(
            f"round {round_no} at {at:%Y-%m-%d %H:%M} stalled: "
            f"waiting for {', '.join(missing) or 'nobody'}; {in_flight} message(s) in flight; "
            f"{unseen} publish(es) not yet seen"
        )
        self.round = round_no
        self.missing = missing


class Stage(Protocol):
    """What the director offers its pacing (and its facilitator commands)."""

    @property
    def scenario(self) -> Scenario: ...

    @property
    def topics(self) -> Topics: ...

    @property
    def timeline(self) -> Script: ...

    @property
    def rounds(self) -> Rounds: ...

    @property
    def recorder(self) -> Recorder: ...

    @property
    def round_timeout(self) -> float: ...

    @property
    def end_requested(self) -> bool: ...

    async def publish(self, pub: Publish) -> None:
        """Journal ``pub`` at the current sim time and wait until the broker has it."""

    def send_clock(self) -> None:
        """Retain the current clock state on ``ctl/clock`` (and journal it), without waiting."""

    async def wait(self, ready: Callable[[], bool], timeout: float, what: Callable[[], HotlineError]) -> None:
        """Wait until ``ready()`` or an end request; raise ``what()`` after ``timeout`` seconds."""


class DirectorPacing(Protocol):
    """The director's time: what ``now`` is, how it advances, how the journal is ordered."""

    mode: ClassVar[Mode]

    def now(self) -> datetime: ...

    def clock_state(self) -> ClockState:
        """What ``ctl/clock`` says now."""

    @property
    def paused(self) -> bool: ...

    def set_paused(self, paused: bool) -> datetime:
        """Pause or resume; returns the sim time at which it took effect."""

    def set_speed(self, speed: float | None) -> tuple[str | None, datetime]:
        """Change the speed: (why it cannot be done or None, the sim time it took effect)."""

    def record(self, entry: Entry) -> None:
        """Journal an entry: buffered for canonical order (fast) or written at once (realtime)."""

    def start(self) -> None:
        """The exercise is running: set time going."""

    async def run(self) -> int:
        """Advance sim time to the end (or an end request), handing out what falls due;
        returns the number of rounds run."""

    def nudge(self) -> None:
        """A command changed the plan (pause, speed, a live inject): look again."""

    def release(self) -> None:
        """The end was requested: stop waiting, even if paused."""


class Seat(Protocol):
    """What a node offers its pacing."""

    @property
    def agency(self) -> str: ...

    @property
    def core(self) -> NodeCore: ...

    def send_all(self, outs: list[Publish]) -> None: ...

    def save(self) -> None: ...

    def report(self, *, force: bool = False) -> None:
        """Report to the director (``ctl/ready``), unless nothing but the round changed."""

    def time_known(self) -> None:
        """Sim time was (re)set: handle what waited for it."""

    def wake(self) -> None:
        """Look again at when the next thing falls due."""


class NodePacing(Protocol):
    """A node's time: follows the director's ``ctl/clock``."""

    #: The last round this node was granted and ran (fast); 0 in realtime.
    round: int

    def now(self) -> datetime | None:
        """The current sim time; None until it is known."""

    def set_time(self, moment: datetime) -> None:
        """Sim time is ``moment`` (on joining)."""

    def on_clock(self, state: ClockState) -> None:
        """The director's retained clock changed."""

    def after_inbound(self) -> None:
        """A message was handled."""

    def run_granted(self) -> None:
        """Run the granted round if everything it needs is in."""

    def seconds_until(self, due: datetime | None) -> float | None:
        """Wall seconds until ``due`` is reached by itself; None: only a clock change moves time."""

    def run_due(self) -> None:
        """Handle what is due now."""
