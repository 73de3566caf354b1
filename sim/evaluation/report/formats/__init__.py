"""Rendering the after-action report: Markdown, self-contained HTML and JSON, each a module
with one function per section of the report."""

from __future__ import annotations

from collections.abc import Callable

from sim.evaluation.report.formats.html import html
from sim.evaluation.report.formats.jsondata import to_json
from sim.evaluation.report.formats.markdown import markdown
from sim.evaluation.report.model import Report

RENDERERS: dict[str, Callable[[Report], str]] = {"md": markdown, "html": html, "json": to_json}


def render(report: Report, fmt: str) -> str:
    """The report as ``md``, ``html`` or ``json``."""
    if fmt not in RENDERERS:
        raise ValueError(f"unknown report format {fmt!r} (use md, html or json)")
    return RENDERERS[fmt](report)
