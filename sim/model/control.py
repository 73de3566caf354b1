"""Payloads of the ``ctl/`` topics: clock grants, exercise status, injects, round reports,
link conditions."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from sim.model.links import LinkRow
from sim.model.messages import Ident, UtcDatetime
from sim.model.scenario import Detect, Inject, PolicyChange, ScriptedMessage


class _Ctl(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class ClockState(_Ctl):
    """Retained on ``ctl/clock``. In fast mode each new value is a grant: handle everything
    due at or before ``now``, then report."""

    mode: Literal["fast", "realtime"]
    round: int
    now: UtcDatetime
    start: UtcDatetime
    end: UtcDatetime
    #: Realtime: sim seconds per wall second, and the wall-clock moment (UTC) at which sim time
    #: was ``now``; anyone computes sim time as ``now + speed × (wall_now − wall)``.
    speed: float | None = None
    wall: UtcDatetime | None = None
    paused: bool = False
    #: Cumulative number of injects sent to each agency so far: a node waits until it has
    #: them all before it handles the round.
    injects: dict[str, int] = Field(default_factory=dict)


class ExerciseStatus(_Ctl):
    """Retained on ``ctl/exercise``."""

    exercise: Ident
    scenario: str
    title: str
    sha256: str
    protocol: str
    seed: int
    status: Literal["starting", "running", "ended", "aborted"]
    start: UtcDatetime
    end: UtcDatetime
    agencies: tuple[str, ...]
    #: Why it ended before its scheduled end ("ended by facilitator", "interrupted"), if it did.
    ended_early: str | None = None


class InjectOrder(_Ctl):
    """One inject for one agency, on ``ctl/inject/<agency>``."""

    seq: int
    id: str
    at: UtcDatetime
    note: str = ""
    detect: Detect | None = None
    message: ScriptedMessage | None = None
    policy: PolicyChange | None = None


class RoundReport(_Ctl):
    """On ``ctl/ready/<agency>`` after each round the agency took part in, and again
    whenever a message reaches it after it reported."""

    agency: Ident
    round: int
    #: The last report of this agency in this exercise (sent when the exercise ends).
    final: bool = False
    next_due: datetime | None
    sent_to: dict[str, int]
    received_from: dict[str, int]
    published: int
    injects: int


class LinksState(_Ctl):
    """Retained on ``ctl/links``: every link's current condition."""

    at: UtcDatetime
    links: tuple[LinkRow, ...]


class Command(_Ctl):
    """A facilitator's command to the director, on ``ctl/cmd/<client>``.

    ``pause``/``resume``; ``speed`` (sim seconds per wall second, realtime only); ``inject`` (any
    inject of the scenario format; ``at`` is ignored and the inject happens now); ``end``."""

    id: str = Field(min_length=1, max_length=64)
    action: Literal["pause", "resume", "speed", "inject", "end"]
    speed: float | None = Field(default=None, gt=0, le=1_000_000)
    inject: Inject | None = None


class CommandResult(_Ctl):
    """The director's answer on ``ctl/result/<client>``: accepted or refused, and why."""

    id: str
    client: str
    action: str
    accepted: bool
    reason: str = ""
    at: UtcDatetime


class PairCount(_Ctl):
    sender: str
    recipient: str
    sent: int
    received: int


class Tally(_Ctl):
    """On ``ctl/tally`` at the end: every agency's own count of what it sent and received.
    A message sent and never received is lost in transport (not by a simulated fault)."""

    at: UtcDatetime
    sent: int
    received: int
    missing: tuple[PairCount, ...] = ()
    silent: tuple[str, ...] = ()  # agencies that gave no final count
