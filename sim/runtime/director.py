"""The exercise director: owns the clock, hands out injects and link conditions, obeys the
facilitator's commands, writes the journal, and at the end tallies what was sent against what
was received. It talks only through the broker.

* **Fast mode** (DESIGN §7) runs conservative rounds: grant time T → every agency with something
  due handles it and reports → when every expected report is in, nothing is in flight and every
  publish has reached the journal, the round's journal lines are written in canonical order and
  the clock jumps to the next time anything is due.
* **Realtime** paces sim time by the wall clock at ``speed``; the clock state (anchor, speed,
  pause) is retained on ``ctl/clock`` so every participant computes the same sim time.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal

import structlog
from pydantic import ValidationError

from sim.core.directorcore import Rounds, Script, clock_publish, tally
from sim.core.roster import Roster
from sim.evaluation.outcome import Event, ExerciseState
from sim.model.control import ClockState, Command, CommandResult, ExerciseStatus, RoundReport
from sim.model.durations import format_offset
from sim.model.errors import HotlineError
from sim.model.journal import Entry, JournalHeader
from sim.model.topics import Publish, Topics
from sim.runtime.clock import RealtimeClock, monotonic
from sim.runtime.commands import inject_problems
from sim.runtime.journal import JournalWriter, versions
from sim.runtime.transport import BrokerUrl, Transport
from sim.scenario.load import LoadedScenario

log = structlog.get_logger("hotline.director")

EntryCallback = Callable[[ExerciseState, Entry, Event | None], None]
Mode = Literal["fast", "realtime"]
Status = Literal["starting", "running", "ended", "aborted"]


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
        self.mode: Mode = mode
        self.topics = Topics(exercise)
        self.journal_path = journal_path
        self.on_entry = on_entry
        self.round_timeout = round_timeout
        self.join_timeout = join_timeout
        self.final_timeout = final_timeout
        self.agencies = sorted(roster.agencies)
        self.timeline = Script(self.scenario, roster, self.topics)
        self.rounds = Rounds(self.agencies)
        self.state = ExerciseState(self.scenario, loaded.agreement, exercise)
        self.stats = RunStats()
        # A persistent session: what is published while the director is reconnecting (a broker
        # restart) is queued for it by the broker and still reaches the journal.
        self.transport = Transport(
            url, client_id=f"hotline-{exercise}-director", subscriptions=[self.topics.everything]
        )
        self.clock = RealtimeClock(self.scenario.start, speed, paused=True)
        self._t = self.scenario.start  # fast mode: the granted time
        self._round = 0
        self._phase: Literal["joining", "running", "ended"] = "joining"
        self._buffer: list[Entry] = []
        self._recording = False
        self._presence: dict[str, bytes] = {}
        self._online_now: dict[str, bool] = {}
        self._progress = asyncio.Event()
        self._wake = asyncio.Event()
        self._resumed = asyncio.Event()
        self._resumed.set()
        self._end_requested = False
        self._ended_early: str | None = None
        self._journal: JournalWriter | None = None
        self._commands: set[asyncio.Task[None]] = set()
        #: Set once stale retained state is cleared: participants may join from then on.
        self.open_for_joining = asyncio.Event()
        self.log = log.bind(exercise=exercise)

    # -- time -------------------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        if self.mode == "fast":
            return self._t
        end: datetime = self.scenario.end
        return min(self.clock.now(), end)

    def _clock_state(self, round_no: int | None = None) -> ClockState:
        round_no = self._round if round_no is None else round_no
        if self.mode == "fast":
            return ClockState(
                mode="fast",
                round=round_no,
                now=self._t,
                start=self.scenario.start,
                end=self.scenario.end,
                paused=not self._resumed.is_set(),
                injects=dict(sorted(self.timeline.inject_counts.items())),
            )
        sim_now, wall = self.clock.anchor()
        return ClockState(
            mode="realtime",
            round=0,
            now=min(sim_now, self.scenario.end),
            start=self.scenario.start,
            end=self.scenario.end,
            speed=self.clock.speed,
            wall=wall,
            paused=self.clock.paused,
            injects=dict(sorted(self.timeline.inject_counts.items())),
        )

    # -- incoming ---------------------------------------------------------------------------------

    async def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = self.topics.parse(topic)
        if parsed is None:
            return
        if parsed.area == "presence":
            self._on_presence(topic, parsed.parts[0], payload, retained)
            return
        if not self._recording or retained:
            return  # before we started, or retained state of an earlier run: not news
        if parsed.area == "ctl":
            match parsed.parts:
                case ("ready", agency) if agency in self.rounds.agencies:
                    try:
                        report = RoundReport.model_validate_json(payload)
                    except ValidationError as exc:
                        self.log.warning("bad_report", agency=agency, error=str(exc).splitlines()[0])
                    else:
                        if report.agency == agency:  # a report is filed only under its own topic
                            self.rounds.record(report)
                        else:
                            self.log.warning("report_topic_mismatch", topic=agency, claims=report.agency)
                    self._progress.set()
                    return
                case ("cmd", client):
                    self._record(topic, payload)
                    task = asyncio.create_task(self._command(client, payload))
                    self._commands.add(task)
                    task.add_done_callback(self._commands.discard)
                    return
                case _:
                    return  # our own publishes are journaled when we send them
        if self._phase == "ended":
            return
        if parsed.area == "msg":
            self.rounds.seen[parsed.parts[1]] += 1
        elif parsed.area == "obs":
            self.rounds.seen[parsed.parts[0]] += 1
        self._record(topic, payload)
        self._progress.set()

    def _on_presence(self, topic: str, agency: str, payload: bytes, retained: bool) -> None:
        if not payload or agency not in self.rounds.agencies:
            return
        try:
            data = json.loads(payload)
        except ValueError:
            data = None
        if not isinstance(data, dict):
            self.log.warning("bad_presence", agency=agency, retained=retained)
            return
        self._presence[agency] = payload
        self._online_now[agency] = data.get("online") is True
        self._progress.set()
        # While agencies join, only the latest presence counts (journaled once running);
        # afterwards every live change is news: a node dropping out, coming back.
        if self._recording and self._phase == "running" and not retained:
            self._record(topic, payload)

    def _online(self) -> set[str]:
        return {a for a, online in self._online_now.items() if online}

    def _record(self, topic: str, payload: bytes) -> None:
        entry = Entry.of(self.now, topic, payload)
        if self.mode == "fast":
            self._buffer.append(entry)
        else:
            self._write(entry)

    # -- outgoing ---------------------------------------------------------------------------------

    async def _publish(self, pub: Publish) -> None:
        if self._recording:
            self._record(pub.topic, pub.payload)  # at the sim time it was decided, not acknowledged
        await self.transport.publish(pub.topic, pub.payload, retain=pub.retain)

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

    def _write(self, entry: Entry) -> None:
        if self._journal is None:
            return
        self._journal.write(entry)
        self.stats.entries += 1
        event = self.state.apply(entry)
        if self.on_entry is not None:
            self.on_entry(self.state, entry, event)

    def _flush(self) -> None:
        """Fast mode: write the round's entries in canonical order."""
        buffered, self._buffer = self._buffer, []
        for entry in sorted(buffered, key=Entry.sort_key):
            self._write(entry)

    async def _wait(
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

    # -- facilitator commands ---------------------------------------------------------------------

    async def _command(self, client: str, payload: bytes) -> None:
        try:
            command = Command.model_validate_json(payload)
        except ValidationError as exc:
            err = exc.errors()[0]
            reason = f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}"
            cid, action = _id_and_action(payload)  # echo what we can, so the sender knows it is its answer
            await self._answer(client, cid, action, accepted=False, reason=f"not a command: {reason}")
            return
        refusal, at = self._obey(command)
        await self._answer(client, command.id, command.action, accepted=refusal is None, reason=refusal or "", at=at)

    def _obey(self, command: Command) -> tuple[str | None, datetime]:
        """Carry out a command: (why it was refused or None, the sim time it took effect)."""
        at = self.now
        if self._phase != "running":
            return f"the exercise is {self._phase}", at
        realtime = self.mode == "realtime"
        paused = self.clock.paused if realtime else not self._resumed.is_set()
        match command.action:
            case "pause" | "resume":
                want = command.action == "pause"
                if paused == want:
                    return f"already {'paused' if want else 'running'}", at
                if realtime:
                    at = self.clock.set(paused=want)
                elif want:
                    self._resumed.clear()
                else:
                    self._resumed.set()
                self._send_clock()  # everyone (dashboards too) sees the pause
            case "speed":
                if not realtime:
                    return "fast mode runs as fast as it can; speed applies to realtime runs", at
                if command.speed is None:
                    return "speed needs a value (sim seconds per wall second)", at
                at = self.clock.set(speed=command.speed)
                self._send_clock()
            case "inject":
                if command.inject is None:
                    return "inject needs an inject (detect, link, message or policy)", at
                problems = inject_problems(self.loaded, command.inject)
                if problems:
                    return "; ".join(problems), at
                self.timeline.live_inject(command.inject, self.now)
            case "end":
                self.request_end("ended by the facilitator")
        self._wake.set()
        return None, at

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
        self._resumed.set()
        self._wake.set()
        self._progress.set()

    async def _answer(
        self, client: str, cid: str, action: str, *, accepted: bool, reason: str, at: datetime | None = None
    ) -> None:
        result = CommandResult(
            id=cid, client=client, action=action, accepted=accepted, reason=reason, at=at or self.now
        )
        self.log.info("command", client=client, action=action, accepted=accepted, reason=reason)
        await self._publish(Publish(self.topics.result(client), result.model_dump_json().encode()))

    def _send_clock(self) -> None:
        pub = clock_publish(self.topics, self._clock_state())
        self.transport.send(pub.topic, pub.payload, retain=True)
        self._record(pub.topic, pub.payload)

    # -- the run ----------------------------------------------------------------------------------

    async def run(self) -> ExerciseState:
        started = monotonic()
        # (What the broker kept queued for this client id from an earlier run arrives before we
        # record anything, and is not journaled.)
        reader = asyncio.create_task(self.transport.run(self._on_message), name="director")
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
            if self._journal is not None:
                self._journal.close()
            await self.transport.close()
            reader.cancel()
            for task in self._commands:
                task.cancel()
            await asyncio.gather(reader, *self._commands, return_exceptions=True)
            self.stats.wall_seconds = monotonic() - started
        self.log.info(
            "exercise_ended",
            rounds=self.stats.rounds,
            entries=self.stats.entries,
            wall_seconds=round(self.stats.wall_seconds, 3),
        )
        return self.state

    async def _exercise(self) -> None:
        await self._start()
        if self.mode == "fast":
            await self._fast_rounds()
        else:
            await self._realtime()
        await self._finish()

    def _aborted(self) -> tuple[str, bytes]:
        pub = self._status("aborted")
        return pub.topic, pub.payload

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
        header = JournalHeader(
            exercise=self.exercise,
            mode=self.mode,
            seed=self.seed,
            scenario_sha256=self.loaded.sha256,
            scenario=self.scenario,
            agreement=self.loaded.agreement,
            versions=versions(),
        )
        self._journal = JournalWriter(self.journal_path, header)
        # Where the journal is, for a dashboard that joins late on this machine (not journaled:
        # the path differs from run to run, the journal itself must not).
        where = json.dumps({"path": str(self.journal_path.resolve())}).encode()
        self.transport.send(self.topics.journal_path, where, retain=True)
        self._recording = True
        await self._publish(self._status("starting"))
        await self._publish(self.timeline.links_state(self.now))
        await self._publish(clock_publish(self.topics, self._clock_state()))
        await self._wait(
            lambda: self._online() >= set(self.agencies) and set(self.rounds.reports) >= set(self.agencies),
            self.join_timeout,
            lambda: ExerciseStalled(0, self.now, self._waiting_for(), 0, 0),
        )
        for agency in sorted(self._presence):
            if agency in self.rounds.agencies:
                self._record(self.topics.presence(agency), self._presence[agency])
        self._phase = "running"
        await self._publish(self._status("running"))
        if self.mode == "realtime":
            self.clock.set(now=self.scenario.start, paused=False)
            self._send_clock()
        self._flush()

    def _waiting_for(self) -> list[str]:
        return sorted((set(self.agencies) - self._online()) | (set(self.agencies) - set(self.rounds.reports)))

    async def _fast_rounds(self) -> None:
        end = self.scenario.end
        round_no = 0
        while not self._end_requested:
            await self._resumed.wait()
            if self._end_requested:
                break
            candidates = [t for t in (self.rounds.next_due(), self.timeline.next_event()) if t is not None]
            nxt = max(min(candidates), self._t) if candidates else None
            if nxt is None or nxt > end:
                break
            round_no += 1
            self._round = round_no
            self._t = nxt
            pubs, touched = self.timeline.due(nxt)
            for pub in pubs:
                await self._publish(pub)
            self.rounds.begin(round_no, nxt, touched)
            await self._publish(clock_publish(self.topics, self._clock_state(round_no)))
            await self._wait(
                self.rounds.complete,
                self.round_timeout,
                lambda r=round_no: ExerciseStalled(  # type: ignore[misc]
                    r, self._t, self.rounds.missing(), self.rounds.in_flight(), self.rounds.unseen()
                ),
            )
            self._flush()
        if not self._end_requested:
            self._t = end
        self.stats.rounds = round_no
        await self._publish(clock_publish(self.topics, self._clock_state(round_no + 1)))

    async def _realtime(self) -> None:
        end = self.scenario.end
        while not self._end_requested:
            now = self.now
            pubs, _ = self.timeline.due(now)
            for pub in pubs:
                await self._publish(pub)
            if now >= end:
                break
            nxt = self.timeline.next_event()
            target = end if nxt is None else min(nxt, end)
            self._wake.clear()
            sleeper = asyncio.create_task(self.clock.sleep_until(target))
            waker = asyncio.create_task(self._wake.wait())
            await asyncio.wait({sleeper, waker}, return_when=asyncio.FIRST_COMPLETED)
            sleeper.cancel()
            waker.cancel()
            await asyncio.gather(sleeper, waker, return_exceptions=True)
        self.clock.set(now=self.now, paused=True)
        await self._publish(clock_publish(self.topics, self._clock_state()))

    async def _finish(self) -> None:
        """End the exercise, then ask every agency for its final tally: what it sent to whom and
        what it received from whom. Every message sent must have been received."""
        self._phase = "ended"  # before anything can arrive in answer to it
        await self._publish(self._status("ended"))
        self._flush()
        try:
            await self._wait(
                lambda: all(r.final for r in self.rounds.reports.values()) and bool(self.rounds.reports),
                self.final_timeout,
                lambda: HotlineError("final tallies missing"),
                until_end=False,
            )
        except HotlineError:
            self.log.warning(
                "final_tally_incomplete", missing=[a for a, r in self.rounds.reports.items() if not r.final]
            )
        result = tally(self.rounds.reports, self.agencies, self.now)
        await self._publish(Publish(self.topics.tally, result.model_dump_json().encode()))
        self._flush()


def _id_and_action(payload: bytes) -> tuple[str, str]:
    try:
        data = json.loads(payload)
    except ValueError:
        return "?", "?"
    if not isinstance(data, dict):
        return "?", "?"
    cid, action = data.get("id"), data.get("action")
    return (cid if isinstance(cid, str) else "?"), (action if isinstance(action, str) else "?")
