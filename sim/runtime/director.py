"""The exercise director: hands out injects and link conditions, obeys the facilitator's
commands, journals everything on the exercise's topics, and at the end tallies what was sent
against what was received. It talks only through the broker.

The director coordinates; each concern has its own module: how sim time advances (its
:mod:`~sim.runtime.pacing`: :mod:`~sim.runtime.fast` rounds or :mod:`~sim.runtime.realtime`),
the journal (:mod:`~sim.runtime.recorder`) and the facilitator's commands
(:mod:`~sim.runtime.commands`). Its deterministic parts — the scenario timeline and the round
bookkeeping — are :mod:`sim.core.directorcore`.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import structlog

from sim.core.directorcore import Rounds, Script, clock_publish, tally
from sim.core.roster import Roster
from sim.evaluation.outcome import ExerciseState
from sim.model.admission import Inadmissible
from sim.model.control import Command, DirectorPresence, ExerciseStatus, JournalPointer, Presence, RoundReport
from sim.model.durations import format_offset
from sim.model.errors import HotlineError
from sim.model.inbound import admit_on
from sim.model.journal import Entry, JournalHeader
from sim.model.messages import is_ident
from sim.model.topics import Parsed, Publish, Topics
from sim.runtime.clock import monotonic
from sim.runtime.commands import Commands, Phase
from sim.runtime.journal import versions
from sim.runtime.logs import bind_sim_time, participant
from sim.runtime.modes import pacing_for
from sim.runtime.pacing import DirectorPacing, ExerciseStalled, Mode
from sim.runtime.recorder import EntryCallback, Recorder
from sim.runtime.transport import BrokerUrl, Transport, Will
from sim.scenario.load import LoadedScenario

log = structlog.get_logger("hotline.director")

Status = Literal["starting", "running", "ended", "aborted"]

__all__ = ["Director", "EntryCallback", "ExerciseStalled", "Mode", "RunStats"]


@dataclass
class RunStats:
    rounds: int = 0
    entries: int = 0
    wall_seconds: float = 0.0


class Director:
    def __init__(
        self,
        url: BrokerUrl,
        loaded: LoadedScenario,
        roster: Roster,
        exercise: str,
        seed: int,
        journal_path: Path,
        *,
        mode: Mode = "fast",
        speed: float = 60.0,
        on_entry: EntryCallback | None = None,
        round_timeout: float = 30.0,
        join_timeout: float = 30.0,
        final_timeout: float = 5.0,
    ) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.roster = roster
        self.exercise = exercise
        self.seed = seed
        self.topics = Topics(exercise)
        self.journal_path = journal_path
        self.round_timeout = round_timeout
        self.join_timeout = join_timeout
        self.final_timeout = final_timeout
        self.agencies = sorted(roster.agencies)
        self.timeline = Script(self.scenario, roster, self.topics)
        self.rounds = Rounds(self.agencies)
        self.state = ExerciseState(self.scenario, loaded.agreement, exercise)
        self.recorder = Recorder(journal_path, self.state, on_entry)
        self.stats = RunStats()
        # A persistent session: what is published while the director is reconnecting (a broker
        # restart) is queued for it by the broker and still reaches the journal.
        self.transport = Transport(
            url,
            client_id=f"hotline-{exercise}-director",
            subscriptions=[self.topics.everything],
            # Killed or crashed, the broker says so for us: nodes and dashboards wait a while for
            # the director to come back, then stop.
            will=lambda n: Will(self.topics.director, _presence(online=False, session=n)),
        )
        #: How sim time advances: fast rounds or the realtime clock.
        self.pacing: DirectorPacing = pacing_for(mode).for_director(self, speed=speed)
        self.commands = Commands(self)
        self._phase: Phase = "joining"
        #: Payloads refused by the admission step so far.
        self.refused = 0
        #: The tally is out: nothing more is journalled.
        self._closed = False
        self._recording = False
        self._presence: dict[str, bytes] = {}
        self._online_now: dict[str, bool] = {}
        self._progress = asyncio.Event()
        self._end_requested = False
        self._ended_early: str | None = None
        #: Set once stale retained state is cleared: participants may join from then on.
        self.open_for_joining = asyncio.Event()

    @property
    def now(self) -> datetime:
        return self.pacing.now()

    @property
    def phase(self) -> Phase:
        return self._phase

    @property
    def end_requested(self) -> bool:
        return self._end_requested

    def request_end(self, why: str) -> None:
        """End the exercise now (facilitator command, Ctrl-C): the tally and journal still
        complete, and the status says why it ended early."""
        if self._end_requested:
            return
        self._end_requested = True
        self._ended_early = f"{why} at T{format_offset(self.now - self.scenario.start)}"
        self.pacing.release()
        self._progress.set()

    # -- incoming ---------------------------------------------------------------------------------

    async def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = self.topics.parse(topic)
        if parsed is None or not payload:
            return  # not this exercise's, or a retained value being cleared
        bind_sim_time(self.now)
        try:
            value = admit_on(parsed, payload)  # before anything else looks at it
        except Inadmissible as exc:
            self._refused(topic, parsed, exc, retained=retained)
            return
        if isinstance(value, Presence):
            self._on_presence(topic, value, payload, retained)
            return
        if not self._recording or retained:
            return  # before we started, or retained state of an earlier run: not news
        if parsed.area == "ctl":
            self._on_control(topic, parsed.parts, value, payload)
            return
        if not self._closed:
            self._on_traffic(topic, parsed, payload)

    def _refused(self, topic: str, parsed: Parsed, exc: Inadmissible, *, retained: bool) -> None:
        """Junk: logged and journalled as a bounded record (size, first bytes, hash, reason), never
        verbatim; the exercise goes on. A command that is junk is answered (it may be a typo)."""
        self.refused += 1
        log.warning("inadmissible", topic=topic[:200], reason=exc.reason.value, detail=exc.detail, retained=retained)
        if not self._recording or retained or self._closed:
            return
        if parsed.area in ("msg", "obs"):
            self.rounds.seen[parsed.parts[-1] if parsed.area == "msg" else parsed.parts[0]] += 1
        self.pacing.record(Entry.refused(self.now, topic, exc.junk))
        self._progress.set()
        if parsed.parts[:1] == ("cmd",) and len(parsed.parts) == 2 and is_ident(parsed.parts[1]):
            self.commands.refuse(parsed.parts[1], exc)

    def _on_control(self, topic: str, parts: tuple[str, ...], value: object, payload: bytes) -> None:
        match parts, value:
            case ("ready", agency), RoundReport() if agency in self.rounds.agencies:
                self._on_report(agency, value)
            case ("cmd", client), Command():
                self._record(topic, payload)
                self.commands.take(client, value)
            case _:
                pass  # our own publishes are journaled when we send them

    def _on_report(self, agency: str, report: RoundReport) -> None:
        if report.agency == agency:  # a report is filed only under its own topic
            self.rounds.record(report)
        else:
            log.warning("report_topic_mismatch", topic=agency, claims=report.agency)
        self._progress.set()

    def _on_traffic(self, topic: str, parsed: Parsed, payload: bytes) -> None:
        """An agency's message or observation: journaled, and counted as seen."""
        if parsed.area == "msg":
            self.rounds.seen[parsed.parts[1]] += 1
        elif parsed.area == "obs":
            self.rounds.seen[parsed.parts[0]] += 1
        self._record(topic, payload)
        self._progress.set()

    def _on_presence(self, topic: str, presence: Presence, payload: bytes, retained: bool) -> None:
        agency = topic.rsplit("/", 1)[-1]
        if agency not in self.rounds.agencies or presence.agency != agency:
            return
        self._presence[agency] = payload
        self._online_now[agency] = presence.online
        self._progress.set()
        # While agencies join, only the latest presence counts (journaled once running);
        # afterwards every live change is news: a node dropping out, coming back.
        if self._recording and self._phase == "running" and not retained:
            self._record(topic, payload)

    def _online(self) -> set[str]:
        return {a for a, online in self._online_now.items() if online}

    def _record(self, topic: str, payload: bytes) -> None:
        self.pacing.record(Entry.of(self.now, topic, payload))

    # -- outgoing ---------------------------------------------------------------------------------

    async def publish(self, pub: Publish) -> None:
        """Journal ``pub`` (once recording) and wait until the broker has it."""
        if self._recording:
            self._record(pub.topic, pub.payload)  # at the sim time it was decided, not acknowledged
        await self.transport.publish(pub.topic, pub.payload, retain=pub.retain)

    def send_clock(self) -> None:
        pub = clock_publish(self.topics, self.pacing.clock_state())
        self.transport.send(pub.topic, pub.payload, retain=True)
        self._record(pub.topic, pub.payload)

    def _status(self, status: Status) -> Publish:
        payload = ExerciseStatus(
            exercise=self.exercise,
            scenario=self.scenario.id,
            title=self.scenario.title,
            sha256=self.loaded.sha256,
            protocol=self.loaded.agreement.id,
            seed=self.seed,
            status=status,
            start=self.scenario.start,
            end=self.scenario.end,
            agencies=tuple(self.agencies),
            ended_early=self._ended_early if status == "ended" else None,
        )
        return Publish(self.topics.exercise_status, payload.model_dump_json(exclude_none=True).encode(), retain=True)

    async def wait(
        self, ready: Callable[[], bool], timeout: float, what: Callable[[], HotlineError], *, until_end: bool = True
    ) -> None:
        """Wait for ``ready`` (or, with ``until_end``, for an end request), else raise ``what``."""
        deadline = monotonic() + timeout
        while not ready() and not (until_end and self._end_requested):
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise what()
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), remaining)
            except TimeoutError:
                continue

    # -- the run ----------------------------------------------------------------------------------

    async def run(self) -> ExerciseState:
        with participant(self.exercise):
            return await self._run()

    async def _run(self) -> ExerciseState:
        started = monotonic()
        # (What the broker kept queued for this client id from an earlier run arrives before we
        # record anything, and is not journaled.)
        reader = asyncio.create_task(self.transport.run(self._on_message, on_connect=self._on_connect), name="director")
        try:
            await self._connected(reader)
            main = asyncio.create_task(self._exercise())
            # If the connection is lost for good (credentials refused on reconnect, …), say so
            # rather than wait for acknowledgements that will never come.
            await asyncio.wait({main, reader}, return_when=asyncio.FIRST_COMPLETED)
            if not main.done():
                main.cancel()
                await asyncio.gather(main, return_exceptions=True)
                reader.result()
                raise HotlineError("the director lost its broker connection")
            main.result()
        finally:
            if self._phase != "ended" and self._recording and self.transport.connected:
                # Tell the agencies this run is over, so they do not wait for a dead director.
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.transport.publish(*self._aborted()), 5)
            if self.transport.connected:  # a clean goodbye (the Will is for unclean ones)
                gone = _presence(online=False, session=self.transport.connections)
                with contextlib.suppress(Exception):
                    await asyncio.wait_for(self.transport.publish(self.topics.director, gone, retain=True), 5)
            self.recorder.close()
            await self.transport.close()
            reader.cancel()
            await asyncio.gather(reader, self.commands.cancel(), return_exceptions=True)
            self.stats.entries = self.recorder.count
            self.stats.wall_seconds = monotonic() - started
        log.info(
            "exercise_ended",
            rounds=self.stats.rounds,
            entries=self.stats.entries,
            wall_seconds=round(self.stats.wall_seconds, 3),
        )
        return self.state

    async def _exercise(self) -> None:
        await self._start()
        self.stats.rounds = await self.pacing.run()
        await self._finish()

    def _aborted(self) -> tuple[str, bytes]:
        pub = self._status("aborted")
        return pub.topic, pub.payload

    async def _on_connect(self, connection: int) -> None:
        """Present (retained, like every agency's presence): the Will says the opposite."""
        self.transport.send(self.topics.director, _presence(online=True, session=connection), retain=True)

    async def _connected(self, reader: asyncio.Task[None]) -> None:
        waiter = asyncio.create_task(self.transport.wait_connected())
        await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if reader.done():
            waiter.cancel()
            reader.result()
        # Stale retained state of an earlier run with this exercise id goes first.
        for topic in (self.topics.clock, self.topics.exercise_status, self.topics.links, self.topics.journal_path):
            await self.transport.publish(topic, b"", retain=True)
        self.open_for_joining.set()

    async def _start(self) -> None:
        bind_sim_time(self.now)
        self.recorder.open(
            JournalHeader(
                exercise=self.exercise,
                mode=self.pacing.mode,
                seed=self.seed,
                scenario_sha256=self.loaded.sha256,
                scenario=self.scenario,
                agreement=self.loaded.agreement,
                versions=versions(),
            )
        )
        # Where the journal is, for a dashboard that joins late on this machine (not journaled:
        # the path differs from run to run, the journal itself must not).
        where = JournalPointer(path=str(self.journal_path.resolve())).model_dump_json().encode()
        self.transport.send(self.topics.journal_path, where, retain=True)
        self._recording = True
        await self.publish(self._status("starting"))
        await self.publish(self.timeline.links_state(self.now))
        await self.publish(clock_publish(self.topics, self.pacing.clock_state()))
        await self.wait(
            lambda: self._online() >= set(self.agencies) and set(self.rounds.reports) >= set(self.agencies),
            self.join_timeout,
            lambda: ExerciseStalled(0, self.now, self._waiting_for(), 0, 0),
        )
        for agency in sorted(self._presence):
            if agency in self.rounds.agencies:
                self._record(self.topics.presence(agency), self._presence[agency])
        self._phase = "running"
        await self.publish(self._status("running"))
        self.pacing.start()
        self.recorder.flush()

    def _waiting_for(self) -> list[str]:
        return sorted((set(self.agencies) - self._online()) | (set(self.agencies) - set(self.rounds.reports)))

    async def _finish(self) -> None:
        """End the exercise, then ask every agency for its final tally: what it sent to whom and
        what it received from whom. Every message sent must have been received."""
        bind_sim_time(self.now)
        self._phase = "ended"  # before anything can arrive in answer to it
        await self.publish(self._status("ended"))
        self.recorder.flush()
        # Messages still in flight when the exercise ended are received late: each agency reports
        # again when one reaches it. What has not arrived after ``final_timeout`` is lost.
        try:
            await self.wait(
                lambda: tally(self.rounds.reports, self.agencies, self.now).sound,
                self.final_timeout,
                lambda: HotlineError("final tallies missing"),
                until_end=False,
            )
        except HotlineError:
            log.warning("final_tally_incomplete", missing=[a for a, r in self.rounds.reports.items() if not r.final])
        result = tally(self.rounds.reports, self.agencies, self.now)
        await self.publish(Publish(self.topics.tally, result.model_dump_json().encode()))
        self._closed = True
        self.recorder.flush()


def _presence(*, online: bool, session: int) -> bytes:
    return DirectorPresence(online=online, session=session).model_dump_json().encode()
