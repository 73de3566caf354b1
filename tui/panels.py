"""Text of the dashboard's panels (pure): header, agencies, pending obligations, links, the
message log's rows and the envelope detail — Rich ``Text`` built from the model, so the
widgets only place it on screen and tests read it without a terminal."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta

from rich.text import Text

from sim.evaluation.outcome import MessageEvent
from sim.model.durations import format_duration, format_offset
from tui.model import GLYPHS, DashboardModel, DisplayFate, Pending, StateGroup

LEVEL_STYLES = (
    "bold #d0d0d0 on #3a3a3a",
    "bold #000000 on #5fafd7",
    "bold #000000 on #d7d75f",
    "bold #000000 on #ffaf00",
    "bold #ffffff on #d70000",
    "bold #ffffff on #87005f",
)
FATE_STYLES: dict[DisplayFate, str] = {
    DisplayFate.SENT: "bold #87d7ff",
    DisplayFate.ACKED: "bold #5fd75f",
    DisplayFate.OVERDUE: "bold #ffffff on #d70000",
    DisplayFate.LOST: "bold #ff5f5f",
    DisplayFate.REJECTED: "bold #ff87ff",
}


@dataclass(frozen=True)
class ModeInfo:
    """What the header says about the source: live (broker) or replay (journal)."""

    source: str  # "live" / "replay"
    mode: str  # "fast", "realtime ×3600", "PAUSED", "replay ×3600", "ENDED"
    where: str  # broker URL or journal path
    connection: str = ""  # "connected", "connecting", "" in replay
    progress: float | None = None  # replay: share of the exercise played
    paused: bool = False


def clock_text(model: DashboardModel, now: datetime) -> str:
    minutes = int((now - model.scenario.start).total_seconds() // 60)
    sign = "-" if minutes < 0 else "+"
    hours, mins = divmod(abs(minutes), 60)
    return f"{now:%Y-%m-%d %H:%M}Z  T{sign}{hours:02d}:{mins:02d}"


def header_text(model: DashboardModel | None, info: ModeInfo, now: datetime | None, title: str = "") -> list[Text]:
    """The two header lines: what runs, then when and how."""
    first = Text(no_wrap=True, overflow="ellipsis")
    first.append(" HOTLINE ", "bold #000000 on #ffaf00")
    if model is None:
        first.append(f" {title or 'waiting for the exercise…'}", "bold")
    else:
        first.append(f" {model.scenario.title}", "bold")
        first.append(f"  · protocol {model.agreement.id} · exercise {model.exercise}", "#a8a8a8")
    text = Text(no_wrap=True, overflow="ellipsis")
    if now is not None and model is not None:
        text.append(f" {clock_text(model, now)} ", "bold #ffffff on #303030")
    text.append("  ")
    mode_style = "bold #000000 on #ffaf00" if info.paused else "bold #000000 on #5fd75f"
    if info.mode.startswith("ENDED"):
        mode_style = "bold #ffffff on #5f5f87"
    text.append(f" {'‖' if info.paused else '▶'} {info.mode} ", mode_style)
    if info.progress is not None:
        width = 16
        done = round(info.progress * width)
        text.append(f"  {'█' * done}{'░' * (width - done)} {info.progress:4.0%}", "#a8a8a8")
    text.append(f"  {info.source} {info.where}", "#a8a8a8")
    if info.connection:
        ok = info.connection == "connected"
        text.append(f"  {'●' if ok else '○'} {info.connection}", "#5fd75f" if ok else "bold #ff5f5f")
    return [first, text]


def agencies_text(groups: list[StateGroup]) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    for group in groups:
        text.append(f"{group.name}\n", "bold underline")
        for row in group.agencies:
            if row.online is None:
                mark, style, word = "?", "#6c6c6c", "unseen "
            elif row.online:
                mark, style, word = "●", "#5fd75f", "online "
            else:
                mark, style, word = "○", "bold #ff5f5f", "OFFLINE"
            text.append(f" {mark} ", style)
            text.append(f"{row.agency:<10.10}", "bold")
            text.append(f" {word}", style)
            text.append(f" {row.open:>2} open", "#a8a8a8" if row.open == 0 else "")
            if row.overdue:
                text.append(f" {row.overdue} late", "bold #ffffff on #d70000")
            text.append("\n")
    text.rstrip()
    return text


def countdown(left: timedelta) -> str:
    """Compact: ``45m``, ``3h05m``, ``2d7h``; negative when overdue."""
    sign = "-" if left < timedelta(0) else ""
    minutes = int(abs(left.total_seconds()) // 60)
    hours, mins = divmod(minutes, 60)
    days, hrs = divmod(hours, 24)
    if days:
        return f"{sign}{days}d{hrs}h"
    if hours:
        return f"{sign}{hours}h{mins:02d}m"
    return f"{sign}{mins}m"


def obligations_text(pending: list[Pending], limit: int = 50) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    if not pending:
        text.append("nothing owed", "#6c6c6c")
        return text
    for item in pending[:limit]:
        ob = item.obligation
        kinds = "/".join(k.value for k in ob.kinds)
        if item.overdue:
            text.append("OVERDUE", "bold #ffffff on #d70000")
            text.append(f" {countdown(-item.left):>6} ", "bold #ff5f5f")  # by how long
        else:
            text.append(f"due in  {countdown(item.left):>6} ", "#ffd75f")
        text.append(f"{ob.owner}", "bold")
        text.append(f"→{ob.counterparty} {kinds}")
        text.append(f" {ob.incident or ''} ({ob.trigger})\n", "#a8a8a8")
    if len(pending) > limit:
        text.append(f"… {len(pending) - limit} more", "#a8a8a8")
    text.rstrip()
    return text


def links_text(model: DashboardModel) -> Text:
    text = Text(no_wrap=True, overflow="ellipsis")
    lines = model.link_lines()
    if not lines:
        text.append("no link state yet", "#6c6c6c")
        return text
    for line in lines:
        if line.count > 1:
            state = f"{line.count - line.down} up" + (f" {line.down} DOWN" if line.down else "")
        else:
            state = "▲ up" if line.up else "▼ DOWN"
        text.append(f"{line.channel:<8.8}", "bold")
        text.append(f" {line.ends:<19.19} ")
        text.append(f"{state:<6}", "#5fd75f" if line.up else "bold #ffffff on #d70000")
        text.append(" ")
        text.append(f"{format_duration(line.latency):>4}", "#a8a8a8")
        if line.loss:
            text.append(f" {line.loss:.0%} loss", "bold #ff5f5f")
        text.append("\n")
    text.rstrip()
    return text


LOG_COLUMNS = (("time", 7), ("from→to", 16), ("channel", 8), ("kind", 15), ("inc.", 6), ("lvl", 3), ("fate", 10))


def log_header() -> Text:
    return Text(" ".join(f"{name:<{width}}" for name, width in LOG_COLUMNS), "bold #a8a8a8", no_wrap=True)


def log_row(model: DashboardModel, event: MessageEvent, now: datetime) -> Text:
    env = event.envelope
    fate = model.fate(env.id, now)
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(f"T{format_offset(env.sent_at - model.scenario.start):<6.6} ", "#a8a8a8")
    text.append(f"{env.sender + '→' + env.recipient:<16.16} ")
    text.append(f"{env.channel:<8.8} ", "#a8a8a8")
    text.append(f"{env.kind.value:<15.15} ", "bold")
    text.append(f"{env.incident or '-':<6.6} ")
    if event.level is not None:
        change = event.change
        arrow = "▲" if change and change.level > change.previous else ("▼" if change else " ")
        text.append(f"L{event.level}", LEVEL_STYLES[event.level])
        text.append(f"{arrow} ")
    else:
        text.append("    ")
    label = f"{GLYPHS[fate]} {fate.value}" + (" (dup)" if event.copy > 1 else "")
    text.append(label, FATE_STYLES[fate])
    return text


def envelope_text(model: DashboardModel, event: MessageEvent, now: datetime) -> Text:
    env = event.envelope
    fate = model.fate(env.id, now)
    text = Text()
    text.append(f"{env.kind.value} {env.id}", "bold")
    text.append(f"  {env.sender} → {env.recipient} on {env.channel}\n")
    text.append(f"fate: {GLYPHS[fate]} {fate.value}", FATE_STYLES[fate])
    answer = model.answered_by(env.id)
    if answer:
        text.append(f"  answered by {answer}")
    if event.change is not None:
        text.append(
            f"\nladder: {event.change.incident} L{event.change.previous} → L{event.change.level} "
            f"{model.level_name(event.change.level)} ({event.change.reason})"
        )
    for ob in model.obligations_for(env.id):
        text.append(
            f"\nobligation {ob.id}: {ob.owner} owes {'/'.join(k.value for k in ob.kinds)} "
            f"by T{format_offset(ob.due_at - model.scenario.start)} — {ob.status.value}"
        )
    text.append("\n\n")
    data = json.loads(env.model_dump_json(exclude_none=True))
    text.append(json.dumps(data, indent=2, ensure_ascii=False), "#d0d0d0")
    return text
