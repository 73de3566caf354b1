"""Plain-text rendering for the headless run: one line per protocol message (and per notable
fault or missed deadline), and the summary table at the end. Pure: strings in, strings out."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sim.core.ladder import LevelChange, pair_label
from sim.evaluation.expect import Verdict
from sim.evaluation.outcome import CtlEvent, Event, ExerciseState, MessageEvent, ObsEvent
from sim.model.control import CommandResult, LinksState, Order
from sim.model.durations import format_duration, format_offset
from sim.model.links import Fate, LinkRow
from sim.model.obligations import Status
from sim.model.observations import (
    BlockedObs,
    EscalationObs,
    LinkObs,
    ObligationObs,
    Observation,
    RejectedObs,
    RetryObs,
)


class TimelinePrinter:
    """Turns folded journal events into timeline lines."""

    def __init__(self, state: ExerciseState) -> None:
        self.state = state
        self.start = state.scenario.start
        self._links: dict[str, LinkRow] = {}

    def _link_changes(self, links: LinksState) -> str:
        """What changed since the last link table (the first one: how many links there are)."""
        rows = {f"{r.channel}:{r.a}~{r.b}": r for r in links.links}
        before, self._links = self._links, rows
        if not before:
            down = [k for k, r in rows.items() if not r.up]
            return f"{len(rows)} links" + (f", down: {', '.join(down)}" if down else ", all up")
        changes = [
            f"{key} {_row_change(old, row)}"
            for key, row in rows.items()
            if (old := before.get(key)) is not None and old != row
        ]
        return "; ".join(changes) or "unchanged"

    def _when(self, t: datetime) -> str:
        whole_minutes = timedelta(minutes=(t - self.start) // timedelta(minutes=1))  # realtime has seconds
        return f"T{format_offset(whole_minutes):<7} {t:%m-%d %H:%M}"

    def line(self, event: Event | None) -> str | None:
        match event:
            case MessageEvent():
                return self._message(event)
            case ObsEvent(obs=obs):
                return self._observed(obs)
            case CtlEvent():
                return self._control(event)
        return None

    def _message(self, event: MessageEvent) -> str:
        env, level, change = event.envelope, event.level, event.change
        lvl = f"L{level} {self.state.ladder.name(level)}" if level is not None else ""
        mark = " (duplicate copy)" if event.copy > 1 else ""
        up = "" if change is None else _arrow(change)
        return (
            f"{self._when(env.sent_at)}  {env.sender:>10} → {env.recipient:<10} "
            f"{env.channel:<9} {env.kind.value:<16} {env.incident or '-':<6} {lvl}{up}{self._pairs(event)}{mark}"
        )

    def _pairs(self, event: MessageEvent) -> str:
        """Where an incident involves more than two states: the pairs this message moved."""
        incident = event.envelope.incident
        if not event.pairs or incident is None or len(self.state.ladder.pairs(incident)) < 2:
            return ""
        return "".join(f" · {pair_label(c.pair)} L{c.level}{_arrow(c)}" for c in event.pairs if c.pair)

    def _observed(self, obs: Observation) -> str | None:
        match obs:
            case LinkObs() if obs.fate is not Fate.DELIVERED:
                return (
                    f"{self._when(obs.at)}  {_FATE_SIGN[obs.fate]}{obs.agency} → {obs.recipient} {obs.channel} "
                    f"{obs.kind.value} {obs.message}"
                )
            case ObligationObs(status=Status.MISSED):
                ob = obs.obligation
                return (
                    f"{self._when(obs.at)}  ⏰ missed  {ob.owner} owed {'/'.join(k.value for k in ob.kinds)} "
                    f"to {ob.counterparty} for {ob.trigger} (due T{format_offset(ob.due_at - self.start)})"
                )
            case RetryObs():
                original = obs.expectation.split("#")[0]
                return f"{self._when(obs.at)}  ↻ retry   {obs.agency} repeats {original} as {obs.message}"
            case EscalationObs():
                target = obs.channel or "nowhere (no fallback)"
                return f"{self._when(obs.at)}  ⇪ escalate {obs.agency}: {_WHY[obs.why]} on {obs.original} → {target}"
            case BlockedObs():
                return (
                    f"{self._when(obs.at)}  ⊘ blocked  {obs.agency} could not send {obs.kind.value} to "
                    f"{obs.recipient}: {obs.reason.value} ({obs.detail[:80]})"
                )
            case RejectedObs():
                return (
                    f"{self._when(obs.at)}  ⊘ rejected {obs.agency} refused a message from "
                    f"{obs.published_as}: {obs.reason.value} ({obs.detail[:80]})"
                )
        return None

    def _control(self, event: CtlEvent) -> str | None:
        match event:
            case CtlEvent(what="result", detail=CommandResult() as result):
                verdict = "accepted" if result.accepted else f"refused: {result.reason}"
                return f"{self._when(result.at)}  ☞ {result.client} {result.action}: {verdict}"
            case CtlEvent(what="inject", detail=Order() as order):
                what = order.note or order.action.describe()
                return f"{self._when(order.at)}  ✎ inject  {order.id} for {order.action.target}: {what}"
            case CtlEvent(what="links", detail=LinksState() as links):
                return f"{self._when(links.at)}  ⚡ links   {self._link_changes(links)}"
        return None


def _arrow(change: LevelChange) -> str:
    return " ▲" if change.level > change.previous else " ▼"


_FATE_SIGN = {Fate.LOST: "✗ lost    ", Fate.REFUSED: "✗ refused ", Fate.DUPLICATED: "≈ dup     "}
_WHY = {"no_answer": "no answer", "link_down": "link down", "no_route": "no direct link"}


def _row_change(old: LinkRow, row: LinkRow) -> str:
    """What differs between two states of one link: ``DOWN``, ``latency 2m→10m``, ``loss 20%``…"""
    parts = []
    if old.up != row.up:
        parts.append("UP" if row.up else "DOWN")
    if old.latency != row.latency:
        parts.append(f"latency {format_duration(old.latency)}→{format_duration(row.latency)}")
    if old.loss != row.loss:
        parts.append(f"loss {row.loss:.0%}")
    if old.duplicate != row.duplicate:
        parts.append(f"duplication {row.duplicate:.0%}")
    return " ".join(parts)


def _table(rows: list[list[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    out = []
    for n, row in enumerate(rows):
        out.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            out.append("  ".join("-" * w for w in widths))
    return out


def summary(state: ExerciseState) -> list[str]:
    start = state.scenario.start
    rows = [
        [
            "incident",
            "max level",
            "reached",
            "obligations met/missed/open",
            "first notice",
            "first ACK after",
            "lost",
            "refused",
        ]
    ]
    for incident, stats in state.incidents.items():
        peak, when = state.ladder.peak(incident)
        ack = state.time_to_first_ack(incident)
        met = state.count(incident, Status.MET)
        missed = state.count(incident, Status.MISSED)
        still = state.count(incident, Status.OPEN)
        rows.append(
            [
                incident,
                f"{peak} {state.ladder.name(peak)}",
                f"T{format_offset(when - start)}" if when else "-",
                f"{met} / {missed} / {still}",
                f"T{format_offset(stats.first_notice_at - start)}" if stats.first_notice_at else "-",
                format_duration(ack) if ack is not None else "-",
                str(stats.lost),
                str(stats.refused),
            ]
        )
        rows.extend(_pair_rows(state, incident))
    return _table(rows)


def _pair_rows(state: ExerciseState, incident: str) -> list[list[str]]:
    """Beneath an incident between more than two states: each pair's peak and when."""
    pairs = state.ladder.pairs(incident)
    if len(pairs) < 2:
        return []
    rows = []
    for pair in pairs:
        peak, when = state.ladder.peak(incident, pair)
        now = state.ladder.level(incident, pair)
        reached = f"T{format_offset(when - state.scenario.start)}" if when else "-"
        rows.append([f"  {pair_label(pair)}", f"{peak} {state.ladder.name(peak)}", reached, f"ends L{now}"])
    return [row + [""] * 4 for row in rows]


def verdict_lines(verdicts: Iterable[Verdict]) -> list[str]:
    lines = []
    for v in verdicts:
        mark = "✓" if v.ok else "✗"
        note = f" — {v.expectation.note}" if v.expectation.note else ""
        lines.append(f"  {mark} {v.claim}: {v.found}{note}")
    return lines


def delivery_line(state: ExerciseState) -> str:
    """The end-of-run tally: every protocol message sent was received, or which were not."""
    tally = state.tally
    if tally is None:
        return "delivery: no final tally (the run did not finish cleanly)"
    if tally.sound:
        if tally.sent == 0:
            return "delivery: no protocol message was sent"
        return f"delivery: all {tally.sent} protocol messages sent were received"
    parts = [
        f"{m.sender}→{m.recipient} {m.sent - m.received} of {m.sent}"
        + (f" ({', '.join(m.lost[:5])}{' …' if len(m.lost) > 5 else ''})" if m.lost else "")
        for m in tally.missing
    ]
    text = f"delivery: {tally.lost} of {tally.sent} messages sent were never received"
    if parts:
        text += f": {'; '.join(parts)}"
    if tally.silent:
        text += f"; no final account from {', '.join(tally.silent)}"
    return text


def ended_early_line(state: ExerciseState) -> str | None:
    status = state.status
    if status is None or not status.ended_early:
        return None
    return f"ended early: {status.ended_early} (the expectations judge the exercise as far as it went)"
