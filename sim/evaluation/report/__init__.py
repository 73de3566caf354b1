"""The after-action report, computed purely from a journal.

:func:`build` takes a journal folded by :func:`sim.evaluation.outcome.fold` (its header carries
the scenario and the agreement) and derives the HSEEP-style report: a sequence of sections
(:mod:`.model`) — overview, key-event timeline, each incident's ladder with when and why each
level was reached, metrics, obligation tallies, link availability, problems, communication
checks, objectives with evidence, expectations, and an improvement plan — each built by its own
function (:mod:`.sections`). :func:`render` gives it as Markdown, HTML or JSON
(:mod:`.formats`), each renderer one function per section.
"""

from sim.evaluation.report.assemble import build
from sim.evaluation.report.formats import render
from sim.evaluation.report.model import Report

__all__ = ["Report", "build", "render"]
