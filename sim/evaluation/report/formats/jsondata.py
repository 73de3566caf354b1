"""The after-action report as plain JSON data (format ``hotline-aar``, version 1): times as UTC
ISO strings, durations as whole seconds. One function per section gives its top-level keys,
merged in :data:`LAYOUT` order."""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sim.evaluation.report.model import Report

Keys = dict[str, Any]


def to_json(report: Report) -> str:
    return json.dumps(as_dict(report), ensure_ascii=False, indent=2) + "\n"


def as_dict(report: Report) -> Keys:
    """Plain JSON data: times as UTC ISO strings, durations as seconds."""
    out: Keys = {"report": "hotline-aar", "version": 1}
    for section in LAYOUT:
        out.update(section(report))
    return out


def _plain(value: Any) -> Any:
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return _plain(dataclasses.asdict(value))
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(value, timedelta):
        return int(value.total_seconds())
    if isinstance(value, tuple | list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    return value


# -- sections, in order -----------------------------------------------------------------------


def _overview(report: Report) -> Keys:
    return {"overview": _plain(report.overview)}


def _timeline(report: Report) -> Keys:
    return {"timeline": _plain(report.timeline)}


def _incidents(report: Report) -> Keys:
    return {"incidents": _plain(report.incidents)}


def _timings(report: Report) -> Keys:
    return {"timings": _plain(report.metrics.timings)}


def _tallies(report: Report) -> Keys:
    return {"by_agency": _plain(report.tallies.by_agency), "by_channel": _plain(report.tallies.by_channel)}


def _links(report: Report) -> Keys:
    return {"links": _plain(report.links)}


def _problems(report: Report) -> Keys:
    return {
        "problems": _plain(report.problems.items),
        "problem_counts": _plain(report.problems.counts),
        "rejected_input": _plain(report.problems.rejected),
    }


def _checks(report: Report) -> Keys:
    return {"checks": _plain(report.checks)}


def _objectives(report: Report) -> Keys:
    return {"objectives": _plain(report.objectives)}


def _expectations(report: Report) -> Keys:
    return {"expectations": _plain(report.expectations)}  # [ok, claim, found] each


def _findings(report: Report) -> Keys:
    return {"findings": _plain(report.findings)}


def _first_answer(report: Report) -> Keys:
    """Part of the metrics, but version 1 of the format has it after the findings."""
    return {"first_substantive_answer": _plain(report.metrics.first_substantive_answer)}


def _notes(report: Report) -> Keys:
    return {"notes": _plain(report.notes)}


#: The top-level keys of the JSON report, in order.
LAYOUT: tuple[Callable[[Report], Keys], ...] = (
    _overview,
    _timeline,
    _incidents,
    _timings,
    _tallies,
    _links,
    _problems,
    _checks,
    _objectives,
    _expectations,
    _findings,
    _first_answer,
    _notes,
)
