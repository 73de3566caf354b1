"""Formatting helpers every renderer of the report shares."""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.evaluation.report.model import Report
from sim.model.durations import format_duration


def duration_text(delta: timedelta | None) -> str:
    """A duration, or ``—`` when there is none."""
    return format_duration(delta) if delta is not None else "—"


def offset_text(report: Report, at: datetime | None) -> str:
    """``T+HH:MM`` from the start of the exercise, or ``—`` when there is no time."""
    return report.offset(at) if at is not None else "—"


def axis_step(hours: float) -> int:
    """Hours between the ticks of a chart's time axis."""
    return 12 if hours > 48 else 6 if hours > 12 else 1
