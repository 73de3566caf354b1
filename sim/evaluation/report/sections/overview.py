"""The overview section: what was exercised, under which agreement, by whom."""

from __future__ import annotations

from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import Overview, Participant
from sim.model.journal import JournalHeader


def overview(header: JournalHeader, state: ExerciseState) -> Overview:
    sc = state.scenario
    names = {s.id: s.name for s in sc.states}
    return Overview(
        exercise=header.exercise,
        scenario=sc.id,
        title=sc.title,
        summary=" ".join(sc.summary.split()),
        protocol=state.agreement.id,
        protocol_title=state.agreement.title,
        seed=header.seed,
        mode=header.mode,
        start=sc.start,
        end=sc.end,
        duration=sc.duration,
        scenario_sha256=header.scenario_sha256,
        participants=tuple(
            Participant(a.id, a.state, names.get(a.state, a.state), a.role, a.name) for a in sc.agencies
        ),
        messages=len({m.envelope.id for m in state.messages}),
        level_names=tuple(state.agreement.ladder.names),
    )
