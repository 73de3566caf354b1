"""AgencyNode: one agency on the broker — its own MQTT connection, its own client id, its
own RNG — driving a :class:`~sim.core.nodecore.NodeCore` by the director's clock.

How its sim time advances is its :class:`~sim.runtime.pacing.NodePacing`, chosen by the mode
the director's retained ``ctl/clock`` announces: fast (each clock value is a grant; run the
round, report ``{round, next_due, sent, received}`` on ``ctl/ready/<agency>``) or realtime
(adopt the clock — speed, pause, anchor — and wake when the next thing is due; a node that
joins late agrees on sim time because the clock state is retained).

Presence is retained with a Will, and carries a session number that goes up with every
connection (like Sparkplug's bdSeq): an observer tells a stale "offline" from a reconnect. With
a state directory the node persists its whole protocol state after every change and, restarted
after a crash, carries on where it was.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from pathlib import Path

import structlog

from sim.core.nodecore import NodeCore, NodeState
from sim.core.roster import Roster
from sim.model.admission import Inadmissible
from sim.model.control import (
    ClockState,
    DeliveryTally,
    DetectOrder,
    DirectorPresence,
    ExerciseStatus,
    InjectOrder,
    LinksState,
    MessageOrder,
    PolicyOrder,
    RoundReport,
)
from sim.model.inbound import admit_on
from sim.model.policy import Policy
from sim.model.topics import Parsed, Publish, Topics
from sim.runtime import statefile
from sim.runtime.fast import FastNodePacing
from sim.runtime.liveness import DirectorWatch, Lingering
from sim.runtime.logs import bind_sim_time, participant
from sim.runtime.modes import pacing_for
from sim.runtime.outbox import Outbox
from sim.runtime.pacing import NodePacing
from sim.runtime.transport import BrokerUrl, Transport, Will

log = structlog.get_logger("hotline.node")


def presence_payload(agency: str, *, online: bool, session: int) -> bytes:
    return json.dumps({"agency": agency, "online": online, "session": session}, separators=(",", ":")).encode()


def run_key(exercise: str, scenario_sha: str, seed: int) -> str:
    """Identifies one run of one exercise, to know whether a saved state belongs to it."""
    return f"{exercise}:{scenario_sha[:16]}:{seed}"


class AgencyNode:
    def __init__(
        self,
        url: BrokerUrl,
        roster: Roster,
        agency: str,
        exercise: str,
        seed: int,
        policy: Policy,
        *,
        run: str = "",
        state_dir: Path | None = None,
        director_grace: float = 60.0,
    ) -> None:
        self.agency = agency
        self.topics = Topics(exercise)
        self.seed = seed
        self._core_args = (roster, agency, exercise, seed, policy)
        self.core = self._fresh()
        self.state_path = statefile.state_path(state_dir, agency) if state_dir is not None else None
        saved = statefile.load(self.state_path) if self.state_path is not None else None
        #: A state file of this very run (``run`` = :func:`run_key`): resume it if the run is on.
        self._saved = saved if saved is not None and saved.run == run else None
        #: Presence sessions of earlier processes of this node (from the state file).
        self._session_base = self._saved.session if self._saved is not None else 0
        self.transport = Transport(
            url,
            client_id=f"hotline-{exercise}-{agency}",
            subscriptions=[
                self.topics.inbox(agency),
                self.topics.clock,
                self.topics.inject(agency),
                self.topics.links,
                self.topics.exercise_status,
                self.topics.director,
                self.topics.tally,
            ],
            will=lambda n: Will(
                self.topics.presence(agency), presence_payload(agency, online=False, session=self._session_base + n)
            ),
        )
        self._run: str | None = run or None
        self.outbox = Outbox(self.transport)
        self.exercise = exercise
        #: How sim time advances; the director's clock says which (grants until it does).
        self.pacing: NodePacing = FastNodePacing(self)
        self._last_report: RoundReport | None = None
        self._injects_seen: set[int] = set()
        #: Set once this exercise's director says it is starting or running; retained state of
        #: an earlier run under the same exercise id is ignored until then.
        self._joined = False
        self._unjoined_clock: ClockState | None = None
        self._early: list[tuple[str, bytes]] = []
        self._early_injects: list[InjectOrder] = []
        self._wake = asyncio.Event()
        self.finished = asyncio.Event()
        self._saved_version = -1
        #: The director gone (its Will): wait ``director_grace`` seconds for it, then stop.
        self.director = DirectorWatch(director_grace, self.finished.set)
        #: The exercise ended: the node gave its final account and waits for the tally.
        self.lingering = Lingering(15.0, self.finished.set)

    def _fresh(self) -> NodeCore:
        return NodeCore(*self._core_args)

    @property
    def session(self) -> int:
        return self._session_base + max(self.transport.connections, 1)

    # -- life cycle -------------------------------------------------------------------------------

    async def run(self) -> None:
        """Serve until the exercise ends (or the task is cancelled)."""
        with participant(self.exercise, self.agency):
            await self._serve()

    async def _serve(self) -> None:
        reader = asyncio.create_task(
            # What the broker kept queued for this client id from an earlier run arrives before
            # this run's status, and is dropped on joining a run that is only starting.
            self.transport.run(self._on_message, on_connect=self._on_connect),
            name=f"node-{self.agency}",
        )
        ticker = asyncio.create_task(self._ticker(), name=f"tick-{self.agency}")
        finished = asyncio.create_task(self.finished.wait())
        try:
            done, _ = await asyncio.wait({reader, finished}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                reader.result()  # re-raise a fatal connection error
        finally:
            ticker.cancel()
            self.director.cancel()
            self.lingering.cancel()
            if self.transport.connected:
                try:
                    await asyncio.wait_for(self._goodbye(), 5)
                except TimeoutError:
                    log.warning("goodbye_timeout")
            await self.transport.close()
            reader.cancel()
            finished.cancel()
            await asyncio.gather(reader, finished, ticker, return_exceptions=True)

    async def _goodbye(self) -> None:
        """A clean shutdown says so itself (the Will is for unclean ones)."""
        self._announce(online=False, session=self.session)
        await self.transport.drain()

    def _announce(self, *, online: bool, session: int) -> None:
        """Retained presence, as the Will would say it when we are gone without a word."""
        self.transport.send(
            self.topics.presence(self.agency),
            presence_payload(self.agency, online=online, session=session),
            retain=True,
        )

    async def _on_connect(self, connection: int) -> None:
        self._announce(online=True, session=self._session_base + connection)
        self.save(force=True)  # the session number changed
        self.report(force=True)

    def send_all(self, outs: list[Publish]) -> None:
        """Send what the core decided on — written ahead to the state file (:mod:`~sim.runtime.outbox`)."""
        self.outbox.send(outs, write_ahead=lambda: self.save(force=True))

    def report(self, *, force: bool = False, final: bool = False) -> None:
        """Report, unless nothing but the round number changed: the director expects a report
        only from agencies with something due, and knows the others' next due time already."""
        report = self.core.report(self.pacing.round, final=final)
        last = self._last_report
        if not force and isinstance(last, RoundReport) and report.model_copy(update={"round": last.round}) == last:
            return
        self._last_report = report
        self.transport.send(self.topics.ready(self.agency), report.model_dump_json().encode())

    def save(self, *, force: bool = False) -> None:
        """Write the crash-recovery file, if anything worth saving changed since it was written."""
        if self.state_path is None or self._run is None or not self._joined:
            return  # before joining, the saved state of a crashed process is still to be resumed
        if not force and self._saved_version == self.core.version and not self.outbox.changed:
            return
        snapshot = self.core.snapshot(self._run, self.session)
        statefile.save(self.state_path, snapshot.model_copy(update={"pending": self.outbox.records()}))
        self._saved_version = self.core.version

    # -- incoming ---------------------------------------------------------------------------------

    async def _on_message(self, topic: str, payload: bytes, retained: bool) -> None:
        parsed = self.topics.parse(topic)
        if parsed is None:
            return
        bind_sim_time(self.pacing.now())
        if retained and (parsed.area == "msg" or parsed.parts[:1] == ("inject",)):
            # Protocol traffic is never retained: this is left over, or planted. Not for us.
            log.warning("retained_message_ignored", topic=topic)
            return
        if parsed.area == "msg":
            self._inbound(topic, payload)  # admitted by the protocol core, which answers junk
        elif parsed.area == "ctl" and payload:
            try:
                value = admit_on(parsed, payload)
            except Inadmissible as exc:
                # Only the director writes control topics (the ACL says so), but nothing it or
                # anyone else puts there may stop us: it is logged, boundedly, and ignored.
                log.warning("inadmissible_control", topic=topic[:200], reason=exc.reason.value, detail=exc.detail)
                return
            self._on_control(parsed, value, retained=retained)

    def _on_control(self, parsed: Parsed, value: object, *, retained: bool) -> None:
        match parsed.parts, value:
            case ("exercise",), ExerciseStatus():
                self._on_status(value, retained=retained)
            case ("inject", agency), DetectOrder() | MessageOrder() | PolicyOrder() if agency == self.agency:
                if self._joined:
                    self._take_inject(value)
                else:
                    self._early_injects.append(value)  # which run it belongs to shows on joining
            case ("links",), LinksState():
                self.core.on_links(value)
            case ("clock",), ClockState():
                if self._joined:
                    self._on_clock(value)
                else:
                    self._unjoined_clock = value  # retained; may be this run's (checked on joining)
            case ("director",), DirectorPresence():
                self.director.presence(value, watching=self._joined and not self.finished.is_set())
            case ("tally",), DeliveryTally():
                self.lingering.tallied.set()

    def _take_inject(self, order: InjectOrder) -> None:
        if order.seq not in self._injects_seen:
            self._injects_seen.add(order.seq)
            self.core.on_inject(order)
            self.save()
        self.pacing.run_granted()
        self.wake()

    def _inbound(self, topic: str, payload: bytes) -> None:
        now = self.pacing.now()
        if now is None:
            self._early.append((topic, payload))  # no sim time yet: keep it, lose nothing
            return
        self.send_all(self.core.on_message(topic, payload, now))
        self.save()
        if self.lingering.started:
            self.report(force=True, final=True)  # received after the end: the final account again
            return
        self.pacing.after_inbound()
        self.wake()

    def _on_status(self, status: ExerciseStatus, *, retained: bool = False) -> None:
        if status.status == "starting" and self._joined:
            if not retained:  # (a retained one is the start we joined, delivered again on reconnect)
                self._join(status)  # the exercise id is used again: a new run begins
            return
        if status.status in ("starting", "running"):
            if not self._joined:
                self._join(status)
            return
        if self._joined and not self.lingering.started:  # ended or aborted: the last word is an account
            self.send_all(self.core.flush_rejections(self.pacing.now() or status.end))
            self.report(force=True, final=True)
            if status.status == "aborted":
                self.finished.set()  # the director gave up: there will be no tally to wait for
                return
            # Until the director's tally, a message still in flight is taken (and the final
            # account given again), so that it is not counted as lost.
            self.lingering.start()
            self.wake()  # the ticker stops: nothing more is done

    def _join(self, status: ExerciseStatus) -> None:
        early_injects, self._early_injects = self._early_injects, []
        if status.status == "starting":
            # Nothing of a run that is only starting can have come before its start: what did is
            # left over from an earlier one.
            self._early.clear()
            early_injects.clear()
            if self._joined:
                self._reset()
        self._joined = True
        self._run = run_key(status.exercise, status.sha256, status.seed)
        self._resume_or_restart(status)
        self.pacing.set_time(self.pacing.now() or self.core.now or status.start)
        self.time_known()
        self.save(force=True)
        self.report(force=True)
        for order in early_injects:  # sent while we were away (a resumed or late node)
            self._take_inject(order)
        clock, self._unjoined_clock = self._unjoined_clock, None
        if clock is not None and status.status == "running":
            self._on_clock(clock)  # a late joiner: the retained clock came before the status

    def _resume_or_restart(self, status: ExerciseStatus) -> None:
        """Carry on from the saved state of this very run, if it is running; else start afresh."""
        saved = self._saved if self._saved is not None and self._saved.run == self._run else None
        if status.status == "running" and saved is not None and saved.run == self._run:
            self.core.restore(saved)
            self._injects_seen = set(range(1, saved.injects + 1))
            log.info("resumed", sim_now=str(saved.now), session=self.session, unacknowledged=len(saved.pending))
            self.outbox.replay(saved.pending, write_ahead=lambda: self.save(force=True))
        elif saved is not None or self._session_base:
            # The run is only starting: nothing to resume, and sessions count from 1 again (a
            # journal must not depend on what an earlier run left in the state directory).
            self.core = self._fresh()
            self._session_base = 0
            self._announce(online=True, session=self.session)
        self._saved = None

    def _reset(self) -> None:
        """Forget the previous run entirely (a long-lived node seeing a new one start)."""
        self.lingering.cancel()
        self.core = self._fresh()
        self.pacing = FastNodePacing(self)
        self._last_report = None
        self._injects_seen = set()
        self._saved = None

    def _on_clock(self, state: ClockState) -> None:
        pacing = pacing_for(state.mode)
        if not isinstance(self.pacing, pacing.node):
            self.pacing = pacing.for_node(self)
        self.pacing.on_clock(state)

    # -- what the pacing asks of the node ---------------------------------------------------------

    def time_known(self) -> None:
        """Sim time was set: messages that came before any time was known are handled now."""
        bind_sim_time(self.pacing.now())
        early, self._early = self._early, []
        for topic, payload in early:
            self._inbound(topic, payload)

    def wake(self) -> None:
        self._wake.set()

    async def _ticker(self) -> None:
        """Wake when the next thing falls due by itself (realtime), or anything changes; once the
        exercise has ended, nothing is due any more."""
        while not self.lingering.started:
            self._wake.clear()
            wait = self.pacing.seconds_until(self.core.next_due())
            if wait is None or wait > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            bind_sim_time(self.pacing.now())
            self.pacing.run_due()


__all__ = ["AgencyNode", "NodeState", "presence_payload", "run_key"]
