"""The after-action report as one self-contained HTML page: inline CSS, an inline SVG ladder
chart per incident, no scripts and nothing fetched. One function per section, concatenated in
:data:`LAYOUT` order (pure: a Report in, a string out)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from html import escape

from sim.evaluation.report.formats.svg import LEVEL_COLOURS, ladder_svg
from sim.evaluation.report.formats.text import duration_text, offset_text
from sim.evaluation.report.model import (
    CheckRow,
    IncidentReport,
    LinkAvailability,
    ObligationTally,
    PairReport,
    Report,
)
from sim.model.durations import format_duration

_CSS = """
body{font:14px/1.45 system-ui,-apple-system,'Segoe UI',sans-serif;color:#1d2733;margin:0;background:#f4f6f8}
main{max-width:1100px;margin:0 auto;padding:24px 32px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px}h2{font-size:19px;border-bottom:2px solid #dfe4ea;padding-bottom:4px;margin-top:32px}
h3{font-size:16px;margin:22px 0 6px}.sub{color:#52606d;margin:0 0 12px}
.cards{display:flex;flex-wrap:wrap;gap:10px;margin:14px 0}.card{background:#f0f4f8;border-radius:6px;padding:8px 14px}
.card b{display:block;font-size:20px}.card span{color:#52606d;font-size:12px}
table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
th,td{text-align:left;padding:4px 8px;border-bottom:1px solid #e4e7eb;vertical-align:top}
th{background:#f0f4f8;font-weight:600}td:first-child{white-space:nowrap}td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}
.ok{color:#1f7a4d;font-weight:600}.bad{color:#b3261e;font-weight:600}.na{color:#7b8794}
.tag{display:inline-block;border-radius:3px;padding:0 6px;font-size:12px;color:#fff}
blockquote{margin:8px 0;padding:6px 12px;border-left:4px solid #cbd2d9;color:#3e4c59;background:#f8fafc}
svg text{font:11px system-ui,sans-serif;fill:#3e4c59}ul.facts{margin:4px 0 8px;padding-left:18px}
"""

Parts = list[str]


def html(report: Report) -> str:
    return "\n".join(part for section in LAYOUT for part in section(report))


def _e(text: object) -> str:
    return escape(str(text))


def _table(header: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    if not rows:
        return "<p class='na'>none</p>"
    numeric = numeric or set()
    head = "".join(f"<th{' class=n' if i in numeric else ''}>{_e(h)}</th>" for i, h in enumerate(header))
    body = "".join(
        "<tr>" + "".join(f"<td{' class=n' if i in numeric else ''}>{c}</td>" for i, c in enumerate(row)) + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _level_tag(report: Report, level: int) -> str:
    return (
        f"<span class='tag' style='background:{LEVEL_COLOURS[level]}'>L{level} "
        f"{_e(report.overview.level_names[level])}</span>"
    )


def _offset(report: Report, at: datetime | None) -> str:
    return _e(offset_text(report, at))


# -- sections, in order -----------------------------------------------------------------------


def _heading(report: Report) -> Parts:
    ov = report.overview
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>After-action report — {_e(ov.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>After-action report — {_e(ov.title)}</h1>",
        f"<p class='sub'>scenario <code>{_e(ov.scenario)}</code> · protocol <code>{_e(ov.protocol)}</code> "
        f"({_e(ov.protocol_title)}) · seed {ov.seed} · {_e(ov.mode)} mode · "
        f"{ov.start:%Y-%m-%d %H:%M}Z + {format_duration(ov.duration)}</p>",
    ]
    if ov.ending_note:
        out.append(f"<p class='bad'><b>{_e(ov.ending_note[0].upper() + ov.ending_note[1:])}.</b></p>")
    if ov.summary:
        out.append(f"<blockquote>{_e(ov.summary)}</blockquote>")
    return out


def _cards(report: Report) -> Parts:
    """The numbers at a glance, drawn from several sections."""
    findings = len(report.findings)
    cards = [
        (f"{sum(1 for o in report.objectives if o.status == 'met')} / {len(report.objectives)}", "objectives met"),
        (f"L{max((i.peak for i in report.incidents), default=0)}", "highest level"),
        (str(report.overview.messages), "protocol messages"),
        (str(sum(t.missed for t in report.tallies.by_agency)), "obligations missed"),
        (str(sum(n for k, n in report.problems.counts if k.startswith("lost"))), "messages lost"),
        (duration_text(report.metrics.first_substantive_answer), "to first substantive answer"),
        (str(findings), "finding" if findings == 1 else "findings"),
    ]
    body = "".join(f"<div class='card'><b>{_e(v)}</b><span>{_e(k)}</span></div>" for v, k in cards)
    return [f"<div class='cards'>{body}</div>"]


def _participants(report: Report) -> Parts:
    rows = [[_e(p.id), _e(p.state_name), _e(p.role), _e(p.name)] for p in report.overview.participants]
    return ["<h2>Participants</h2>", _table(["agency", "state", "role", "name"], rows)]


def _incidents(report: Report) -> Parts:
    out = ["<h2>Incidents and the escalation ladder</h2>"]
    if not report.incidents:
        out.append("<p class='na'>No incident was raised in this exercise.</p>")
    for inc in report.incidents:
        out += _incident(report, inc)
    return out


def _incident(report: Report, inc: IncidentReport) -> Parts:
    took = f" ({format_duration(inc.time_to_notice)} after detection)" if inc.time_to_notice is not None else ""
    facts = [
        f"detected {_offset(report, inc.detected_at)}" + (f" by {_e(inc.detected_by)}" if inc.detected_by else ""),
        f"first notice to another state {_offset(report, inc.first_notice_at)}{took}",
        f"held the peak for {format_duration(inc.time_at_peak)}; time to de-escalate "
        f"{duration_text(inc.time_to_deescalate)}; ends at {_level_tag(report, inc.final_level)}",
    ]
    rows = [
        [
            _e(report.offset(s.at)),
            ("▲ " if s.level > s.previous else "▼ ") + _level_tag(report, s.level),
            _e(s.reason),
            f"<code>{_e(s.message)}</code>",
        ]
        for s in inc.steps
    ]
    return [
        f"<h3>{_e(inc.id)} — peak {_level_tag(report, inc.peak)}</h3>",
        "<ul class='facts'>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>",
        ladder_svg(report, inc),
        _table(["when", "level", "why", "message"], rows),
        *(part for pair in inc.pairs for part in _pair(report, pair)),
    ]


def _pair(report: Report, pair: PairReport) -> Parts:
    """One pair of states' ladder, beneath its incident."""
    return [
        f"<h4>{_e(pair.id)} — peak {_level_tag(report, pair.peak)}, "
        f"ends at {_level_tag(report, pair.final_level)}</h4>",
        ladder_svg(report, pair, height=170),
    ]


def _metrics(report: Report) -> Parts:
    rows = [
        [
            _e(t.trigger),
            _e(t.answer),
            _e(t.rule),
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
    return ["<h2>Metrics</h2><h3>Time to answer, per obligation</h3>", _table(header, rows, numeric={3, 4, 5, 6, 7, 8})]


def _tallies(report: Report) -> Parts:
    return _tally("agency", report.tallies.by_agency) + _tally("channel", report.tallies.by_channel)


def _tally(by: str, tallies: tuple[ObligationTally, ...]) -> Parts:
    rows = [
        [
            _e(t.key),
            str(t.met),
            f"<span class='{'bad' if t.missed else ''}'>{t.missed}</span>",
            str(t.open),
            str(t.cancelled),
        ]
        for t in tallies
    ]
    return [
        f"<h3>Obligations by {by}</h3>",
        _table([by, "met", "missed", "open", "cancelled"], rows, numeric={1, 2, 3, 4}),
    ]


def _links(report: Report) -> Parts:
    """Cross-border links, and domestic ones only when they were ever down."""
    rows = [_link_row(report, link) for link in report.links if link.channel != "domestic" or link.up_share < 1]
    return ["<h3>Channel availability</h3>", _table(["link", "available", "down for", "outages"], rows, numeric={1, 2})]


def _link_row(report: Report, link: LinkAvailability) -> list[str]:
    outages = ", ".join(f"{report.offset(a)}–{report.offset(b)}" for a, b in link.outages) or "—"
    return [
        _e(link.link),
        f"<span class='{'bad' if link.up_share < 1 else 'ok'}'>{link.up_share:.0%}</span>",
        format_duration(link.down_for),
        _e(outages),
    ]


def _problems(report: Report) -> Parts:
    rows = [[_e(k), str(n)] for k, n in report.problems.counts]
    out = ["<h3>Messages lost, refused or rejected</h3>", _table(["what and why", "count"], rows, numeric={1})]
    groups = report.problems.rejected
    if groups:
        grouped = [
            [_e(g.sender), _e(g.reason), str(g.count), _e(report.offset(g.first)), _e(g.example)] for g in groups
        ]
        out += [
            "<p>Rejected input, by sender and reason:</p>",
            _table(["from", "reason", "count", "first", "e.g."], grouped, numeric={2}),
        ]
    return out


def _checks(report: Report) -> Parts:
    if not report.checks:
        return []
    rows = [
        [
            _e(c.recipient),
            _e(c.channel),
            _e(report.offset(c.sent_at)),
            duration_text(c.replied_after),
            f"<span class='{_depth_class(c)}'>{_e(c.depth or 'no answer')}</span>",
        ]
        for c in report.checks
    ]
    header = ["point of contact", "channel", "sent", "answered after", "depth reached"]
    return ["<h3>Communication checks</h3>", _table(header, rows)]


def _depth_class(check: CheckRow) -> str:
    if check.depth == "AUTHORITY":
        return "ok"
    return "bad" if check.depth in (None, "REFUSED") else ""


_STATUS_CLASS = {"met": "ok", "not met": "bad"}


def _objectives(report: Report) -> Parts:
    rows = [
        [
            f"<b>{_e(o.id)}</b>",
            _e(o.text),
            f"<span class='{_STATUS_CLASS.get(o.status, 'na')}'>{_e(o.status)}</span>",
            "<br>".join(_e(e) for e in o.evidence),
        ]
        for o in report.objectives
    ]
    return ["<h2>Objectives</h2>", _table(["", "objective", "result", "evidence"], rows)]


def _timeline(report: Report) -> Parts:
    rows = [[f"T{_e(e.offset)}", _e(e.what), _e(e.text)] for e in report.timeline]
    return ["<h2>Timeline of key events</h2>", _table(["when", "what", "event"], rows)]


def _findings(report: Report) -> Parts:
    rows = [
        [
            str(f.number),
            _e(report.offset(f.at)),
            f"<b>{_e(f.agency)}</b>",
            f"{_e(f.kind)}: {_e(f.finding)}",
            _e(f.recommendation),
        ]
        for f in report.findings
    ]
    return ["<h2>Improvement plan</h2>", _table(["#", "when", "responsible", "finding", "recommendation"], rows)]


def _end(_report: Report) -> Parts:
    return ["</main></body></html>\n"]


#: The sections of the HTML page, in order (the timeline comes after the objectives here).
LAYOUT: tuple[Callable[[Report], Parts], ...] = (
    _heading,
    _cards,
    _participants,
    _incidents,
    _metrics,
    _tallies,
    _links,
    _problems,
    _checks,
    _objectives,
    _timeline,
    _findings,
    _end,
)
