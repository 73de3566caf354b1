"""The after-action report as one self-contained HTML page: inline CSS, an inline SVG ladder
chart per incident, no scripts and nothing fetched (pure: a Report in, a string out)."""

from __future__ import annotations

from datetime import datetime
from html import escape

from sim.evaluation.report.build import IncidentReport, Report, duration_text
from sim.model.durations import format_duration

LEVEL_COLOURS = ("#9aa5b1", "#3f8fd2", "#2fa37a", "#e0a100", "#e0661b", "#c8243b")

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


def ladder_svg(report: Report, incident: IncidentReport, width: int = 1000, height: int = 230) -> str:
    """A step chart of the level over the exercise, a marker and tooltip at every change."""
    ov = report.overview
    left, right, top, bottom = 150, 26, 10, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    total = ov.duration.total_seconds() or 1.0

    def x(at: datetime) -> float:
        return left + plot_w * max(0.0, min(1.0, (at - ov.start).total_seconds() / total))

    def y(level: int) -> float:
        return top + plot_h * (1 - level / 5)

    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"role='img' aria-label='Escalation ladder of {_e(incident.id)}'>"
    ]
    for level in range(6):
        yy = y(level)
        parts.append(f"<line x1='{left}' y1='{yy:.1f}' x2='{width - right}' y2='{yy:.1f}' stroke='#e4e7eb'/>")
        parts.append(
            f"<text x='{left - 8}' y='{yy + 4:.1f}' text-anchor='end' fill='{LEVEL_COLOURS[level]}'>"
            f"L{level} {_e(ov.level_names[level])}</text>"
        )
    hours = total / 3600
    step = 12 if hours > 48 else 6 if hours > 12 else 1
    h = 0
    while h <= hours + 1e-9:
        xx = left + plot_w * (h / hours if hours else 0)
        parts.append(f"<line x1='{xx:.1f}' y1='{top}' x2='{xx:.1f}' y2='{top + plot_h}' stroke='#f0f2f4'/>")
        parts.append(f"<text x='{xx:.1f}' y='{height - 8}' text-anchor='middle'>+{h}h</text>")
        h += step
    points: list[tuple[float, float]] = [(x(ov.start), y(0))]
    level = 0
    for s in incident.steps:
        points.append((x(s.at), y(level)))
        level = s.level
        points.append((x(s.at), y(level)))
    points.append((x(ov.end), y(level)))
    area = " ".join(f"{a:.1f},{b:.1f}" for a, b in [*points, (x(ov.end), y(0))])
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
    colour = LEVEL_COLOURS[incident.peak]
    parts.append(f"<polygon points='{area}' fill='{colour}' fill-opacity='0.15'/>")
    parts.append(f"<polyline points='{line}' fill='none' stroke='{colour}' stroke-width='2.5'/>")
    for s in incident.steps:
        tip = f"{report.offset(s.at)} L{s.previous}→L{s.level} {ov.level_names[s.level]}: {s.reason} [{s.message}]"
        parts.append(
            f"<circle cx='{x(s.at):.1f}' cy='{y(s.level):.1f}' r='4.5' fill='{LEVEL_COLOURS[s.level]}' "
            f"stroke='#fff' stroke-width='1.5'><title>{_e(tip)}</title></circle>"
        )
    parts.append("</svg>")
    return "".join(parts)


def _level_tag(report: Report, level: int) -> str:
    return (
        f"<span class='tag' style='background:{LEVEL_COLOURS[level]}'>L{level} "
        f"{_e(report.overview.level_names[level])}</span>"
    )


def html(report: Report) -> str:
    ov = report.overview
    met = sum(1 for o in report.objectives if o.status == "met")
    peak = max((i.peak for i in report.incidents), default=0)
    lost = sum(n for k, n in report.problem_counts if k.startswith("lost"))
    missed = sum(t.missed for t in report.by_agency)
    out = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>After-action report — {_e(ov.title)}</title><style>{_CSS}</style></head><body><main>",
        f"<h1>After-action report — {_e(ov.title)}</h1>",
        f"<p class='sub'>scenario <code>{_e(ov.scenario)}</code> · protocol <code>{_e(ov.protocol)}</code> "
        f"({_e(ov.protocol_title)}) · seed {ov.seed} · {_e(ov.mode)} mode · "
        f"{ov.start:%Y-%m-%d %H:%M}Z + {format_duration(ov.duration)}</p>",
    ]
    if ov.summary:
        out.append(f"<blockquote>{_e(ov.summary)}</blockquote>")
    cards = [
        (f"{met} / {len(report.objectives)}", "objectives met"),
        (f"L{peak}", "highest level"),
        (str(ov.messages), "protocol messages"),
        (str(missed), "obligations missed"),
        (str(lost), "messages lost"),
        (duration_text(report.first_substantive_answer), "to first substantive answer"),
        (str(len(report.findings)), "finding" if len(report.findings) == 1 else "findings"),
    ]
    out.append(
        "<div class='cards'>"
        + "".join(f"<div class='card'><b>{_e(v)}</b><span>{_e(k)}</span></div>" for v, k in cards)
        + "</div>"
    )
    out.append("<h2>Participants</h2>")
    out.append(
        _table(
            ["agency", "state", "role", "name"],
            [[_e(p.id), _e(p.state_name), _e(p.role), _e(p.name)] for p in ov.participants],
        )
    )
    out.append("<h2>Incidents and the escalation ladder</h2>")
    if not report.incidents:
        out.append("<p class='na'>No incident was raised in this exercise.</p>")
    for inc in report.incidents:
        out.append(f"<h3>{_e(inc.id)} — peak {_level_tag(report, inc.peak)}</h3>")
        facts = [
            f"detected {_e(report.offset(inc.detected_at)) if inc.detected_at else '—'}"
            + (f" by {_e(inc.detected_by)}" if inc.detected_by else ""),
            "first notice to another state "
            + (_e(report.offset(inc.first_notice_at)) if inc.first_notice_at else "—")
            + (f" ({format_duration(inc.time_to_notice)} after detection)" if inc.time_to_notice is not None else ""),
            f"held the peak for {format_duration(inc.time_at_peak)}; time to de-escalate "
            f"{duration_text(inc.time_to_deescalate)}; ends at {_level_tag(report, inc.final_level)}",
        ]
        out.append("<ul class='facts'>" + "".join(f"<li>{f}</li>" for f in facts) + "</ul>")
        out.append(ladder_svg(report, inc))
        out.append(
            _table(
                ["when", "level", "why", "message"],
                [
                    [
                        _e(report.offset(s.at)),
                        ("▲ " if s.level > s.previous else "▼ ") + _level_tag(report, s.level),
                        _e(s.reason),
                        f"<code>{_e(s.message)}</code>",
                    ]
                    for s in inc.steps
                ],
            )
        )
    out.append("<h2>Metrics</h2><h3>Time to answer, per obligation</h3>")
    out.append(
        _table(
            ["created by", "owed", "rule", "n", "met", "missed", "open", "median", "max"],
            [
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
                for t in report.timings
            ],
            numeric={3, 4, 5, 6, 7, 8},
        )
    )
    for title, tallies in (("by agency", report.by_agency), ("by channel", report.by_channel)):
        out.append(f"<h3>Obligations {title}</h3>")
        out.append(
            _table(
                [title.split()[1], "met", "missed", "open", "cancelled"],
                [
                    [
                        _e(t.key),
                        str(t.met),
                        f"<span class='{'bad' if t.missed else ''}'>{t.missed}</span>",
                        str(t.open),
                        str(t.cancelled),
                    ]
                    for t in tallies
                ],
                numeric={1, 2, 3, 4},
            )
        )
    out.append("<h3>Channel availability</h3>")
    out.append(
        _table(
            ["link", "available", "down for", "outages"],
            [
                [
                    _e(link.link),
                    f"<span class='{'bad' if link.up_share < 1 else 'ok'}'>{link.up_share:.0%}</span>",
                    format_duration(link.down_for),
                    _e(", ".join(f"{report.offset(a)}–{report.offset(b)}" for a, b in link.outages) or "—"),
                ]
                for link in report.links
                if link.channel != "domestic" or link.up_share < 1
            ],
            numeric={1, 2},
        )
    )
    out.append("<h3>Messages lost, refused or rejected</h3>")
    out.append(_table(["what and why", "count"], [[_e(k), str(n)] for k, n in report.problem_counts], numeric={1}))
    if report.checks:
        out.append("<h3>Communication checks</h3>")
        out.append(
            _table(
                ["point of contact", "channel", "sent", "answered after", "depth reached"],
                [
                    [
                        _e(c.recipient),
                        _e(c.channel),
                        _e(report.offset(c.sent_at)),
                        duration_text(c.replied_after),
                        f"<span class='{_depth_class(c.depth)}'>{_e(c.depth or 'no answer')}</span>",
                    ]
                    for c in report.checks
                ],
            )
        )
    out.append("<h2>Objectives</h2>")
    rows = []
    for o in report.objectives:
        cls = {"met": "ok", "not met": "bad"}.get(o.status, "na")
        rows.append(
            [
                f"<b>{_e(o.id)}</b>",
                _e(o.text),
                f"<span class='{cls}'>{_e(o.status)}</span>",
                "<br>".join(_e(e) for e in o.evidence),
            ]
        )
    out.append(_table(["", "objective", "result", "evidence"], rows))
    out.append("<h2>Timeline of key events</h2>")
    out.append(
        _table(["when", "what", "event"], [[f"T{_e(e.offset)}", _e(e.what), _e(e.text)] for e in report.timeline])
    )
    out.append("<h2>Improvement plan</h2>")
    out.append(
        _table(
            ["#", "when", "responsible", "finding", "recommendation"],
            [
                [
                    str(f.number),
                    _e(report.offset(f.at)),
                    f"<b>{_e(f.agency)}</b>",
                    f"{_e(f.kind)}: {_e(f.finding)}",
                    _e(f.recommendation),
                ]
                for f in report.findings
            ],
        )
    )
    out.append("</main></body></html>\n")
    return "\n".join(out)


def _depth_class(depth: str | None) -> str:
    if depth == "AUTHORITY":
        return "ok"
    return "bad" if depth in (None, "REFUSED") else ""
