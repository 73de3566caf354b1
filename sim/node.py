"""AgencyNode: one agency on the broker — its own MQTT connection, its own client id, its
own RNG — driving a :class:`~sim.nodecore.NodeCore` by the director's clock."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime

import structlog
from pydantic import ValidationError

from sim.control import ClockState, ExerciseStatus, InjectOrder, LinksState, RoundReport
from sim.nodecore import NodeCore, Publish
from sim.roster import Roster
from sim.scenario import Policy
from sim.topics import Topics
from sim.transport import BrokerUrl, Transport, Will

log = structlog.get_logger("hotline.node")


def presence_payload(agency: str, *, online: bool, session: int) -> bytes:
    return json.dumps({"agency": agency, "online": online, "session": session}, separators=(",", ":")).encode()


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
        session: int = 1,
    ) -> None:
        self.agency = agency
        self.topics = Topics(exercise)
        self.core = NodeCore(roster, agency, exercise, seed, policy)
        self.session = session
        self.transport = Transport(
            url,
            client_id=f"hotline-{exercise}-{agency}",
            subscriptions=[
                self.topics.inbox(agency),
                self.topics.clock,
                self.topics.inject(agency),
                self.topics.links,
                self.topics.exercise_status,
            ],
            will=Will(self.topics.presence(agency), presence_payload(agency, online=False, session=session)),
        )
        self._grant: ClockState | None = None
        self._round = 0
        self._last_report: RoundReport | None = None
        self._injects_seen: set[int] = set()
        #: Set once this exercise's director says it is starting or running; retained state
        #: of an earlier run under the same exercise id is ignored until then.
        self._joined = False
        self._sim_now: datetime | None = None
        self._early: list[tuple[str, bytes]] = []
        self.finished = asyncio.Event()
        self.log = log.bind(agency=agency, exercise=exercise)

    async def run(self) -> None:
        """Serve until the exercise ends (or the task is cancelled)."""
        reader = asyncio.create_task(
            self.transport.run(self._on_message, on_connect=self._on_connect), name=f"node-{self.agency}"
        )
        finished = asyncio.create_task(self.finished.wait())
        try:
            done, _ = await asyncio.wait({reader, finished}, return_when=asyncio.FIRST_COMPLETED)
            if reader in done:
                reader.result()  # re-raise a fatal connection error
        finally:
            if self.transport.connected:
                await self.transport.publish(
                    self.topics.presence(self.agency),
                    presence_payload(self.agency, online=False, session=self.session),
                    retain=True,
                )
            await self.transport.close()
            reader.cancel()
            finished.cancel()
            await asyncio.gather(reader, finished, return_exceptions=True)

    async def _on_connect(self) -> None:
        await self.transport.publish(
            self.topics.presence(self.agency),
            presence_payload(self.agency, online=True, session=self.session),
            retain=True,
        )
        await self._report(force=True)

    async def _publish_all(self, outs: list[Publish]) -> None:
        for out in outs:
            await self.transport.publish(out.topic, out.payload, retain=out.retain)

    async def _report(self, *, force: bool = False) -> None:
        report = self.core.report(self._round)
        if not force and self._last_report is not None and report == self._last_report:
            return
        self._last_report = report
        await self.transport.publish(self.topics.ready(self.agency), report.model_dump_json().encode())

    async def _on_message(self, topic: str, payload: bytes, _retained: bool) -> None:
        parsed = self.topics.parse(topic)
        if parsed is None:
            return
        try:
            if parsed.area == "msg":
                if self._sim_now is None:
                    self._early.append((topic, payload))  # no sim time yet: keep it, lose nothing
                    return
                await self._publish_all(self.core.on_message(topic, payload, self._sim_now))
                await self._report()
                return
            if parsed.area != "ctl" or not payload:
                return
            match parsed.parts:
                case ("inject", agency) if agency == self.agency:
                    order = InjectOrder.model_validate_json(payload)
                    if order.seq not in self._injects_seen:
                        self._injects_seen.add(order.seq)
                        self.core.on_inject(order)
                    await self._maybe_run()
                case ("links",):
                    self.core.on_links(LinksState.model_validate_json(payload))
                case ("clock",):
                    state = ClockState.model_validate_json(payload)
                    if not self._joined:
                        return  # a retained clock of some earlier run
                    await self._set_time(state.now)
                    if state.mode == "fast" and state.round > self._round:
                        self._grant = state
                        await self._maybe_run()
                case ("exercise",):
                    status = ExerciseStatus.model_validate_json(payload)
                    if status.status in ("starting", "running"):
                        self._joined = True
                        await self._set_time(self._sim_now or status.start)
                    elif self._joined:
                        self.finished.set()
        except ValidationError as exc:
            # The director and the ACL are trusted, but a bad control payload must not kill us.
            self.log.warning("bad_control_payload", topic=topic, error=str(exc).splitlines()[0])

    async def _set_time(self, now: datetime) -> None:
        """Adopt the sim time; messages that came before any time was known are handled now."""
        self._sim_now = now
        early, self._early = self._early, []
        for topic, payload in early:
            await self._publish_all(self.core.on_message(topic, payload, now))
        if early:
            await self._report()

    async def _maybe_run(self) -> None:
        grant = self._grant
        if grant is None or grant.round <= self._round:
            return
        if self.core.injects < grant.injects.get(self.agency, 0):
            return  # an inject of this round is still on its way
        self._round = grant.round
        due = self.core.next_due()
        had_work = due is not None and due <= grant.now
        outs = self.core.run_until(grant.now)
        await self._publish_all(outs)
        await self._report(force=had_work or bool(outs))
