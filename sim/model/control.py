"""Payloads of the ``ctl/`` topics: clock grants, exercise status, injects, round reports,
link conditions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

from sim.model.injects import AgencyAction, Detect, Inject, PolicyChange, ScriptedMessage
from sim.model.links import LinkRow
from sim.model.messages import Ident, UtcDatetime


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

    def sim_time(self, wall: datetime) -> datetime:
        """Sim time at wall-clock moment ``wall`` by this clock: ``now + speed × (wall − wall₀)``
        while a realtime clock runs; ``now`` while it is paused, and in fast mode (where time
        moves only by grants)."""
        if self.paused or self.speed is None or self.wall is None:
            return self.now
        moved = self.now + timedelta(seconds=self.speed * (wall - self.wall).total_seconds())
        return min(max(moved, self.now), self.end)


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


class Order(_Ctl):
    """One inject for one agency, on ``ctl/inject/<agency>``: the base of the :data:`InjectOrder`
    members (test ``isinstance(x, Order)``; parse with :data:`INJECT_ORDER`)."""

    seq: int
    id: str
    at: UtcDatetime
    note: str = ""

    @property
    def action(self) -> AgencyAction:
        raise NotImplementedError


class DetectOrder(Order):
    detect: Detect

    @property
    def action(self) -> Detect:
        return self.detect


class MessageOrder(Order):
    message: ScriptedMessage

    @property
    def action(self) -> ScriptedMessage:
        return self.message


class PolicyOrder(Order):
    policy: PolicyChange

    @property
    def action(self) -> PolicyChange:
        return self.policy


def _order_key(value: Any) -> str | None:
    keys = ("detect", "message", "policy")
    if isinstance(value, dict):
        return next((key for key in keys if key in value), None)
    return next((key for key in keys if hasattr(value, key)), None)


#: An inject order, discriminated by the action it carries (the JSON shape is the inject's).
InjectOrder = Annotated[
    Annotated[DetectOrder, Tag("detect")]
    | Annotated[MessageOrder, Tag("message")]
    | Annotated[PolicyOrder, Tag("policy")],
    Discriminator(_order_key),
]
INJECT_ORDER: TypeAdapter[InjectOrder] = TypeAdapter(InjectOrder)


def order_for(action: AgencyAction, *, seq: int, id: str, at: datetime, note: str = "") -> InjectOrder:
    """The order that hands ``action`` to its agency."""
    match action:
        case Detect():
            return DetectOrder(seq=seq, id=id, at=at, note=note, detect=action)
        case ScriptedMessage():
            return MessageOrder(seq=seq, id=id, at=at, note=note, message=action)
        case PolicyChange():
            return PolicyOrder(seq=seq, id=id, at=at, note=note, policy=action)


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


class DeliveryTally(_Ctl):
    """On ``ctl/tally`` at the end: every agency's own count of what it sent and received.
    A message sent and never received is lost in transport (not by a simulated fault)."""

    at: UtcDatetime
    sent: int
    received: int
    missing: tuple[PairCount, ...] = ()
    silent: tuple[str, ...] = ()  # agencies that gave no final count
