"""The escalation ladder of an incident as an inline SVG step chart (for the HTML report): a
line per level, a tick per few hours, the level over time, a marker and tooltip per change."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from html import escape

from sim.evaluation.report.formats.text import axis_step
from sim.evaluation.report.model import Charted, Report

LEVEL_COLOURS = ("#9aa5b1", "#3f8fd2", "#2fa37a", "#e0a100", "#e0661b", "#c8243b")
LEFT, RIGHT, TOP, BOTTOM = 150, 26, 10, 28


def _e(text: object) -> str:
    return escape(str(text))


@dataclass(frozen=True)
class _Plot:
    """Where a time and a level go in the picture."""

    start: datetime
    total: float  # seconds in the exercise (1 when it has none)
    width: int
    height: int

    @property
    def plot_w(self) -> int:
        return self.width - LEFT - RIGHT

    @property
    def plot_h(self) -> int:
        return self.height - TOP - BOTTOM

    def x(self, at: datetime) -> float:
        return LEFT + self.plot_w * max(0.0, min(1.0, (at - self.start).total_seconds() / self.total))

    def y(self, level: int) -> float:
        return TOP + self.plot_h * (1 - level / 5)


def ladder_svg(report: Report, incident: Charted, width: int = 1000, height: int = 230) -> str:
    """A step chart of the level over the exercise, a marker and tooltip at every change."""
    ov = report.overview
    plot = _Plot(ov.start, ov.duration.total_seconds() or 1.0, width, height)
    parts = [
        f"<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 {width} {height}' width='100%' "
        f"role='img' aria-label='Escalation ladder of {_e(incident.id)}'>",
        *_levels(plot, ov.level_names),
        *_hours(plot),
        *_curve(plot, incident, ov.end),
        *_markers(plot, report, incident),
        "</svg>",
    ]
    return "".join(parts)


def _levels(plot: _Plot, names: tuple[str, ...]) -> list[str]:
    parts = []
    for level in range(6):
        yy = plot.y(level)
        parts.append(f"<line x1='{LEFT}' y1='{yy:.1f}' x2='{plot.width - RIGHT}' y2='{yy:.1f}' stroke='#e4e7eb'/>")
        parts.append(
            f"<text x='{LEFT - 8}' y='{yy + 4:.1f}' text-anchor='end' fill='{LEVEL_COLOURS[level]}'>"
            f"L{level} {_e(names[level])}</text>"
        )
    return parts


def _hours(plot: _Plot) -> list[str]:
    parts = []
    hours = plot.total / 3600
    step = axis_step(hours)
    h = 0
    while h <= hours + 1e-9:
        xx = LEFT + plot.plot_w * (h / hours if hours else 0)
        parts.append(f"<line x1='{xx:.1f}' y1='{TOP}' x2='{xx:.1f}' y2='{TOP + plot.plot_h}' stroke='#f0f2f4'/>")
        parts.append(f"<text x='{xx:.1f}' y='{plot.height - 8}' text-anchor='middle'>+{h}h</text>")
        h += step
    return parts


def _curve(plot: _Plot, incident: Charted, end: datetime) -> list[str]:
    points: list[tuple[float, float]] = [(plot.x(plot.start), plot.y(0))]
    level = 0
    for s in incident.steps:
        points.append((plot.x(s.at), plot.y(level)))
        level = s.level
        points.append((plot.x(s.at), plot.y(level)))
    points.append((plot.x(end), plot.y(level)))
    area = " ".join(f"{a:.1f},{b:.1f}" for a, b in [*points, (plot.x(end), plot.y(0))])
    line = " ".join(f"{a:.1f},{b:.1f}" for a, b in points)
    colour = LEVEL_COLOURS[incident.peak]
    return [
        f"<polygon points='{area}' fill='{colour}' fill-opacity='0.15'/>",
        f"<polyline points='{line}' fill='none' stroke='{colour}' stroke-width='2.5'/>",
    ]


def _markers(plot: _Plot, report: Report, incident: Charted) -> list[str]:
    names = report.overview.level_names
    parts = []
    for s in incident.steps:
        tip = f"{report.offset(s.at)} L{s.previous}→L{s.level} {names[s.level]}: {s.reason} [{s.message}]"
        parts.append(
            f"<circle cx='{plot.x(s.at):.1f}' cy='{plot.y(s.level):.1f}' r='4.5' fill='{LEVEL_COLOURS[s.level]}' "
            f"stroke='#fff' stroke-width='1.5'><title>{_e(tip)}</title></circle>"
        )
    return parts
