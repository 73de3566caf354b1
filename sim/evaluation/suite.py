"""``hotline test``: run scenarios in fast mode and report their expectations like a test runner.

Each scenario runs on the given broker (or its own embedded one) under its own exercise id.
The result of a scenario is a :class:`ScenarioOutcome`; rendering it is pure
(:func:`outcome_lines`, :func:`totals_line`) so the format is unit-tested without a broker.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sim.evaluation.expect import Verdict
from sim.evaluation.outcome import ExerciseState
from sim.model.durations import format_offset


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


def explain(verdict: Verdict, state: ExerciseState) -> tuple[str, ...]:
    """The trail behind a failed verdict: the incident's level changes, with sim time, message
    id, and why each level was reached."""
    expectation = verdict.expectation
    incident = expectation.incident
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
