"""Messages lost, refused, rejected or blocked: each one, and how many of each kind and reason."""

from __future__ import annotations

from collections import Counter

from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import Problem, Problems
from sim.evaluation.report.sections.common import UNDELIVERED
from sim.model.links import Fate
from sim.model.observations import BlockedObs, LinkObs, Observation, RejectedObs


def problems(state: ExerciseState) -> Problems:
    items = tuple(p for p in (_problem(event.obs) for event in state.observations) if p is not None)
    return Problems(items=items, counts=tuple(sorted(Counter(f"{p.what}: {p.reason}" for p in items).items())))


def _problem(obs: Observation) -> Problem | None:
    match obs:
        case LinkObs() if obs.fate in UNDELIVERED:
            why = "link down" if obs.fate is Fate.REFUSED else "lost in transit"
            detail = f"{obs.kind.value} {obs.message} to {obs.recipient} on {obs.channel}"
            return Problem(obs.at, obs.fate.value, obs.agency, f"{obs.channel} {why}", detail)
        case RejectedObs():
            detail = f"from {obs.published_as}: {obs.detail[:160]}"
            return Problem(obs.at, "rejected", obs.agency, obs.reason.value, detail)
        case BlockedObs():
            detail = f"{obs.kind.value} to {obs.recipient}: {obs.detail[:160]}"
            return Problem(obs.at, "blocked", obs.agency, obs.reason.value, detail)
    return None
