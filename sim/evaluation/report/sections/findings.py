"""The improvement plan: every missed obligation, protocol violation and undelivered message,
numbered in sim-time order, with who is responsible and a recommendation."""

from __future__ import annotations

from datetime import datetime
from typing import NamedTuple

from sim.evaluation.outcome import ExerciseState
from sim.evaluation.report.model import Finding, RejectedGroup
from sim.evaluation.report.sections.common import UNDELIVERED, owed, when
from sim.evaluation.report.sections.problems import rejected_groups
from sim.model.links import Fate
from sim.model.messages import Kind
from sim.model.obligations import Obligation, Status
from sim.model.observations import BlockedObs, LinkObs, Observation, ViolationObs

_ADVICE = {
    Kind.ACK: "staff the point of contact around the clock, or agree a longer acknowledgement window",
    Kind.COMM_CHECK_REPLY: "confirm the point of contact's address and duty roster; re-test within a month",
    Kind.PROVIDE_INFO: "prepare holding answers and walk-back positions so a formal inquiry can be answered in time",
    Kind.ASSIST_REPLY: "pre-agree who may take servers down and under which legal basis",
    Kind.CONSULT_REPLY: "name a standing delegation that can accept consultations at short notice",
    Kind.INCIDENT_UPDATE: "schedule the agreed follow-up reports when the first notice goes out",
}


class _Item(NamedTuple):
    at: datetime
    agency: str
    kind: str
    text: str
    advice: str


def findings(state: ExerciseState) -> tuple[Finding, ...]:
    items = [_missed(state, ob) for ob in state.obligations.values() if ob.status is Status.MISSED]
    items += [item for event in state.observations if (item := _violation(event.obs)) is not None]
    items += [_rejected(state, group) for group in rejected_groups(state)]
    items += [item for event in state.observations if (item := _undelivered(event.obs)) is not None]
    items.sort(key=lambda r: (r.at, r.agency, r.text))
    return tuple(Finding(number, *item) for number, item in enumerate(items, 1))


def _missed(state: ExerciseState, ob: Obligation) -> _Item:
    late = f"; answered late by {ob.met_by}" if ob.met_by is not None and ob.closed_at is not None else ""
    text = (
        f"{ob.owner} did not send {owed(ob)} to {ob.counterparty} for {ob.trigger} ({ob.trigger_kind.value} on "
        f"{ob.channel}, opened T{when(state, ob.opened_at)}) by T{when(state, ob.due_at)}{late}"
    )
    advice = _ADVICE.get(ob.kinds[0], "review the procedure for this obligation")
    return _Item(ob.due_at, ob.owner, "missed obligation", text, advice)


def _violation(obs: Observation) -> _Item | None:
    match obs:
        case ViolationObs():
            text = f"{obs.agency} sent {obs.message} against rule {obs.rule}: {obs.detail}"
            return _Item(
                obs.at, obs.agency, "protocol violation", text, "brief the duty officers on the agreement's lead times"
            )
        case BlockedObs():
            text = f"{obs.agency} tried to send {obs.kind.value} to {obs.recipient}: {obs.reason.value}"
            advice = "align the procedure with the channels the agreement provides"
            return _Item(obs.at, obs.agency, "protocol violation", text, advice)
    return None


def _rejected(state: ExerciseState, group: RejectedGroup) -> _Item:
    """One finding per sender and reason, however many there were."""
    many = f"{group.count} inputs" if group.count > 1 else "1 input"
    span = f"T{when(state, group.first)}" + (f"–T{when(state, group.last)}" if group.last != group.first else "")
    text = f"{many} from {group.sender} rejected as {group.reason} ({span}; e.g. {group.example})"
    advice = "check message formats and channel permissions against the agreement"
    if group.count > 20:
        advice = "find out why this participant sends what it does: a fault, a misconfigured client, or an attack"
    return _Item(group.first, group.sender, "protocol violation", text, advice)


def _undelivered(obs: Observation) -> _Item | None:
    if not (isinstance(obs, LinkObs) and obs.fate in UNDELIVERED):
        return None
    why = "was refused by the down link" if obs.fate is Fate.REFUSED else "was lost in transit"
    return _Item(
        obs.at,
        f"{obs.agency} / {obs.recipient}",
        "undelivered message",
        f"{obs.kind.value} {obs.message} from {obs.agency} to {obs.recipient} on {obs.channel} {why}",
        "check the link and its fallback; keep the point-of-contact entry up to date",
    )
