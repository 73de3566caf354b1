"""Messages lost, refused, rejected or blocked: each one lost, refused or blocked, how many of each
kind and reason, and rejected input grouped by sender and reason."""

from __future__ import annotations

from collections import Counter
from datetime import datetime

from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import Problem, Problems, RejectedGroup
from sim.evaluation.report.sections.common import UNDELIVERED
from sim.model.admission import Refusal
from sim.model.links import Fate
from sim.model.messages import RejectReason
from sim.model.observations import BlockedObs, LinkObs, Observation, RejectedObs

#: Reasons the journal fold itself sees (the admission step and screening): what was published
#: with them is counted from the journal, exactly; recipients' observations of them are not
#: counted again. The other reasons (the agreement's rules) only recipients can tell.
SEEN_BY_THE_FOLD = frozenset(
    {RejectReason[r.value] for r in Refusal if r.value in RejectReason.__members__}
    | {
        RejectReason.WRONG_EXERCISE,
        RejectReason.SENDER_MISMATCH,
        RejectReason.WRONG_RECIPIENT,
        RejectReason.UNKNOWN_SENDER,
        RejectReason.FOREIGN_ID,
    }
)


def problems(state: ExerciseState) -> Problems:
    items = tuple(p for p in (_problem(event.obs) for event in state.observations) if p is not None)
    groups = rejected_groups(state)
    counts = Counter(f"{p.what}: {p.reason}" for p in items)
    for group in groups:
        counts[f"rejected: {group.reason}"] += group.count
    return Problems(items=items, counts=tuple(sorted(counts.items())), rejected=groups)


def rejected_groups(state: ExerciseState) -> tuple[RejectedGroup, ...]:
    """Rejected input by (sender, reason): refused input the journal holds, and the rejections
    recipients observed for the agreement's rules (each observation standing for ``1 +
    suppressed``)."""
    found: dict[tuple[str, str], list[tuple[datetime, int, str]]] = {}
    for refused in state.refused:
        found.setdefault((refused.sender, refused.reason), []).append((refused.t, 1, refused.detail))
    for event in state.observations:
        obs = event.obs
        if isinstance(obs, RejectedObs) and obs.reason not in SEEN_BY_THE_FOLD:
            found.setdefault((obs.published_as, obs.reason.value), []).append((obs.at, 1 + obs.suppressed, obs.detail))
    groups = []
    for (sender, reason), seen in sorted(found.items()):
        times = [t for t, _, _ in seen]
        groups.append(
            RejectedGroup(sender, reason, sum(n for _, n, _ in seen), min(times), max(times), seen[0][2][:160])
        )
    return tuple(groups)


def _problem(obs: Observation) -> Problem | None:
    match obs:
        case LinkObs() if obs.fate in UNDELIVERED:
            why = "link down" if obs.fate is Fate.REFUSED else "lost in transit"
            detail = f"{obs.kind.value} {obs.message} to {obs.recipient} on {obs.channel}"
            return Problem(obs.at, obs.fate.value, obs.agency, f"{obs.channel} {why}", detail)
        case BlockedObs():
            detail = f"{obs.kind.value} to {obs.recipient}: {obs.detail[:160]}"
            return Problem(obs.at, "blocked", obs.agency, obs.reason.value, detail)
    return None
