"""Assembling the after-action report: one builder call per section, in the report's order."""

from __future__ import annotations

from sim.evaluation.expect import check
from sim.evaluation.outcome import Event, ExerciseState
from sim.evaluation.report.model import Report
from sim.evaluation.report.sections.checks import checks
from sim.evaluation.report.sections.findings import findings
from sim.evaluation.report.sections.incidents import incidents
from sim.evaluation.report.sections.links import links
from sim.evaluation.report.sections.metrics import metrics
from sim.evaluation.report.sections.objectives import expectations, objectives
from sim.evaluation.report.sections.overview import overview
from sim.evaluation.report.sections.problems import problems
from sim.evaluation.report.sections.tallies import tallies
from sim.evaluation.report.sections.timeline import timeline
from sim.model.journal import JournalHeader


def build(header: JournalHeader, state: ExerciseState, events: list[Event]) -> Report:
    """The after-action report of a folded journal (:func:`sim.evaluation.outcome.fold`)."""
    verdicts = check(state)
    return Report(
        overview=overview(header, state),
        timeline=timeline(state, events),
        incidents=incidents(state),
        metrics=metrics(state),
        tallies=tallies(state),
        links=links(state, events),
        problems=problems(state),
        checks=checks(state),
        objectives=objectives(state.scenario, verdicts),
        expectations=expectations(verdicts),
        findings=findings(state),
    )
