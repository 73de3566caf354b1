"""Each incident's ladder: when it was detected and first told to another state, its peak and
how long it was held, when it came down, and every step with its reason."""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.core.ladder import LevelChange, pair_label
from sim.evaluation.measures import NOTICE_KINDS, foreign
from sim.evaluation.outcome import ExerciseState, IncidentStats
from sim.evaluation.report.model import IncidentReport, PairReport, Step


def incidents(state: ExerciseState) -> tuple[IncidentReport, ...]:
    return tuple(incident(state, i) for i in state.incidents)


def incident(state: ExerciseState, incident_id: str) -> IncidentReport:
    stats = state.incidents[incident_id]
    steps = _steps(state.ladder.changes(incident_id))
    peak, peak_at = state.ladder.peak(incident_id)
    notice = _first_notice(state, incident_id, stats)
    took = notice - stats.detected_at if notice is not None and stats.detected_at is not None else None
    return IncidentReport(
        id=incident_id,
        detected_at=stats.detected_at,
        detected_by=stats.detected_by,
        first_notice_at=notice,
        time_to_notice=took,
        peak=peak,
        peak_at=peak_at,
        time_at_peak=_time_at_peak(steps, peak, state.scenario.end),
        time_to_deescalate=_time_to_deescalate(steps, peak, peak_at),
        final_level=state.ladder.level(incident_id),
        steps=steps,
        messages=stats.messages,
        pairs=_pairs(state, incident_id),
    )


def _steps(changes: list[LevelChange]) -> tuple[Step, ...]:
    return tuple(Step(c.at, c.level, c.previous, c.reason, c.message_id) for c in changes)


def _pairs(state: ExerciseState, incident_id: str) -> tuple[PairReport, ...]:
    """Each pair of states' own ladder, when the incident involves more than two states."""
    pairs = state.ladder.pairs(incident_id)
    if len(pairs) < 2:
        return ()
    out = []
    for pair in pairs:
        peak, peak_at = state.ladder.peak(incident_id, pair)
        out.append(
            PairReport(
                id=f"{incident_id} {pair_label(pair)}",
                between=pair,
                peak=peak,
                peak_at=peak_at,
                final_level=state.ladder.level(incident_id, pair),
                steps=_steps(state.ladder.changes(incident_id, pair)),
            )
        )
    return tuple(out)


def _first_notice(state: ExerciseState, incident_id: str, stats: IncidentStats) -> datetime | None:
    """The earlier of the fold's first notice and the first cross-border notice-kind message."""
    notice = stats.first_notice_at
    for m in state.messages:
        env = m.envelope
        if env.incident == incident_id and m.copy == 1 and env.kind in NOTICE_KINDS and foreign(state, env.channel):
            return env.sent_at if notice is None else min(notice, env.sent_at)
    return notice


def _time_at_peak(steps: tuple[Step, ...], peak: int, end: datetime) -> timedelta:
    """How long the incident stood at its peak, over all the times it was there."""
    held = timedelta(0)
    if peak <= 0:
        return held
    for i, step in enumerate(steps):
        until = steps[i + 1].at if i + 1 < len(steps) else end
        if step.level == peak:
            held += max(timedelta(0), until - step.at)
    return held


def _time_to_deescalate(steps: tuple[Step, ...], peak: int, peak_at: datetime | None) -> timedelta | None:
    """From first reaching the peak to the first step below it."""
    if peak_at is None:
        return None
    return next((s.at - peak_at for s in steps if s.at > peak_at and s.level < peak), None)
