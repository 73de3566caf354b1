"""The exercise director: owns the clock, hands out injects and link conditions, writes the
journal, and at the end checks the scenario's expectations. It talks only through the broker.

Fast mode (DESIGN §7) runs conservative rounds: grant time T → every agency with something due
handles it and reports → when every expected report is in, nothing is in flight and every
publish has reached the journal, the round's journal lines are written in canonical order and
the clock jumps to the next time anything is due.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import structlog

from sim.clock import monotonic
from sim.control import ClockState, ExerciseStatus, RoundReport
from sim.directorcore import Rounds, Timeline, clock_publish
from sim.errors import HotlineError
from sim.journal import Entry, JournalHeader, JournalWriter, versions
from sim.nodecore import Publish
from sim.outcome import Event, ExerciseState
from sim.roster import Roster
from sim.scenario import LoadedScenario
from sim.topics import Topics
from sim.transport import BrokerUrl, Transport

log = structlog.get_logger("hotline.director")

EntryCallback = Callable[[ExerciseState, Entry, Event | None], None]


class ExerciseStalled(HotlineError):
    def __init__(self, round_no: int, at: datetime, missing: list[str], in_flight: int, unseen: int) -> None:
        super().__init__(
            f"round {round_no} at {at:%Y-%m-%d %H:%M} stalled: "
            f"waiting for {', '.join(missing) or 'nobody'}; {in_flight} message(s) in flight; "
            f"{unseen} publish(es) not yet seen"
        )
        self.round = round_no
        self.missing = missing


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
        on_entry: EntryCallback | None = None,
        round_timeout: float = 30.0,
        join_timeout: float = 30.0,
    ) -> None:
        self.loaded = loaded
        self.scenario = loaded.scenario
        self.roster = roster
        self.exercise = exercise
        self.seed = seed
        self.topics = Topics(exercise)
        self.journal_path = journal_path
        self.on_entry = on_entry
        self.round_timeout = round_timeout
        self.join_timeout = join_timeout
        self.agencies = sorted(roster.agencies)
        self.timeline = Timeline(self.scenario, roster, self.topics)
        self.rounds = Rounds(self.agencies)
        self.state = ExerciseState(self.scenario, loaded.agreement, exercise)
        self.stats = RunStats()
        self.transport = Transport(
            url, client_id=f"hotline-{exercise}-director", subscriptions=[self.topics.everything], clean_session=True
        )
        self._buffer: list[Entry] = []
        self._recording = False
        self._online: set[str] = set()
        self._progress = asyncio.Event()
        self._now = self.scenario.start
        self._journal: JournalWriter | None = None
        #: Set once stale retained state is cleared: participants may join from then on.
        self.open_for_joining = asyncio.Event()
        self.log = log.bind(exercise=exercise)

    # -- incoming ---------------------------------------------------------------------------------

    async def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = self.topics.parse(topic)
        if parsed is None or not self._recording:
            return
        if retained and parsed.area != "presence":
            return  # state of an earlier run under this exercise id, not something that happened
        if retained:
            # Presence kept by the broker: who is online counts, but it is not news for the journal
            # (a node that joined before us is recorded when it is seen online below).
            if b'"online":true' in payload:
                self._online.add(parsed.parts[0])
                self._buffer.append(Entry.of(self._now, topic, payload))
            self._progress.set()
            return
        if parsed.area == "ctl":
            match parsed.parts:
                case ("ready", agency):
                    if agency in self.rounds.agencies:
                        try:
                            self.rounds.record(RoundReport.model_validate_json(payload))
                        except ValueError as exc:
                            self.log.warning("bad_report", agency=agency, error=str(exc).splitlines()[0])
                    self._progress.set()
                    return
                case ("clock",) | ("exercise",) | ("links",) | ("inject", _) | ("result", _):
                    return  # our own publishes: journaled when we sent them
        if parsed.area == "presence":
            if b'"online":true' in payload:
                self._online.add(parsed.parts[0])
            self._progress.set()
        elif parsed.area == "msg":
            self.rounds.seen[parsed.parts[1]] += 1
            self._progress.set()
        elif parsed.area == "obs":
            self.rounds.seen[parsed.parts[0]] += 1
            self._progress.set()
        self._buffer.append(Entry.of(self._now, topic, payload))

    # -- outgoing ---------------------------------------------------------------------------------

    async def _publish(self, pub: Publish) -> None:
        await self.transport.publish(pub.topic, pub.payload, retain=pub.retain)
        if self._recording:
            self._buffer.append(Entry.of(self._now, pub.topic, pub.payload))

    def _status(self, status: Literal["starting", "running", "ended", "aborted"]) -> Publish:
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
        )
        return Publish(self.topics.exercise_status, payload.model_dump_json().encode(), retain=True)

    def _flush(self) -> None:
        """Write the round's entries in canonical order and feed them to the live state."""
        if self._journal is None:
            return
        for entry in sorted(self._buffer, key=Entry.sort_key):
            self._journal.write(entry)
            event = self.state.apply(entry)
            if self.on_entry is not None:
                self.on_entry(self.state, entry, event)
        self.stats.entries += len(self._buffer)
        self._buffer.clear()

    async def _wait(self, ready: Callable[[], bool], timeout: float, what: Callable[[], HotlineError]) -> None:
        deadline = monotonic() + timeout
        while not ready():
            remaining = deadline - monotonic()
            if remaining <= 0:
                raise what()
            self._progress.clear()
            try:
                await asyncio.wait_for(self._progress.wait(), remaining)
            except TimeoutError:
                continue

    # -- the run ----------------------------------------------------------------------------------

    async def run_fast(self) -> ExerciseState:
        reader = asyncio.create_task(self.transport.run(self._on_message), name="director")
        try:
            await self._connected(reader)
            await self._fast_rounds()
        finally:
            if self._journal is not None:
                self._journal.close()
            await self.transport.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)
        return self.state

    async def _connected(self, reader: asyncio.Task[None]) -> None:
        waiter = asyncio.create_task(self.transport.wait_connected())
        await asyncio.wait({reader, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if reader.done():
            waiter.cancel()
            reader.result()
        # Stale retained state of an earlier run with this exercise id goes first.
        for topic in (self.topics.clock, self.topics.exercise_status, self.topics.links):
            await self.transport.publish(topic, b"", retain=True)
        self.open_for_joining.set()

    async def _fast_rounds(self) -> None:
        started = monotonic()
        header = JournalHeader(
            exercise=self.exercise,
            mode="fast",
            seed=self.seed,
            scenario_sha256=self.loaded.sha256,
            scenario=self.scenario,
            agreement=self.loaded.agreement,
            versions=versions(),
        )
        self._journal = JournalWriter(self.journal_path, header)
        self._recording = True
        end = self.scenario.end
        await self._publish(self._status("starting"))
        await self._publish(self.timeline.links_state(self._now))
        await self._publish(clock_publish(self.topics, self._clock(0, self._now)))
        await self._wait(
            lambda: self._online >= set(self.agencies) and set(self.rounds.reports) >= set(self.agencies),
            self.join_timeout,
            lambda: ExerciseStalled(0, self._now, sorted(set(self.agencies) - self._online), 0, 0),
        )
        await self._publish(self._status("running"))
        self._flush()
        round_no = 0
        while True:
            candidates = [t for t in (self.rounds.next_due(), self.timeline.next_event()) if t is not None]
            nxt = max(min(candidates), self._now) if candidates else None
            if nxt is None or nxt > end:
                break
            round_no += 1
            self._now = nxt
            pubs, touched = self.timeline.due(nxt)
            for pub in pubs:
                await self._publish(pub)
            self.rounds.begin(round_no, nxt, touched)
            await self._publish(clock_publish(self.topics, self._clock(round_no, nxt)))
            await self._wait(
                self.rounds.complete,
                self.round_timeout,
                lambda r=round_no: ExerciseStalled(  # type: ignore[misc]
                    r, self._now, self.rounds.missing(), self.rounds.in_flight(), self.rounds.unseen()
                ),
            )
            self._flush()
        self._now = end
        await self._publish(clock_publish(self.topics, self._clock(round_no + 1, end)))
        await self._publish(self._status("ended"))
        self._flush()
        self.stats.rounds = round_no
        self.stats.wall_seconds = monotonic() - started
        self.log.info(
            "exercise_ended",
            rounds=round_no,
            entries=self.stats.entries,
            wall_seconds=round(self.stats.wall_seconds, 3),
        )

    def _clock(self, round_no: int, now: datetime) -> ClockState:
        return ClockState(
            mode="fast",
            round=round_no,
            now=now,
            start=self.scenario.start,
            end=self.scenario.end,
            injects=dict(sorted(self.timeline.inject_counts.items())),
        )
