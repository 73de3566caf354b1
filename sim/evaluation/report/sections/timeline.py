"""The key-event timeline: injects, level changes, link faults, missed deadlines, undelivered,
rejected and blocked messages, escalations and violations — in sim-time order."""

from __future__ import annotations

from datetime import datetime

from sim.core.ladder import LevelChange, pair_label
from sim.evaluation.outcome import CtlEvent, Event, ExerciseState, MessageEvent, ObsEvent
from sim.evaluation.report.model import KeyEvent
from sim.evaluation.report.sections.common import UNDELIVERED, owed, when
from sim.model.control import LinksState, Order
from sim.model.obligations import Status
from sim.model.observations import (
    BlockedObs,
    EscalationObs,
    LinkObs,
    ObligationObs,
    Observation,
    RejectedObs,
    ViolationObs,
)

_WHY = {"no_answer": "no answer", "link_down": "link down", "no_route": "no direct link"}


def timeline(state: ExerciseState, stream: list[Event]) -> tuple[KeyEvent, ...]:
    links = _LinkWatch()
    events = [
        KeyEvent(at, when(state, at), what, text)
        for event in stream
        for at, what, text in _key_events(state, event, links)
    ]
    events.sort(key=lambda e: e.at)
    return tuple(events)


_Raw = tuple[datetime, str, str]  # at, what, text


class _LinkWatch:
    """Which links were down in the last link table: a new table says which went down or up."""

    def __init__(self) -> None:
        self.down: set[str] = set()

    def changes(self, links: LinksState) -> list[_Raw]:
        down = {f"{r.channel}:{r.a}~{r.b}" for r in links.links if not r.up}
        out = [(links.at, "link", f"{link} down") for link in sorted(down - self.down)]
        out += [(links.at, "link", f"{link} back up") for link in sorted(self.down - down)]
        self.down = down
        return out


def _key_events(state: ExerciseState, event: Event, links: _LinkWatch) -> list[_Raw]:
    match event:
        case CtlEvent(what="inject", detail=Order() as order):
            what = order.note or order.action.target + " " + order.action.describe()
            return [(order.at, "inject", f"{order.id}: {what}")]
        case CtlEvent(what="links", detail=LinksState() as table):
            return links.changes(table)
        case MessageEvent():
            return _levels(state, event)
        case ObsEvent(obs=obs):
            found = _observed(obs)
            return [found] if found is not None else []
    return []


def _levels(state: ExerciseState, event: MessageEvent) -> list[_Raw]:
    """The incident's change of level — or, where it involves more than two states, each pair's."""
    incident = event.envelope.incident
    if incident is not None and len(state.ladder.pairs(incident)) > 1:
        return [_level(state, change, f"{incident} {pair_label(change.pair)}") for change in event.pairs if change.pair]
    change = event.change
    return [] if change is None else [_level(state, change, change.incident)]


def _level(state: ExerciseState, change: LevelChange, subject: str) -> _Raw:
    arrow = "rises" if change.level > change.previous else "falls"
    name = state.ladder.name(change.level)
    return (change.at, "level", f"{subject} {arrow} to L{change.level} {name}: {change.reason}")


def _observed(obs: Observation) -> _Raw | None:
    match obs:
        case ObligationObs(status=Status.MISSED):
            ob = obs.obligation
            return (
                obs.at,
                "missed",
                f"{ob.owner} missed {owed(ob)} owed to {ob.counterparty} for {ob.trigger} ({ob.trigger_kind.value})",
            )
        case LinkObs() if obs.fate in UNDELIVERED:
            text = f"{obs.kind.value} {obs.message} {obs.agency}→{obs.recipient} on {obs.channel}"
            return (obs.at, obs.fate.value, text)
        case EscalationObs():
            return (
                obs.at,
                "escalate",
                f"{obs.agency}: {_WHY[obs.why]} on {obs.original} → {obs.channel or 'no fallback'}",
            )
        case ViolationObs():
            return (obs.at, "violation", f"{obs.agency} {obs.message}: {obs.rule} ({obs.detail})")
        case RejectedObs():
            return (obs.at, "rejected", f"{obs.agency} rejected a message from {obs.published_as}: {obs.reason.value}")
        case BlockedObs():
            text = f"{obs.agency} could not send {obs.kind.value} to {obs.recipient}: {obs.reason.value}"
            return (obs.at, "blocked", text)
    return None
