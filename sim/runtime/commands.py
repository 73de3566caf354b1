"""The facilitator's commands to the director (``ctl/cmd/<client>``): pause, resume, speed, a
live inject, end — each carried out or refused, and answered on ``ctl/result/<client>`` with the
sim time at which it took effect."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, Literal, Protocol

import structlog

from sim.core.ratelimit import Budget
from sim.model.admission import Inadmissible, parse_json
from sim.model.control import Command, CommandResult
from sim.model.injects import Inject
from sim.model.topics import Publish
from sim.runtime.clock import monotonic
from sim.runtime.logs import bind_sim_time
from sim.runtime.pacing import DirectorPacing, Stage
from sim.scenario.checks import check_injects
from sim.scenario.load import LoadedScenario
from sim.scenario.yamlsrc import format_loc

log = structlog.get_logger("hotline.director")

Phase = Literal["joining", "running", "ended"]


class Obeys(Stage, Protocol):
    """What commands need of the director: its :class:`~sim.runtime.pacing.Stage` and more."""

    @property
    def phase(self) -> Phase: ...

    @property
    def pacing(self) -> DirectorPacing: ...

    @property
    def loaded(self) -> LoadedScenario: ...

    def request_end(self, why: str) -> None: ...


def inject_problems(loaded: LoadedScenario, inject: Inject) -> list[str]:
    """Why a live inject cannot be carried out in this exercise (empty: it can)."""
    live = inject.model_copy(update={"at": timedelta(0)})
    probe = loaded.scenario.model_copy(update={"injects": (live,)})
    return [f"{format_loc(loc[2:])}: {message}" for loc, message in check_injects(probe, loaded.agreement)]


class Commands:
    """Takes each command in its own task (so a slow answer holds up nothing else)."""

    def __init__(self, director: Obeys) -> None:
        self.director = director
        self._tasks: set[asyncio.Task[None]] = set()
        self._budget = Budget(burst=5, per_second=1.0)

    def take(self, client: str, command: Command) -> None:
        self._start(self._command(client, command))

    def refuse(self, client: str, exc: Inadmissible) -> None:
        """A command that is not one: answered (it may be a typo), at a bounded rate."""
        if not self._budget.allow(client, monotonic()):
            return
        cid, action = _id_and_action(exc)  # echo what we can, so the sender knows it is its answer
        self._start(self._answer(client, cid, action, accepted=False, reason=f"not a command: {exc.detail}"))

    def _start(self, coro: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def cancel(self) -> None:
        """Stop whatever is still being answered (the run is over)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _command(self, client: str, command: Command) -> None:
        refusal, at = self.obey(command)
        await self._answer(client, command.id, command.action, accepted=refusal is None, reason=refusal or "", at=at)

    def obey(self, command: Command) -> tuple[str | None, datetime]:
        """Carry out a command: (why it was refused or None, the sim time it took effect)."""
        director = self.director
        at = director.pacing.now()
        if director.phase != "running":
            return f"the exercise is {director.phase}", at
        refusal: str | None = None
        match command.action:
            case "pause" | "resume":
                refusal, at = self._pause(command.action == "pause", at)
            case "speed":
                refusal, at = self._speed(command.speed, at)
            case "inject":
                refusal = self._inject(command.inject)
            case "end":
                director.request_end("ended by the facilitator")
        if refusal is None:
            director.pacing.nudge()
        return refusal, at

    def _pause(self, want: bool, at: datetime) -> tuple[str | None, datetime]:
        pacing = self.director.pacing
        if pacing.paused == want:
            return f"already {'paused' if want else 'running'}", at
        at = pacing.set_paused(want)
        self.director.send_clock()  # everyone (dashboards too) sees the pause
        return None, at

    def _speed(self, speed: float | None, at: datetime) -> tuple[str | None, datetime]:
        refusal, changed_at = self.director.pacing.set_speed(speed)
        if refusal is not None:
            return refusal, at
        self.director.send_clock()
        return None, changed_at

    def _inject(self, inject: Inject | None) -> str | None:
        director = self.director
        if inject is None:
            return "inject needs an inject (detect, link, message or policy)"
        problems = inject_problems(director.loaded, inject)
        if problems:
            return "; ".join(problems)
        director.timeline.live_inject(inject, director.pacing.now())
        return None

    async def _answer(
        self, client: str, cid: str, action: str, *, accepted: bool, reason: str, at: datetime | None = None
    ) -> None:
        director = self.director
        result = CommandResult(
            id=cid, client=client, action=action, accepted=accepted, reason=reason, at=at or director.pacing.now()
        )
        bind_sim_time(director.pacing.now())
        log.info("command", client=client, action=action, accepted=accepted, reason=reason)
        await director.publish(Publish(director.topics.result(client), result.model_dump_json().encode()))


def _id_and_action(exc: Inadmissible) -> tuple[str, str]:
    """The id and action a refused command claimed, if they can be read at all (bounded)."""
    try:
        data = parse_json(exc.payload)
    except Inadmissible:
        return "?", "?"
    if not isinstance(data, dict):
        return "?", "?"
    cid, action = data.get("id"), data.get("action")
    return (cid[:64] if isinstance(cid, str) and cid else "?"), (action[:16] if isinstance(action, str) else "?")
