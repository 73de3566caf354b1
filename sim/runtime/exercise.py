"""Running a whole exercise in one process: broker (embedded unless given), director and one
node per agency — each with its own MQTT connection, all talking only through the broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import structlog

from sim.core.roster import Roster
from sim.evaluation.expect import Verdict, check
from sim.evaluation.outcome import ExerciseState
from sim.runtime.broker import EmbeddedBroker
from sim.runtime.clock import utc_stamp
from sim.runtime.director import Director, RunStats
from sim.runtime.journal import run_dir
from sim.runtime.node import AgencyNode, run_key
from sim.runtime.pacing import Mode
from sim.runtime.recorder import EntryCallback
from sim.runtime.transport import BrokerUrl
from sim.scenario.load import LoadedScenario

log = structlog.get_logger("hotline.exercise")


@dataclass
class RunResult:
    exercise: str
    journal: Path
    state: ExerciseState
    verdicts: list[Verdict]
    stats: RunStats
    broker: str

    @property
    def ok(self) -> bool:
        return all(v.ok for v in self.verdicts)


async def run_exercise(
    loaded: LoadedScenario,
    *,
    mode: Mode = "fast",
    speed: float = 60.0,
    seed: int | None = None,
    broker: BrokerUrl | None = None,
    out_dir: Path = Path("runs"),
    exercise: str | None = None,
    on_entry: EntryCallback | None = None,
    journal_path: Path | None = None,
    on_director: Callable[[Director], None] | None = None,
    credentials: Mapping[str, BrokerUrl] | None = None,
) -> RunResult:
    """Run ``loaded`` to its end with every participant in this process.

    ``on_director`` is called with the director once it is ready for participants (a
    dashboard attaches there). ``credentials`` gives participants (``director`` or an agency
    id) their own broker URL with user name and password."""
    scenario = loaded.scenario
    seed = scenario.seed if seed is None else seed
    exercise = exercise or scenario.id
    roster = Roster.build(scenario, loaded.agreement)
    for dropped in roster.dropped:
        log.info("link_not_in_protocol", link=dropped, protocol=loaded.agreement.id)
    journal = journal_path or run_dir(out_dir, exercise, utc_stamp()) / "journal.jsonl"
    async with _broker(broker) as url:

        def url_of(who: str) -> BrokerUrl:
            return credentials[who] if credentials and who in credentials else url

        director = Director(
            url_of("director"), loaded, roster, exercise, seed, journal, mode=mode, speed=speed, on_entry=on_entry
        )
        nodes = [
            AgencyNode(
                url_of(agency),
                roster,
                agency,
                exercise,
                seed,
                scenario.policy_for(agency),
                run=run_key(exercise, loaded.sha256, seed),
                state_dir=journal.with_suffix(".nodes"),
            )
            for agency in sorted(roster.agencies)
        ]
        state = await _run_participants(director, nodes, on_director)
    return RunResult(exercise, journal, state, check(state), director.stats, str(url))


@asynccontextmanager
async def _broker(url: BrokerUrl | None) -> AsyncIterator[BrokerUrl]:
    """The broker given, or an embedded one for the length of the run."""
    if url is not None:
        yield url
        return
    async with EmbeddedBroker() as embedded:
        yield embedded.url


async def _run_participants(
    director: Director, nodes: list[AgencyNode], on_director: Callable[[Director], None] | None
) -> ExerciseState:
    director_task = asyncio.create_task(director.run(), name="director")
    # Nodes join once the director has cleared stale retained state of an earlier run.
    ready = asyncio.create_task(director.open_for_joining.wait())
    await asyncio.wait({director_task, ready}, return_when=asyncio.FIRST_COMPLETED)
    if on_director is not None and ready.done():
        on_director(director)
    node_tasks: list[asyncio.Task[None]] = []
    try:
        await _start_nodes(nodes, node_tasks, director_task)
        return await _supervise(director_task, node_tasks)
    finally:
        ready.cancel()
        if not director_task.done():
            director_task.cancel()
            await asyncio.gather(director_task, return_exceptions=True)
        _, pending = await asyncio.wait(node_tasks, timeout=5) if node_tasks else (set(), set())
        for task in pending:
            task.cancel()
        await asyncio.gather(*node_tasks, return_exceptions=True)


async def _start_nodes(
    nodes: list[AgencyNode], tasks: list[asyncio.Task[None]], director: asyncio.Task[ExerciseState]
) -> None:
    """One at a time: amqtt 0.12 resets a connection that arrives while another client is
    subscribing (it iterates its subscription table across an await)."""
    for node in nodes:
        task = asyncio.create_task(node.run(), name=f"node-{node.agency}")
        tasks.append(task)
        joined = asyncio.create_task(node.transport.wait_connected())
        await asyncio.wait({task, joined, director}, return_when=asyncio.FIRST_COMPLETED)
        joined.cancel()
        if task.done() or director.done():
            return


async def _supervise(director: asyncio.Task[ExerciseState], nodes: list[asyncio.Task[None]]) -> ExerciseState:
    """Wait for the director; a node that dies (cannot connect, crashes) ends the run at once,
    with its error, rather than leaving the director to time out waiting for it."""
    waiting: set[asyncio.Task[Any]] = {director, *nodes}
    while director in waiting:
        done, waiting = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
        failed = [t for t in done if t is not director and t.exception() is not None]
        if failed:
            director.cancel()
            await asyncio.gather(director, return_exceptions=True)
            raise failed[0].exception()  # type: ignore[misc]
    return director.result()


async def run_fast(loaded: LoadedScenario, **kwargs: Any) -> RunResult:
    """Fast (discrete-event) mode: a 72-hour scenario in well under a second."""
    return await run_exercise(loaded, mode="fast", **kwargs)
