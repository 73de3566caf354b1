"""Rendering the after-action report as Markdown (reads well in a terminal) and JSON (pure)."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sim.evaluation.report.build import IncidentReport, Report, Step, duration_text
from sim.model.durations import format_duration

CHART_WIDTH = 60
FULL, EMPTY = "█", "·"


def level_at(steps: tuple[Step, ...], t: datetime) -> int:
    level = 0
    for step in steps:
        if step.at > t:
            break
        level = step.level
    return level


def columns(steps: tuple[Step, ...], start: datetime, end: datetime, width: int) -> list[int]:
    """The highest level in each of ``width`` equal slices of the exercise."""
    span = (end - start) / width
    out = []
    for i in range(width):
        a, b = start + span * i, start + span * (i + 1)
        inside = [s.level for s in steps if a <= s.at < b]
        out.append(max([level_at(steps, a), *inside]))
    return out


def ladder_chart(report: Report, incident: IncidentReport, width: int = CHART_WIDTH) -> list[str]:
    """A Unicode area chart of the incident's level over the exercise: one row per level."""
    ov = report.overview
    cols = columns(incident.steps, ov.start, ov.end, width)
    top = max(1, incident.peak)
    label_w = max(len(f"L{n} {ov.level_names[n]}") for n in range(top + 1))
    lines = []
    for level in range(top, 0, -1):
        label = f"L{level} {ov.level_names[level]}".ljust(label_w)
        lines.append(f"{label} │" + "".join(FULL if c >= level else EMPTY for c in cols))
    lines.append(f"{'L0 ' + ov.level_names[0]:<{label_w}} └" + "─" * width)
    hours = ov.duration.total_seconds() / 3600
    step = 12 if hours > 48 else 6 if hours > 12 else 1
    axis = [" "] * (width + 8)
    h = 0
    while h <= hours:
        pos = round(h / hours * width) if hours else 0
        text = f"+{h}h"
        for j, ch in enumerate(text):
            if pos + j < len(axis):
                axis[pos + j] = ch
        h += step
    lines.append(" " * (label_w + 2) + "".join(axis).rstrip())
    return lines


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    if not rows:
        return ["_none_"]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def _t(report: Report, at: datetime | None) -> str:
    return report.offset(at) if at is not None else "—"


def markdown(report: Report) -> str:
    ov = report.overview
    out: list[str] = [f"# After-action report — {ov.title}", ""]
    met = sum(1 for o in report.objectives if o.status == "met")
    out += [
        f"**Scenario** `{ov.scenario}` · **protocol** `{ov.protocol}` ({ov.protocol_title}) · **seed** {ov.seed} · "
        f"**{ov.mode} mode** · exercise `{ov.exercise}`",
        "",
        f"{ov.start:%Y-%m-%d %H:%M}Z to {ov.end:%Y-%m-%d %H:%M}Z ({format_duration(ov.duration)}) · "
        f"{len(ov.participants)} agencies in {len({p.state for p in ov.participants})} states · "
        f"{ov.messages} protocol messages · objectives met {met} of {len(report.objectives)} · "
        f"{len(report.findings)} finding{'' if len(report.findings) == 1 else 's'}",
        "",
    ]
    if ov.summary:
        out += [f"> {ov.summary}", ""]
    out += ["## Participants", ""]
    out += _table(["agency", "state", "role", "name"], [[p.id, p.state_name, p.role, p.name] for p in ov.participants])
    out += ["", "## Incidents and the escalation ladder", ""]
    if not report.incidents:
        out += ["_No incident was raised in this exercise._", ""]
    for inc in report.incidents:
        out += [f"### {inc.id}", ""]
        facts = [
            f"detected {_t(report, inc.detected_at)}" + (f" by {inc.detected_by}" if inc.detected_by else ""),
            f"first notice to another state {_t(report, inc.first_notice_at)}"
            + (f" ({format_duration(inc.time_to_notice)} after detection)" if inc.time_to_notice is not None else ""),
            f"peak L{inc.peak} {ov.level_names[inc.peak]}"
            + (f" at {_t(report, inc.peak_at)}, held {format_duration(inc.time_at_peak)}" if inc.peak_at else ""),
            f"time to de-escalate {duration_text(inc.time_to_deescalate)}",
            f"ends at L{inc.final_level} {ov.level_names[inc.final_level]}",
        ]
        out += ["- " + "\n- ".join(facts), "", "```", *ladder_chart(report, inc), "```", ""]
        if inc.steps:
            out += _table(
                ["when", "level", "why", "message"],
                [
                    [
                        report.offset(s.at),
                        f"{'▲' if s.level > s.previous else '▼'} L{s.previous}→L{s.level} {ov.level_names[s.level]}",
                        s.reason,
                        s.message,
                    ]
                    for s in inc.steps
                ],
            )
            out.append("")
    out += ["## Timeline of key events", ""]
    out += _table(["when", "what", "event"], [[f"T{e.offset}", e.what, e.text] for e in report.timeline])
    out += ["", "## Metrics", "", "### Time to answer, per obligation", ""]
    out += _table(
        ["created by", "owed", "rule", "n", "met", "missed", "open", "median", "max"],
        [
            [
                t.trigger,
                t.answer,
                t.rule,
                str(t.count),
                str(t.met),
                str(t.missed),
                str(t.open),
                duration_text(t.median),
                duration_text(t.max),
            ]
            for t in report.timings
        ],
    )
    out.append("")
    out.append(f"First substantive answer after the first notice: {duration_text(report.first_substantive_answer)}.")
    for title, tallies in (("by agency", report.by_agency), ("by channel", report.by_channel)):
        out += ["", f"### Obligations {title}", ""]
        out += _table(
            [title.split()[1], "met", "missed", "open", "cancelled"],
            [[t.key, str(t.met), str(t.missed), str(t.open), str(t.cancelled)] for t in tallies],
        )
    out += ["", "### Channel availability", ""]
    out += _table(
        ["link", "available", "down for", "outages"],
        [
            [
                link.link,
                f"{link.up_share:.0%}",
                format_duration(link.down_for),
                ", ".join(f"{report.offset(a)}–{report.offset(b)}" for a, b in link.outages) or "—",
            ]
            for link in report.links
        ],
    )
    out += ["", "### Messages lost, refused or rejected", ""]
    out += _table(["what and why", "count"], [[k, str(n)] for k, n in report.problem_counts])
    if report.problems:
        out.append("")
        out += _table(
            ["when", "what", "agency", "detail"],
            [[report.offset(p.at), p.what, p.agency, p.detail] for p in report.problems],
        )
    if report.checks:
        out += ["", "### Communication checks", ""]
        out += _table(
            ["point of contact", "channel", "sent", "answered after", "depth reached"],
            [
                [
                    c.recipient,
                    c.channel,
                    report.offset(c.sent_at),
                    duration_text(c.replied_after),
                    c.depth or "no answer",
                ]
                for c in report.checks
            ],
        )
    out += ["", "## Objectives", ""]
    for o in report.objectives:
        mark = {"met": "✓ met", "not met": "✗ not met"}.get(o.status, "– not evaluated")
        out.append(f"- **{o.id}** {o.text} — **{mark}**")
        out += [f"  - {e}" for e in o.evidence]
    if not report.objectives:
        out.append("_The scenario states no objectives._")
    out += ["", "## Improvement plan", ""]
    out += _table(
        ["#", "when", "responsible", "finding", "recommendation"],
        [
            [str(f.number), report.offset(f.at), f.agency, f"{f.kind}: {f.finding}", f.recommendation]
            for f in report.findings
        ],
    )
    out.append("")
    return "\n".join(out)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


def as_dict(report: Report) -> dict[str, Any]:
    """Plain JSON data: times as UTC ISO strings, durations as seconds."""
    data = {f.name: getattr(report, f.name) for f in dataclasses.fields(report)}
    out: dict[str, Any] = {"report": "hotline-aar", "version": 1}
    for key, value in data.items():
        if dataclasses.is_dataclass(value) and not isinstance(value, type):
            out[key] = _plain(dataclasses.asdict(value))
        elif isinstance(value, tuple):
            out[key] = [
                _plain(dataclasses.asdict(v)) if dataclasses.is_dataclass(v) and not isinstance(v, type) else _plain(v)
                for v in value
            ]
        else:
            out[key] = _plain(value)
    return out


def to_json(report: Report) -> str:
    return json.dumps(as_dict(report), ensure_ascii=False, indent=2) + "\n"
