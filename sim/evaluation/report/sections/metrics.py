"""Metrics: per kind of obligation, how many were met and how long the owners took; and the
time from the first notice to the first substantive answer."""

from __future__ import annotations

import statistics
from collections import defaultdict
from datetime import timedelta

from sim.evaluation.measures import first_substantive_answer
from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import Metrics, Timing
from sim.evaluation.report.sections.common import owed
from sim.model.obligations import Obligation, Status


def metrics(state: ExerciseState) -> Metrics:
    return Metrics(
        timings=timings(list(state.obligations.values())), first_substantive_answer=first_substantive_answer(state)
    )


def timings(obligations: list[Obligation]) -> tuple[Timing, ...]:
    groups: dict[tuple[str, str, str], list[Obligation]] = defaultdict(list)
    for ob in obligations:
        if ob.status is not Status.CANCELLED:
            groups[(ob.trigger_kind.value, owed(ob), ob.rule)].append(ob)
    return tuple(_timing(trigger, answer, rule, obs) for (trigger, answer, rule), obs in sorted(groups.items()))


def _timing(trigger: str, answer: str, rule: str, obs: list[Obligation]) -> Timing:
    took = [t for t in (_took(o) for o in obs) if t is not None]
    return Timing(
        trigger=trigger,
        answer=answer,
        rule=rule,
        count=len(obs),
        met=_count(obs, Status.MET),
        missed=_count(obs, Status.MISSED),
        open=_count(obs, Status.OPEN),
        median=_median(took),
        max=max(took, default=None),
    )


def _count(obs: list[Obligation], status: Status) -> int:
    return sum(1 for o in obs if o.status is status)


def _took(ob: Obligation) -> timedelta | None:
    if ob.status is Status.MET and ob.closed_at is not None:
        return ob.closed_at - ob.opened_at
    return None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    seconds = statistics.median(v.total_seconds() for v in values)
    return timedelta(seconds=round(seconds))
