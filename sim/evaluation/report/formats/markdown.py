"""The after-action report as Markdown (reads well in a terminal): one function per section,
concatenated in :data:`LAYOUT` order."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sim.evaluation.report.formats.chart import ladder_chart
from sim.evaluation.report.formats.text import duration_text, offset_text
from sim.evaluation.report.model import IncidentReport, ObligationTally, PairReport, Report
from sim.model.durations import format_duration

Lines = list[str]


def markdown(report: Report) -> str:
    return "\n".join(line for section in LAYOUT for line in section(report))


def _table(header: list[str], rows: list[list[str]]) -> Lines:
    if not rows:
        return ["_none_"]
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return out


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


# -- sections, in order -----------------------------------------------------------------------


def _heading(report: Report) -> Lines:
    ov = report.overview
    met = sum(1 for o in report.objectives if o.status == "met")
    out = [
        f"# After-action report — {ov.title}",
        "",
        f"**Scenario** `{ov.scenario}` · **protocol** `{ov.protocol}` ({ov.protocol_title}) · **seed** {ov.seed} · "
        f"**{ov.mode} mode** · exercise `{ov.exercise}`",
        "",
        f"{ov.start:%Y-%m-%d %H:%M}Z to {ov.end:%Y-%m-%d %H:%M}Z ({format_duration(ov.duration)}) · "
        f"{len(ov.participants)} agencies in {len({p.state for p in ov.participants})} states · "
        f"{ov.messages} protocol messages · objectives met {met} of {len(report.objectives)} · "
        f"{_plural(len(report.findings), 'finding')}",
        "",
    ]
    if ov.ending_note:
        out += [f"**{ov.ending_note[0].upper()}{ov.ending_note[1:]}.**", ""]
    if ov.summary:
        out += [f"> {ov.summary}", ""]
    return out


def _participants(report: Report) -> Lines:
    rows = [[p.id, p.state_name, p.role, p.name] for p in report.overview.participants]
    return ["## Participants", "", *_table(["agency", "state", "role", "name"], rows)]


def _incidents(report: Report) -> Lines:
    out = ["", "## Incidents and the escalation ladder", ""]
    if not report.incidents:
        out += ["_No incident was raised in this exercise._", ""]
    for inc in report.incidents:
        out += _incident(report, inc)
    return out


def _incident(report: Report, inc: IncidentReport) -> Lines:
    names = report.overview.level_names
    took = f" ({format_duration(inc.time_to_notice)} after detection)" if inc.time_to_notice is not None else ""
    held = f" at {offset_text(report, inc.peak_at)}, held {format_duration(inc.time_at_peak)}" if inc.peak_at else ""
    facts = [
        f"detected {offset_text(report, inc.detected_at)}" + (f" by {inc.detected_by}" if inc.detected_by else ""),
        f"first notice to another state {offset_text(report, inc.first_notice_at)}{took}",
        f"peak L{inc.peak} {names[inc.peak]}{held}",
        f"time to de-escalate {duration_text(inc.time_to_deescalate)}",
        f"ends at L{inc.final_level} {names[inc.final_level]}",
    ]
    out = [f"### {inc.id}", "", "- " + "\n- ".join(facts), "", "```", *ladder_chart(report, inc), "```", ""]
    if inc.steps:
        rows = [
            [
                report.offset(s.at),
                f"{'▲' if s.level > s.previous else '▼'} L{s.previous}→L{s.level} {names[s.level]}",
                s.reason,
                s.message,
            ]
            for s in inc.steps
        ]
        out += [*_table(["when", "level", "why", "message"], rows), ""]
    for pair in inc.pairs:
        out += _pair(report, pair)
    return out


def _pair(report: Report, pair: PairReport) -> Lines:
    """One pair of states' ladder, beneath its incident."""
    names = report.overview.level_names
    at = f" at {offset_text(report, pair.peak_at)}" if pair.peak_at else ""
    facts = f"peak L{pair.peak} {names[pair.peak]}{at}; ends at L{pair.final_level} {names[pair.final_level]}"
    return [f"#### {pair.id}", "", facts, "", "```", *ladder_chart(report, pair), "```", ""]


def _timeline(report: Report) -> Lines:
    rows = [[f"T{e.offset}", e.what, e.text] for e in report.timeline]
    return ["## Timeline of key events", "", *_table(["when", "what", "event"], rows)]


def _metrics(report: Report) -> Lines:
    rows = [
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
        for t in report.metrics.timings
    ]
    header = ["created by", "owed", "rule", "n", "met", "missed", "open", "median", "max"]
    first = duration_text(report.metrics.first_substantive_answer)
    return [
        "",
        "## Metrics",
        "",
        "### Time to answer, per obligation",
        "",
        *_table(header, rows),
        "",
        f"First substantive answer after the first notice: {first}.",
    ]


def _tallies(report: Report) -> Lines:
    return _tally("agency", report.tallies.by_agency) + _tally("channel", report.tallies.by_channel)


def _tally(by: str, tallies: tuple[ObligationTally, ...]) -> Lines:
    rows = [[t.key, str(t.met), str(t.missed), str(t.open), str(t.cancelled)] for t in tallies]
    return ["", f"### Obligations by {by}", "", *_table([by, "met", "missed", "open", "cancelled"], rows)]


def _links(report: Report) -> Lines:
    rows = [
        [
            link.link,
            f"{link.up_share:.0%}",
            format_duration(link.down_for),
            ", ".join(f"{report.offset(a)}–{report.offset(b)}" for a, b in link.outages) or "—",
        ]
        for link in report.links
    ]
    return ["", "### Channel availability", "", *_table(["link", "available", "down for", "outages"], rows)]


def _problems(report: Report) -> Lines:
    problems = report.problems
    out = ["", "### Messages lost, refused or rejected", ""]
    out += _table(["what and why", "count"], [[k, str(n)] for k, n in problems.counts])
    if problems.items:
        rows = [[report.offset(p.at), p.what, p.agency, p.detail] for p in problems.items]
        out += ["", *_table(["when", "what", "agency", "detail"], rows)]
    if problems.rejected:
        rows = [
            [g.sender, g.reason, str(g.count), _span(report, g.first, g.last), g.example] for g in problems.rejected
        ]
        out += [
            "",
            "Rejected input, by sender and reason:",
            "",
            *_table(["from", "reason", "count", "when", "e.g."], rows),
        ]
    return out


def _span(report: Report, first: datetime, last: datetime) -> str:
    return report.offset(first) if first == last else f"{report.offset(first)}–{report.offset(last)}"


def _checks(report: Report) -> Lines:
    if not report.checks:
        return []
    rows = [
        [c.recipient, c.channel, report.offset(c.sent_at), duration_text(c.replied_after), c.depth or "no answer"]
        for c in report.checks
    ]
    header = ["point of contact", "channel", "sent", "answered after", "depth reached"]
    return ["", "### Communication checks", "", *_table(header, rows)]


def _objectives(report: Report) -> Lines:
    out = ["", "## Objectives", ""]
    for o in report.objectives:
        mark = {"met": "✓ met", "not met": "✗ not met"}.get(o.status, "– not evaluated")
        out.append(f"- **{o.id}** {o.text} — **{mark}**")
        out += [f"  - {e}" for e in o.evidence]
    if not report.objectives:
        out.append("_The scenario states no objectives._")
    return out


def _findings(report: Report) -> Lines:
    rows = [
        [str(f.number), report.offset(f.at), f.agency, f"{f.kind}: {f.finding}", f.recommendation]
        for f in report.findings
    ]
    header = ["#", "when", "responsible", "finding", "recommendation"]
    return ["", "## Improvement plan", "", *_table(header, rows), ""]


#: The sections of the Markdown report, in order (expectations show as objectives' evidence).
LAYOUT: tuple[Callable[[Report], Lines], ...] = (
    _heading,
    _participants,
    _incidents,
    _timeline,
    _metrics,
    _tallies,
    _links,
    _problems,
    _checks,
    _objectives,
    _findings,
)
