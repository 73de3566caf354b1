"""The live feed: one read-only MQTT subscription to the exercise, folded into the same
:class:`~tui.model.DashboardModel` as a replayed journal, plus the facilitator's commands
(``ctl/cmd/<client>``) and their answers (``ctl/result/<client>``).

A dashboard that only knows the exercise id learns the scenario from the retained
``ctl/exercise`` status: the shipped (or given) scenario file with that id, checked by hash."""

from __future__ import annotations

import json
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

import structlog

from sim.evaluation.journalfile import read_entries, read_header
from sim.model.admission import Inadmissible, parse_json
from sim.model.control import ClockState, Command, CommandResult, DirectorPresence, ExerciseStatus, JournalPointer
from sim.model.errors import HotlineError
from sim.model.inbound import admit_on
from sim.model.topics import Parsed, Topics
from sim.scenario.load import LoadedScenario, find_scenario, load_scenario
from tui.commands import encode_command
from tui.model import DashboardModel

log = structlog.get_logger("hotline.dashboard")


Handler = Callable[[str, bytes, bool], Awaitable[None]]


class Wire(Protocol):
    """One connection to the exercise's broker, as the dashboard uses it. The composition root
    (``sim.cli``) hands the dashboard a :class:`Wires` that opens them: the dashboard itself
    knows nothing of MQTT clients (``sim.runtime.transport.Transport`` is one)."""

    @property
    def connected(self) -> bool: ...

    async def run(self, handler: Handler, *, on_connect: Callable[[int], Awaitable[None]] | None = None) -> None: ...

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None: ...

    async def wait_connected(self, timeout: float | None = None) -> None: ...

    async def close(self) -> None: ...


class Wires(Protocol):
    """Opens :class:`Wire` s to one broker."""

    @property
    def label(self) -> str:
        """The broker as the header shows it (never with a password)."""
        ...

    def __call__(self, client_id: str, subscriptions: list[str]) -> Wire: ...


def monotonic() -> float:
    return time.monotonic()


def wall_now() -> datetime:
    return datetime.now(UTC)


#: How long after catching up from a journal live copies of its lines are looked for.
DEDUP_SECONDS = 10.0


def sim_now(clock: ClockState, wall: datetime) -> datetime:
    """Sim time by the director's clock (see :meth:`ClockState.sim_time`)."""
    return clock.sim_time(wall)


@dataclass
class LiveStats:
    received: int = 0
    applied: int = 0
    ignored: int = 0


@dataclass
class LiveFeed:
    wires: Wires
    exercise: str
    client: str
    loaded: LoadedScenario | None = None
    scenario_path: Path | None = None
    #: A journal of this exercise to start from (a dashboard that joins late catches up from it).
    journal: Path | None = None
    #: Called after each message that changed the model (cheap: the app coalesces).
    on_change: Callable[[], None] = lambda: None
    on_result: Callable[[CommandResult], None] = lambda _r: None
    model: DashboardModel | None = None
    status: ExerciseStatus | None = None
    clock: ClockState | None = None
    problem: str | None = None
    stats: LiveStats = field(default_factory=LiveStats)
    _waiting: list[tuple[str, bytes]] = field(default_factory=list)
    #: Journal lines (topic, canonical payload) whose live copy may still arrive: applied once.
    _backfilled: Counter[tuple[str, str]] = field(default_factory=Counter)
    _backfill_done: bool = False
    _dedup_until: float = 0.0
    #: Whether exercise traffic has been seen live (then it is too late to catch up from a journal).
    _live: bool = False
    #: The journal path the director announced on ``ctl/journal``.
    _announced: Path | None = None
    #: Seconds a dashboard waits for a director that is gone (its Will) before it stops following.
    director_grace: float = 60.0
    #: When (monotonic) the director was seen to be gone, if it is.
    director_lost_at: float | None = None

    @classmethod
    def from_journal(cls, wires: Wires, journal: Path, client: str) -> LiveFeed:
        """Follow the exercise a journal records, starting from everything it holds so far."""
        header = read_header(journal)
        loaded = LoadedScenario(
            path=journal, scenario=header.scenario, agreement=header.agreement, sha256=header.scenario_sha256
        )
        return cls(wires, header.exercise, client, loaded=loaded, journal=journal)

    def __post_init__(self) -> None:
        self.topics = Topics(self.exercise)
        self.transport = self.wires(
            # unique per dashboard (two dashboards of one facilitator must not kick each other off)
            f"hotline-{self.exercise}-{self.client}-{uuid.uuid4().hex[:6]}",
            [self.topics.everything],
        )
        if self.loaded is not None:
            self._start_model(self.loaded)

    @property
    def connected(self) -> bool:
        return self.transport.connected

    def tick(self, wall: datetime | None = None) -> None:
        """Let the model's "now" follow the live clock (realtime sim time moves between messages),
        unless the director is gone for good: then the clock has stopped."""
        if self.director_gone:
            return
        if self.model is not None and self.clock is not None:
            self.model.now = max(self.model.now, sim_now(self.clock, wall or wall_now()))

    async def run(self) -> None:
        await self.transport.run(self.handle, on_connect=self._connected)

    async def _connected(self, _connections: int) -> None:
        """Subscribed: now catch up from the journal, if we have one (once). What was published
        while we read it is delivered after, and deduplicated against it."""
        if self.journal is not None and self.model is not None and not self._backfill_done:
            self._backfill_done = True
            self._backfill(self.journal)
            self._dedup_until = monotonic() + DEDUP_SECONDS
            self.on_change()

    async def close(self) -> None:
        await self.transport.close()

    async def send(self, command: Command) -> None:
        await self.transport.publish(self.topics.cmd(self.client), encode_command(command))

    # -- incoming ----------------------------------------------------------------------------------

    async def handle(self, topic: str, payload: bytes, retained: bool) -> None:
        self.stats.received += 1
        if not retained and ("/msg/" in topic or "/obs/" in topic):
            self._live = True
        parsed = self.topics.parse(topic)
        if parsed is None or not payload:
            self.stats.ignored += 1
            return  # not ours, or a retained value being cleared
        if parsed.area == "ctl" and not self._control(topic, parsed, payload):
            return
        if self.model is None:
            self._waiting.append((topic, payload))
            return
        self._apply(topic, payload, parsed)

    def _apply(self, topic: str, payload: bytes, parsed: Parsed | None = None) -> None:
        assert self.model is not None
        if self._backfilled and monotonic() < self._dedup_until:
            key = (topic, _canonical(payload))
            if self._backfilled[key] > 0:
                self._backfilled[key] -= 1  # already applied from the journal
                if self._backfilled[key] == 0:
                    del self._backfilled[key]
                return
        t = sim_now(self.clock, wall_now()) if self.clock is not None else self.model.now
        if self.model.apply_raw(t, topic, payload, parsed) is None:
            self.stats.ignored += 1
        self.stats.applied += 1
        self.on_change()

    def _control(self, topic: str, parsed: Parsed, payload: bytes) -> bool:
        """A control topic, admitted; True if it is also to be folded into the model."""
        match parsed.parts:
            case ("cmd", _) | ("ready", _):
                return False
            case ("result", client) if client != self.client:
                return False
        try:
            value = admit_on(parsed, payload)  # the one admission step, as everywhere
        except Inadmissible as exc:
            self.stats.ignored += 1
            log.warning("inadmissible_control", topic=topic[:200], reason=exc.reason.value, detail=exc.detail)
            return False
        match value:
            case CommandResult():
                self.on_result(value)
                return False
            case JournalPointer():
                self._journal_at(value)
                return False
            case ClockState():
                self.clock = value
            case ExerciseStatus():
                self._status(value)
            case DirectorPresence():
                self._director(value)
        return True

    def _director(self, presence: DirectorPresence) -> None:
        ended = self.status is not None and self.status.status in ("ended", "aborted")
        if presence.online or ended:
            self.director_lost_at = None
        elif self.director_lost_at is None:
            self.director_lost_at = monotonic()
            log.warning("director_lost", grace_seconds=self.director_grace)
        self.on_change()

    @property
    def director_gone(self) -> bool:
        """The director has been gone longer than the grace period."""
        lost = self.director_lost_at
        return lost is not None and monotonic() - lost > self.director_grace

    def _status(self, status: ExerciseStatus) -> None:
        previous, self.status = self.status, status
        if self.model is None:
            self._resolve(status)
        elif status.status == "starting" and previous is not None and previous.status != "starting":
            # The exercise id is used again: a new run. Start from a clean slate.
            self.clock = None
            if self.loaded is not None:
                self._start_model(self.loaded)

    def _journal_at(self, pointer: JournalPointer) -> None:
        """The director says where its journal is. A dashboard that joined late, on the same
        machine, catches up from it (once, and only if nothing live has been applied yet)."""
        self._announced = Path(pointer.path)
        self._catch_up_from_announced()

    def _catch_up_from_announced(self) -> None:
        path = self._announced
        if path is None or self.journal is not None or self._backfill_done or self.model is None or self._live:
            return  # (without a model yet, this runs again once the scenario is known)
        if path.is_file():
            self.journal = path
            self._backfill_done = True
            self._backfill(path)
            self._dedup_until = monotonic() + DEDUP_SECONDS
            self.on_change()

    def _resolve(self, status: ExerciseStatus) -> None:
        """Find the scenario the director runs, from the status it keeps retained."""
        name = str(self.scenario_path) if self.scenario_path is not None else status.scenario
        try:
            loaded = load_scenario(find_scenario(name), status.protocol)
        except HotlineError as exc:
            self.problem = (
                f"cannot load scenario {name!r} of exercise {status.exercise}: {str(exc).splitlines()[0]} "
                "(pass --scenario FILE)"
            )
            log.warning("scenario_not_found", scenario=name, error=str(exc).splitlines()[0])
            self.on_change()
            return
        if loaded.sha256 != status.sha256:
            self.problem = f"{loaded.path} differs from the scenario the director runs (sha256); showing it anyway"
        self._start_model(loaded)

    def _start_model(self, loaded: LoadedScenario) -> None:
        self.loaded = loaded
        self.model = DashboardModel(loaded.scenario, loaded.agreement, self.exercise)
        waiting, self._waiting = self._waiting, []
        for topic, payload in waiting:
            self._apply(topic, payload)
        self._catch_up_from_announced()
        self.on_change()

    def _backfill(self, journal: Path) -> None:
        """Apply the journal so far. Its entries may also be on their way live (published while
        we subscribed): each journal line is applied once, whichever copy comes first."""
        assert self.model is not None
        for entry in read_entries(journal):
            if entry.payload is None:
                continue
            self.model.apply(entry)
            if "/ctl/clock" not in entry.topic:
                self._backfilled[(entry.topic, json.dumps(entry.payload, sort_keys=True))] += 1


def _canonical(payload: bytes) -> str:
    try:
        return json.dumps(parse_json(payload), sort_keys=True)
    except Inadmissible:
        return ""
