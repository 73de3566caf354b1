"""Running a whole exercise in one process: broker (embedded unless given), director and one
node per agency — each with its own MQTT connection, all talking only through the broker."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path

import structlog

from sim.broker import EmbeddedBroker
from sim.clock import utc_stamp
from sim.director import Director, EntryCallback, RunStats
from sim.expect import Verdict, check
from sim.journal import run_dir
from sim.node import AgencyNode
from sim.outcome import ExerciseState
from sim.roster import Roster
from sim.scenario import LoadedScenario
from sim.transport import BrokerUrl

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


async def run_fast(
    loaded: LoadedScenario,
    *,
    seed: int | None = None,
    broker: BrokerUrl | None = None,
    out_dir: Path = Path("runs"),
    exercise: str | None = None,
    on_entry: EntryCallback | None = None,
    journal_path: Path | None = None,
) -> RunResult:
    scenario = loaded.scenario
    seed = scenario.seed if seed is None else seed
    exercise = exercise or scenario.id
    roster = Roster.build(scenario, loaded.agreement)
    for dropped in roster.dropped:
        log.info("link_not_in_protocol", link=dropped, protocol=loaded.agreement.id)
    journal = journal_path or run_dir(out_dir, exercise, utc_stamp()) / "journal.jsonl"
    embedded = EmbeddedBroker() if broker is None else None
    if embedded is not None:
        await embedded.start()
    url = embedded.url if embedded is not None else broker
    assert url is not None
    try:
        director = Director(url, loaded, roster, exercise, seed, journal, on_entry=on_entry)
        director_task = asyncio.create_task(director.run_fast(), name="director")
        nodes = [
            AgencyNode(url, roster, agency, exercise, seed, scenario.policy_for(agency))
            for agency in sorted(roster.agencies)
        ]
        # Nodes join once the director has cleared stale retained state of an earlier run.
        ready = asyncio.create_task(director.open_for_joining.wait())
        await asyncio.wait({director_task, ready}, return_when=asyncio.FIRST_COMPLETED)
        node_tasks = [asyncio.create_task(n.run(), name=f"node-{n.agency}") for n in nodes]
        try:
            state = await director_task
        finally:
            ready.cancel()
            done, pending = await asyncio.wait(node_tasks, timeout=5)
            for task in pending:
                task.cancel()
            await asyncio.gather(*node_tasks, return_exceptions=True)
            for task in done:
                if task.exception() is not None and director_task.done() and director_task.exception() is None:
                    raise task.exception()  # type: ignore[misc]
    finally:
        if embedded is not None:
            await embedded.stop()
    return RunResult(exercise, journal, state, check(state), director.stats, str(url))
