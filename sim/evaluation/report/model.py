"""The after-action report as data: one frozen dataclass per section, and :class:`Report`, the
sections in their canonical order. Built by :mod:`sim.evaluation.report.sections`, rendered by
:mod:`sim.evaluation.report.formats`; nothing here computes or formats."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import NamedTuple, Protocol

from sim.model.durations import format_offset

# -- overview ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Participant:
    id: str
    state: str
    state_name: str
    role: str
    name: str


@dataclass(frozen=True)
class Overview:
    exercise: str
    scenario: str
    title: str
    summary: str
    protocol: str
    protocol_title: str
    seed: int
    mode: str
    start: datetime
    end: datetime
    duration: timedelta
    scenario_sha256: str
    participants: tuple[Participant, ...]
    messages: int
    level_names: tuple[str, ...]
    #: ``complete``, ``aborted`` or ``incomplete`` (the journal stops without the director's end).
    ending: str = "complete"
    #: What the facilitator must know about how the run ended, if it did not end cleanly.
    ending_note: str | None = None


# -- key-event timeline -----------------------------------------------------------------------


@dataclass(frozen=True)
class KeyEvent:
    at: datetime
    offset: str  # "+HH:MM"
    what: str  # inject, level, missed, link, refused, lost, rejected, escalate, violation, blocked
    text: str


# -- incidents --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    at: datetime
    level: int
    previous: int
    reason: str
    message: str


class Charted(Protocol):
    """A ladder a chart draws: an incident's, or one pair of states' on it."""

    @property
    def id(self) -> str: ...

    @property
    def peak(self) -> int: ...

    @property
    def steps(self) -> tuple[Step, ...]: ...


@dataclass(frozen=True)
class PairReport:
    """One pair of states' ladder on an incident that involves more than two states."""

    id: str  # "EI-1 de–ee"
    between: tuple[str, str]
    peak: int
    peak_at: datetime | None
    final_level: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class IncidentReport:
    id: str
    detected_at: datetime | None
    detected_by: str | None
    first_notice_at: datetime | None
    time_to_notice: timedelta | None
    peak: int
    peak_at: datetime | None
    time_at_peak: timedelta
    #: From first reaching the peak to the first step down from it (None: never came down).
    time_to_deescalate: timedelta | None
    final_level: int
    steps: tuple[Step, ...]
    messages: int
    #: Each pair of states' ladder, when the incident involves more than two states.
    pairs: tuple[PairReport, ...] = ()


# -- metrics ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Timing:
    """Obligations of one kind: how long the owners took, and how many were met."""

    trigger: str  # the kind that created them
    answer: str  # what was owed
    rule: str
    count: int
    met: int
    missed: int
    open: int
    median: timedelta | None
    max: timedelta | None


@dataclass(frozen=True)
class Metrics:
    timings: tuple[Timing, ...]
    #: From the first cross-border notice to the first substantive answer across a border.
    first_substantive_answer: timedelta | None


@dataclass(frozen=True)
class ObligationTally:
    key: str
    met: int
    missed: int
    open: int
    cancelled: int


@dataclass(frozen=True)
class Tallies:
    by_agency: tuple[ObligationTally, ...]
    by_channel: tuple[ObligationTally, ...]


# -- links, problems, checks ------------------------------------------------------------------


@dataclass(frozen=True)
class LinkAvailability:
    link: str  # channel:a~b
    channel: str
    up_share: float
    down_for: timedelta
    outages: tuple[tuple[datetime, datetime], ...]


@dataclass(frozen=True)
class Problem:
    at: datetime
    what: str  # lost, refused, rejected, blocked
    agency: str
    reason: str
    detail: str


@dataclass(frozen=True)
class RejectedGroup:
    """Input from one sender rejected for one reason: how much, and when."""

    sender: str
    reason: str
    count: int
    first: datetime
    last: datetime
    example: str


@dataclass(frozen=True)
class Problems:
    items: tuple[Problem, ...]
    #: ("what: reason", how many), sorted.
    counts: tuple[tuple[str, int], ...]
    #: Rejected input, by sender and reason (a flood is one line, not thousands).
    rejected: tuple[RejectedGroup, ...] = ()


@dataclass(frozen=True)
class CheckRow:
    recipient: str
    channel: str
    sent_at: datetime
    replied_after: timedelta | None
    depth: str | None


# -- objectives, expectations, findings -------------------------------------------------------


@dataclass(frozen=True)
class ObjectiveResult:
    id: str
    text: str
    status: str  # met, not met, not evaluated
    evidence: tuple[str, ...]


class ExpectationResult(NamedTuple):
    ok: bool
    claim: str
    found: str


@dataclass(frozen=True)
class Finding:
    number: int
    at: datetime
    agency: str
    kind: str  # missed obligation, protocol violation, rejected message, blocked message
    finding: str
    recommendation: str


# -- the report -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Report:
    """The sections of the report, in their canonical order."""

    overview: Overview
    timeline: tuple[KeyEvent, ...]
    incidents: tuple[IncidentReport, ...]
    metrics: Metrics
    tallies: Tallies
    links: tuple[LinkAvailability, ...]
    problems: Problems
    checks: tuple[CheckRow, ...]
    objectives: tuple[ObjectiveResult, ...]
    expectations: tuple[ExpectationResult, ...]
    findings: tuple[Finding, ...]
    notes: tuple[str, ...] = ()

    def offset(self, at: datetime) -> str:
        return "T" + format_offset(at - self.overview.start)
