"""Obligations tallied by the agency that owed them and by the channel they were owed on."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable

from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import ObligationTally, Tallies
from sim.model.obligations import Obligation, Status


def tallies(state: ExerciseState) -> Tallies:
    obligations = list(state.obligations.values())
    return Tallies(by_agency=tally(obligations, lambda o: o.owner), by_channel=tally(obligations, lambda o: o.channel))


def tally(obligations: list[Obligation], key: Callable[[Obligation], str]) -> tuple[ObligationTally, ...]:
    counts: dict[str, Counter[Status]] = defaultdict(Counter)
    for ob in obligations:
        counts[key(ob)][ob.status] += 1
    return tuple(
        ObligationTally(k, c[Status.MET], c[Status.MISSED], c[Status.OPEN], c[Status.CANCELLED])
        for k, c in sorted(counts.items())
    )
