"""Payloads of the ``ctl/`` topics: clock grants, exercise status, injects, round reports,
link conditions."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, TypeAdapter

from sim.model.admission import Count
from sim.model.injects import AgencyAction, Detect, Inject, PolicyChange, ScriptedMessage
from sim.model.links import LinkRow
from sim.model.messages import Ident, MessageId, UtcDatetime

#: At most this many agencies (or links) in one exercise: bounds every per-agency map.
MAX_AGENCIES = 1000
Text = Annotated[str, Field(max_length=2000)]
PerAgency = Annotated[dict[Ident, Count], Field(max_length=MAX_AGENCIES)]
#: Message ids per agency (a final report's account of what it sent and received).
IdsPerAgency = Annotated[
    dict[Ident, Annotated[tuple[MessageId, ...], Field(max_length=100_000)]], Field(max_length=MAX_AGENCIES)
]


class _Ctl(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True, allow_inf_nan=False)


class ClockState(_Ctl):
    """Retained on ``ctl/clock``. In fast mode each new value is a grant: handle everything
    due at or before ``now``, then report."""

    mode: Literal["fast", "realtime"]
    round: Count
    now: UtcDatetime
    start: UtcDatetime
    end: UtcDatetime
    #: Realtime: sim seconds per wall second, and the wall-clock moment (UTC) at which sim time
    #: was ``now``; anyone computes sim time as ``now + speed × (wall_now − wall)``.
    speed: Annotated[float, Field(gt=0, le=1_000_000)] | None = None
    wall: UtcDatetime | None = None
    paused: bool = False
    #: Cumulative number of injects sent to each agency so far: a node waits until it has
    #: them all before it handles the round.
    injects: PerAgency = Field(default_factory=dict)

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
    scenario: Annotated[str, Field(max_length=200)]
    title: Text
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]
    protocol: Annotated[str, Field(max_length=200)]
    seed: Annotated[int, Field(ge=-(2**63), le=2**63)]
    status: Literal["starting", "running", "ended", "aborted"]
    start: UtcDatetime
    end: UtcDatetime
    agencies: Annotated[tuple[Ident, ...], Field(max_length=MAX_AGENCIES)]
    #: Why it ended before its scheduled end ("ended by facilitator", "interrupted"), if it did.
    ended_early: Text | None = None


class Order(_Ctl):
    """One inject for one agency, on ``ctl/inject/<agency>``: the base of the :data:`InjectOrder`
    members (test ``isinstance(x, Order)``; parse with :data:`INJECT_ORDER`)."""

    seq: Count
    id: Annotated[str, Field(max_length=200)]
    at: UtcDatetime
    note: Text = ""

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
    round: Count
    #: The last report of this agency in this exercise (sent when the exercise ends).
    final: bool = False
    next_due: UtcDatetime | None
    #: Copies put on the wire to / taken off the wire from each agency (fast mode: in flight).
    sent_to: PerAgency
    received_from: PerAgency
    published: Count
    injects: Count
    #: In the final report only: the ids of the protocol messages sent to each agency, and of
    #: those received (screened) from each — the delivery tally compares these sets.
    sent_ids: IdsPerAgency | None = None
    received_ids: IdsPerAgency | None = None


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

    id: Annotated[str, Field(max_length=64)]
    client: Ident
    action: Annotated[str, Field(max_length=16)]
    accepted: bool
    reason: Text = ""
    at: UtcDatetime


class PairCount(_Ctl):
    sender: Ident
    recipient: Ident
    sent: Count
    received: Count
    #: The ids sent and never received (at most the first 100).
    lost: Annotated[tuple[MessageId, ...], Field(max_length=100)] = ()


class DeliveryTally(_Ctl):
    """On ``ctl/tally`` at the end: every agency's own account of the protocol messages it sent
    and received, as sets of ids per pair, compared. A message sent and never received is lost
    in transport (not by a simulated fault)."""

    at: UtcDatetime
    sent: Count
    received: Count
    missing: Annotated[tuple[PairCount, ...], Field(max_length=MAX_AGENCIES**2)] = ()
    silent: Annotated[tuple[Ident, ...], Field(max_length=MAX_AGENCIES)] = ()  # gave no final account

    @property
    def lost(self) -> int:
        return self.sent - self.received

    @property
    def sound(self) -> bool:
        """Every message sent was received, and every agency gave its account."""
        return not self.missing and not self.silent


class Presence(_Ctl):
    """Retained on ``presence/<agency>`` (the Will says ``online: false``)."""

    agency: Ident
    online: bool
    #: Rises with every connection (like Sparkplug's bdSeq): a stale "offline" is told from a reconnect.
    session: Count


class DirectorPresence(_Ctl):
    """Retained on ``ctl/director`` (the Will says ``online: false``): nodes and dashboards know
    when the director is gone, and when it is back."""

    online: bool
    session: Count


class JournalPointer(_Ctl):
    """Retained on ``ctl/journal``: where the director writes the journal (for a dashboard on the
    same machine that joins late)."""

    path: Annotated[str, Field(min_length=1, max_length=4096)]
