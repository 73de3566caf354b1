"""Objectives with their evidence (the expectations that name them), and every expectation's
verdict."""

from __future__ import annotations

from sim.evaluation.expect import Verdict
from sim.evaluation.report.model import ExpectationResult, ObjectiveResult
from sim.model.scenario import Scenario


def objectives(scenario: Scenario, verdicts: list[Verdict]) -> tuple[ObjectiveResult, ...]:
    out = []
    for objective in scenario.objectives:
        linked = [v for v in verdicts if v.expectation.objective == objective.id]
        if not linked:
            out.append(
                ObjectiveResult(objective.id, objective.text, "not evaluated", ("no expectation names this objective",))
            )
            continue
        status = "met" if all(v.ok for v in linked) else "not met"
        evidence = tuple(f"{'✓' if v.ok else '✗'} {v.claim}: {v.found}" for v in linked)
        out.append(ObjectiveResult(objective.id, objective.text, status, evidence))
    return tuple(out)


def expectations(verdicts: list[Verdict]) -> tuple[ExpectationResult, ...]:
    return tuple(ExpectationResult(v.ok, v.claim, v.found) for v in verdicts)
