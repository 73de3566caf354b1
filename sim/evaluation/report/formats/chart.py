"""The escalation ladder of an incident as a Unicode area chart (for the Markdown report and
the terminal): one row per level, one column per slice of the exercise."""

from __future__ import annotations

from datetime import datetime

from sim.evaluation.report.formats.text import axis_step
from sim.evaluation.report.model import Charted, Overview, Report, Step

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


def ladder_chart(report: Report, incident: Charted, width: int = CHART_WIDTH) -> list[str]:
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
    lines.append(" " * (label_w + 2) + _axis(ov, width))
    return lines


def _axis(ov: Overview, width: int) -> str:
    """``+0h`` … ``+72h`` under the chart, each label starting at its column."""
    hours = ov.duration.total_seconds() / 3600
    step = axis_step(hours)
    axis = [" "] * (width + 8)
    h = 0
    while h <= hours:
        pos = round(h / hours * width) if hours else 0
        for j, ch in enumerate(f"+{h}h"):
            if pos + j < len(axis):
                axis[pos + j] = ch
        h += step
    return "".join(axis).rstrip()
