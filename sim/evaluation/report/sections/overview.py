"""The overview section: what was exercised, under which agreement, by whom."""

from __future__ import annotations

from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import Overview, Participant
from sim.model.durations import format_offset
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
        messages=state.protocol_messages(),
        level_names=tuple(state.agreement.ladder.names),
        ending=state.ending,
        ending_note=ending_note(state),
    )


def ending_note(state: ExerciseState) -> str | None:
    """Why the run's record is not the whole exercise, if it is not."""
    last = state.last_t or state.scenario.start
    at = f"T{format_offset(last - state.scenario.start)}"
    if state.ending == "incomplete":
        return (
            f"incomplete run: the journal stops at {at} without the director's end (it was stopped or crashed); "
            "this report covers the exercise as far as it was recorded, and delivery was not verified"
        )
    if state.ending == "aborted":
        return f"aborted run: the director gave up at {at}; delivery was not verified"
    return None
