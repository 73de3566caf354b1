"""``hotline compare``: would the agreement have helped?

Runs one scenario under several protocols across N seeds in fast mode — each run in its own
process with its own embedded broker, as many at once as there are CPUs — and sets the
outcome distributions side by side. Summarising a run (:func:`summarise`) and aggregating
runs (:func:`aggregate`) are pure and tested without a broker.
"""

from __future__ import annotations

import asyncio
import os
import tempfile
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor, as_completed
from pathlib import Path

from sim.evaluation.compare import RunSummary, summarise
from sim.evaluation.suite import ScenarioOutcome, explain
from sim.model.errors import HotlineError
from sim.runtime.clock import utc_stamp
from sim.runtime.exercise import run_fast
from sim.runtime.transport import BrokerUrl
from sim.scenario.errors import InputFileError, NotFound
from sim.scenario.load import LoadedScenario, find_scenario, load_scenario


def run_one(path: str, protocol: str, seed: int, scratch: str) -> RunSummary:
    """One fast run in this process, with its own embedded broker (a process-pool worker)."""
    from sim.runtime.exercise import run_fast  # noqa: PLC0415 - workers import the heavy parts themselves
    from sim.scenario.load import load_scenario  # noqa: PLC0415 - a process-pool worker loads its own

    loaded = load_scenario(Path(path), protocol)
    exercise = f"cmp-{loaded.scenario.id}-{protocol}-{seed}"[:63]
    journal = Path(scratch) / f"{exercise}.jsonl"
    result = asyncio.run(run_fast(loaded, seed=seed, exercise=exercise, journal_path=journal))
    journal.unlink(missing_ok=True)
    return summarise(result.state, protocol, seed, expectations_ok=result.ok)


def run_all(
    path: Path,
    protocols: list[str],
    seeds: list[int],
    *,
    jobs: int | None = None,
    on_done: Callable[[RunSummary], None] | None = None,
) -> list[RunSummary]:
    """Every (protocol, seed) pair, ``jobs`` at a time (default: one per CPU)."""
    work = [(p, s) for p in protocols for s in seeds]
    workers = max(1, min(jobs or os.cpu_count() or 1, len(work)))
    out: list[RunSummary] = []
    with tempfile.TemporaryDirectory(prefix="hotline-compare-") as scratch:
        if workers == 1:
            for p, s in work:
                summary = run_one(str(path), p, s, scratch)
                out.append(summary)
                if on_done is not None:
                    on_done(summary)
            return out
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(run_one, str(path), p, s, scratch) for p, s in work]
            for future in as_completed(futures):
                summary = future.result()
                out.append(summary)
                if on_done is not None:
                    on_done(summary)
    return out


def collect(targets: Iterable[str]) -> list[Path]:
    """Scenario files named by the targets: files, shipped ids, or directories (their ``*.yaml``,
    not the ``protocols/`` folder under them). No targets: the shipped scenarios."""
    paths: list[Path] = []
    for target in targets:
        candidate = Path(target)
        if candidate.is_dir():
            paths.extend(sorted(p for p in candidate.glob("*.y*ml") if p.suffix in (".yaml", ".yml")))
            continue
        try:
            paths.append(find_scenario(target))
        except NotFound:
            paths.append(candidate)  # reported as bad input when it is loaded
    return paths


def _load(path: Path, protocol: str | None) -> LoadedScenario | ScenarioOutcome:
    try:
        return load_scenario(path, protocol)
    except InputFileError as exc:
        return ScenarioOutcome(str(path), path, error="\n".join(f"error: {e}" for e in exc.errors), bad_input=True)
    except NotFound as exc:
        return ScenarioOutcome(str(path), path, error=f"error: {exc}", bad_input=True)


async def run_scenarios(
    paths: list[Path],
    *,
    broker: BrokerUrl | None = None,
    out_dir: Path | None = None,
    protocol: str | None = None,
    seed: int | None = None,
    on_outcome: Callable[[ScenarioOutcome], None] | None = None,
) -> list[ScenarioOutcome]:
    """Run each scenario in fast mode and check its expectations."""
    outcomes: list[ScenarioOutcome] = []
    with tempfile.TemporaryDirectory(prefix="hotline-test-") as scratch:
        base = out_dir or Path(scratch)
        used: set[str] = set()
        for path in paths:
            loaded = _load(path, protocol)
            if isinstance(loaded, ScenarioOutcome):
                outcome = loaded
            else:
                # A fresh embedded broker per scenario unless one is given: amqtt 0.12 trips
                # over clients of the last run leaving while the next run's join.
                outcome = await _run_one(loaded, broker, base, seed, used, keep=out_dir is not None)
            outcomes.append(outcome)
            if on_outcome is not None:
                on_outcome(outcome)
    return outcomes


async def _run_one(
    loaded: LoadedScenario,
    url: BrokerUrl | None,
    base: Path,
    seed: int | None,
    used: set[str],
    *,
    keep: bool,
) -> ScenarioOutcome:
    sc = loaded.scenario
    exercise = sc.id
    n = 1
    while exercise in used:
        n += 1
        exercise = f"{sc.id}-{n}"
    used.add(exercise)
    the_seed = sc.seed if seed is None else seed
    journal = base / f"{exercise}-{utc_stamp()}" / "journal.jsonl"
    try:
        result = await run_fast(loaded, seed=the_seed, broker=url, exercise=exercise, journal_path=journal)
    except HotlineError as exc:
        return ScenarioOutcome(sc.id, loaded.path, error=f"could not run: {exc}", protocol=loaded.agreement.id)
    verdicts = tuple(result.verdicts)
    context = {i: explain(v, result.state) for i, v in enumerate(verdicts) if not v.ok}
    return ScenarioOutcome(
        sc.id,
        loaded.path,
        verdicts=verdicts,
        protocol=loaded.agreement.id,
        seed=the_seed,
        journal=result.journal if keep else None,
        messages=result.state.protocol_messages(),
        wall_seconds=result.stats.wall_seconds,
        context=context,
    )
