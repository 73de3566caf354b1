"""``hotline test``: run scenarios in fast mode and report their expectations like a test runner.

Each scenario runs on the given broker (or its own embedded one) under its own exercise id.
The result of a scenario is a :class:`ScenarioOutcome`; rendering it is pure
(:func:`outcome_lines`, :func:`totals_line`) so the format is unit-tested without a broker.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sim.clock import utc_stamp
from sim.durations import format_offset
from sim.errors import HotlineError, InputFileError, NotFound
from sim.exercise import run_fast
from sim.expect import Verdict
from sim.outcome import ExerciseState
from sim.scenario import LoadedScenario, find_scenario, load_scenario
from sim.transport import BrokerUrl


@dataclass(frozen=True)
class ScenarioOutcome:
    name: str  # the scenario id, or the path when it did not load
    path: Path
    verdicts: tuple[Verdict, ...] = ()
    #: Why the scenario could not be checked (bad input, or the run failed).
    error: str | None = None
    bad_input: bool = False
    protocol: str = ""
    seed: int | None = None
    journal: Path | None = None
    messages: int = 0
    wall_seconds: float = 0.0
    #: Per failed verdict: the sim-time trail that explains it (level changes, messages).
    context: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.error is None and bool(self.verdicts) and all(v.ok for v in self.verdicts)


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


def explain(verdict: Verdict, state: ExerciseState) -> tuple[str, ...]:
    """The trail behind a failed verdict: the incident's level changes, with sim time, message
    id, and why each level was reached."""
    expectation = verdict.expectation
    spec = getattr(expectation, expectation.kind)
    incident = getattr(spec, "incident", None)
    if incident is None or expectation.kind not in ("max_level", "final_level", "notified"):
        return ()
    start = state.scenario.start
    lines = []
    for change in state.ladder.history.get(incident, []):
        arrow = "▲" if change.level > change.previous else "▼"
        lines.append(
            f"T{format_offset(change.at - start)} {incident} {arrow} L{change.previous}→L{change.level} "
            f"{state.ladder.name(change.level)}: {change.reason} [{change.message_id}]"
        )
    return tuple(lines[-8:])


def outcome_lines(outcome: ScenarioOutcome) -> list[str]:
    """One line per scenario; failed expectations and their trail indented under it."""
    if outcome.error is not None:
        head = "ERROR" if outcome.bad_input else "FAIL "
        return [f"{head} {outcome.name}", *(f"      {line}" for line in outcome.error.splitlines())]
    passed = sum(1 for v in outcome.verdicts if v.ok)
    total = len(outcome.verdicts)
    what = f"{passed}/{total} expectations · {outcome.messages} messages · {outcome.wall_seconds:.1f} s"
    run = f"protocol {outcome.protocol} · seed {outcome.seed}"
    if outcome.ok:
        return [f"PASS  {outcome.name}  ({what} · {run})"]
    lines = [f"FAIL  {outcome.name}  ({what} · {run})"]
    if not outcome.verdicts:
        lines.append("      the scenario states no expectations (expect: is empty)")
    for index, verdict in enumerate(outcome.verdicts):
        if verdict.ok:
            continue
        note = f" — {verdict.expectation.note}" if verdict.expectation.note else ""
        lines.append(f"      ✗ expect[{index}] {verdict.claim}{note}")
        lines.append(f"          found: {verdict.found}")
        lines.extend(f"          {line}" for line in outcome.context.get(index, ()))
    if outcome.journal is not None:
        lines.append(f"      journal {outcome.journal}")
    return lines


def totals_line(outcomes: Iterable[ScenarioOutcome]) -> str:
    """``N passed, N failed`` — and ``, N errors`` for scenarios that could not run at all."""
    items = list(outcomes)
    passed = sum(1 for o in items if o.ok)
    errors = sum(1 for o in items if not o.ok and o.error is not None)
    line = f"{passed} passed, {len(items) - passed - errors} failed"
    return line + (f", {errors} error{'s' if errors != 1 else ''}" if errors else "")


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
        messages=len({m.envelope.id for m in result.state.messages}),
        wall_seconds=result.stats.wall_seconds,
        context=context,
    )
