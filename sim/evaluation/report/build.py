"""The after-action report, computed purely from a journal.

:func:`build` takes a journal folded by :func:`sim.outcome.fold` (its header carries the scenario
and the agreement) and derives the HSEEP-style report: overview, key-event
timeline, each incident's ladder with when and why each level was reached, metrics,
objectives with evidence, and an improvement plan. Rendering lives in
:mod:`sim.evaluation.report.markdown` (Markdown, JSON) and :mod:`sim.evaluation.report.html` (HTML with inline SVG).
"""

from __future__ import annotations

import statistics
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sim.evaluation.expect import Verdict, check
from sim.evaluation.outcome import CtlEvent, Event, ExerciseState, MessageEvent, ObsEvent
from sim.model.control import LinksState, Order
from sim.model.durations import format_duration, format_offset
from sim.model.journal import JournalHeader
from sim.model.links import Fate
from sim.model.messages import CommCheckReply, Kind
from sim.model.obligations import Obligation, Status
from sim.model.observations import BlockedObs, EscalationObs, LinkObs, ObligationObs, RejectedObs, ViolationObs

#: Kinds that answer a question in substance (not a mere acknowledgement).
SUBSTANTIVE = frozenset({Kind.PROVIDE_INFO, Kind.ASSIST_REPLY, Kind.CONSULT_REPLY})
#: Kinds that notify another state of an incident.
NOTICE_KINDS = frozenset(
    {Kind.EARLY_WARNING, Kind.INCIDENT_UPDATE, Kind.REQUEST_INFO, Kind.WARNING, Kind.CONSULT_REQUEST}
)


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


@dataclass(frozen=True)
class KeyEvent:
    at: datetime
    offset: str  # "+HH:MM"
    what: str  # inject, level, missed, link, refused, lost, rejected, escalate, violation, blocked
    text: str


@dataclass(frozen=True)
class Step:
    at: datetime
    level: int
    previous: int
    reason: str
    message: str


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
class ObligationTally:
    key: str
    met: int
    missed: int
    open: int
    cancelled: int


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
class CheckRow:
    recipient: str
    channel: str
    sent_at: datetime
    replied_after: timedelta | None
    depth: str | None


@dataclass(frozen=True)
class ObjectiveResult:
    id: str
    text: str
    status: str  # met, not met, not evaluated
    evidence: tuple[str, ...]


@dataclass(frozen=True)
class Finding:
    number: int
    at: datetime
    agency: str
    kind: str  # missed obligation, protocol violation, rejected message, blocked message
    finding: str
    recommendation: str


@dataclass(frozen=True)
class Report:
    overview: Overview
    timeline: tuple[KeyEvent, ...]
    incidents: tuple[IncidentReport, ...]
    timings: tuple[Timing, ...]
    by_agency: tuple[ObligationTally, ...]
    by_channel: tuple[ObligationTally, ...]
    links: tuple[LinkAvailability, ...]
    problems: tuple[Problem, ...]
    problem_counts: tuple[tuple[str, int], ...]
    checks: tuple[CheckRow, ...]
    objectives: tuple[ObjectiveResult, ...]
    expectations: tuple[tuple[bool, str, str], ...]
    findings: tuple[Finding, ...]
    first_substantive_answer: timedelta | None = None
    notes: tuple[str, ...] = field(default=())

    def offset(self, at: datetime) -> str:
        return "T" + format_offset(at - self.overview.start)


# -- building --------------------------------------------------------------------------------


def build(header: JournalHeader, state: ExerciseState, events: list[Event]) -> Report:
    """The after-action report of a folded journal (:func:`sim.outcome.fold`)."""
    sc = state.scenario
    start, end = sc.start, sc.end
    verdicts = check(state)
    names = {s.id: s.name for s in sc.states}
    participants = tuple(Participant(a.id, a.state, names.get(a.state, a.state), a.role, a.name) for a in sc.agencies)
    overview = Overview(
        exercise=header.exercise,
        scenario=sc.id,
        title=sc.title,
        summary=" ".join(sc.summary.split()),
        protocol=state.agreement.id,
        protocol_title=state.agreement.title,
        seed=header.seed,
        mode=header.mode,
        start=start,
        end=end,
        duration=sc.duration,
        scenario_sha256=header.scenario_sha256,
        participants=participants,
        messages=len({m.envelope.id for m in state.messages}),
        level_names=tuple(state.agreement.ladder.names),
    )
    obligations = list(state.obligations.values())
    problems = _problems(state)
    return Report(
        overview=overview,
        timeline=tuple(_timeline(state, events)),
        incidents=tuple(_incident(state, i) for i in state.incidents),
        timings=tuple(_timings(obligations)),
        by_agency=tuple(_tally(obligations, lambda o: o.owner)),
        by_channel=tuple(_tally(obligations, lambda o: o.channel)),
        links=tuple(_availability(state, events)),
        problems=tuple(problems),
        problem_counts=tuple(sorted(Counter(f"{p.what}: {p.reason}" for p in problems).items())),
        checks=tuple(_checks(state)),
        objectives=tuple(_objectives(state, verdicts)),
        expectations=tuple((v.ok, v.claim, v.found) for v in verdicts),
        findings=tuple(_findings(state)),
        first_substantive_answer=first_substantive_answer(state),
    )


def first_substantive_answer(state: ExerciseState) -> timedelta | None:
    """From the first cross-border notice to the first substantive answer across a border."""
    first_notice: datetime | None = None
    for m in state.messages:
        env = m.envelope
        if m.copy != 1 or not _foreign(state, env.channel):
            continue
        if env.kind in NOTICE_KINDS and first_notice is None:
            first_notice = env.sent_at
        if env.kind in SUBSTANTIVE and first_notice is not None:
            return env.sent_at - first_notice
    return None


def _foreign(state: ExerciseState, channel_id: str) -> bool:
    channel = state.agreement.channel(channel_id)
    return channel is not None and channel.scope != "domestic"


def _when(state: ExerciseState, at: datetime) -> str:
    return format_offset(at - state.scenario.start)


def _timeline(state: ExerciseState, stream: list[Event]) -> list[KeyEvent]:
    events: list[KeyEvent] = []

    def add(at: datetime, what: str, text: str) -> None:
        events.append(KeyEvent(at, _when(state, at), what, text))

    last_down: set[str] = set()
    for event in stream:
        match event:
            case CtlEvent(what="inject", detail=Order() as order):
                add(
                    order.at,
                    "inject",
                    f"{order.id}: {order.note or order.action.target + ' ' + order.action.describe()}",
                )
            case CtlEvent(what="links", detail=LinksState() as links):
                down = {f"{r.channel}:{r.a}~{r.b}" for r in links.links if not r.up}
                for link in sorted(down - last_down):
                    add(links.at, "link", f"{link} down")
                for link in sorted(last_down - down):
                    add(links.at, "link", f"{link} back up")
                last_down = down
            case MessageEvent(change=change) if change is not None:
                arrow = "rises" if change.level > change.previous else "falls"
                add(
                    change.at,
                    "level",
                    f"{change.incident} {arrow} to L{change.level} {state.ladder.name(change.level)}: {change.reason}",
                )
            case ObsEvent(obs=ObligationObs(status=Status.MISSED) as obs):
                ob = obs.obligation
                add(
                    obs.at,
                    "missed",
                    f"{ob.owner} missed {'/'.join(k.value for k in ob.kinds)} owed to "
                    f"{ob.counterparty} for {ob.trigger} ({ob.trigger_kind.value})",
                )
            case ObsEvent(obs=LinkObs() as obs) if obs.fate in (Fate.LOST, Fate.REFUSED):
                add(
                    obs.at,
                    obs.fate.value,
                    f"{obs.kind.value} {obs.message} {obs.agency}→{obs.recipient} on {obs.channel}",
                )
            case ObsEvent(obs=EscalationObs() as obs):
                why = {"no_answer": "no answer", "link_down": "link down", "no_route": "no direct link"}[obs.why]
                add(obs.at, "escalate", f"{obs.agency}: {why} on {obs.original} → {obs.channel or 'no fallback'}")
            case ObsEvent(obs=ViolationObs() as obs):
                add(obs.at, "violation", f"{obs.agency} {obs.message}: {obs.rule} ({obs.detail})")
            case ObsEvent(obs=RejectedObs() as obs):
                add(obs.at, "rejected", f"{obs.agency} rejected a message from {obs.published_as}: {obs.reason.value}")
            case ObsEvent(obs=BlockedObs() as obs):
                add(
                    obs.at,
                    "blocked",
                    f"{obs.agency} could not send {obs.kind.value} to {obs.recipient}: {obs.reason.value}",
                )
    events.sort(key=lambda e: e.at)
    return events


def _incident(state: ExerciseState, incident: str) -> IncidentReport:
    stats = state.incidents[incident]
    end = state.scenario.end
    history = state.ladder.history.get(incident, [])
    steps = tuple(Step(c.at, c.level, c.previous, c.reason, c.message_id) for c in history)
    peak, peak_at = state.ladder.peak(incident)
    at_peak = timedelta(0)
    down_after: timedelta | None = None
    for i, step in enumerate(steps):
        until = steps[i + 1].at if i + 1 < len(steps) else end
        if step.level == peak and peak > 0:
            at_peak += max(timedelta(0), until - step.at)
        if peak_at is not None and down_after is None and step.at > peak_at and step.level < peak:
            down_after = step.at - peak_at
    notice = stats.first_notice_at
    for m in state.messages:
        env = m.envelope
        if env.incident == incident and m.copy == 1 and env.kind in NOTICE_KINDS and _foreign(state, env.channel):
            notice = env.sent_at if notice is None else min(notice, env.sent_at)
            break
    took = notice - stats.detected_at if notice is not None and stats.detected_at is not None else None
    return IncidentReport(
        id=incident,
        detected_at=stats.detected_at,
        detected_by=stats.detected_by,
        first_notice_at=notice,
        time_to_notice=took,
        peak=peak,
        peak_at=peak_at,
        time_at_peak=at_peak,
        time_to_deescalate=down_after,
        final_level=state.ladder.level(incident),
        steps=steps,
        messages=stats.messages,
    )


def _took(ob: Obligation) -> timedelta | None:
    if ob.status is Status.MET and ob.closed_at is not None:
        return ob.closed_at - ob.opened_at
    return None


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    seconds = statistics.median(v.total_seconds() for v in values)
    return timedelta(seconds=round(seconds))


def _timings(obligations: list[Obligation]) -> list[Timing]:
    groups: dict[tuple[str, str, str], list[Obligation]] = defaultdict(list)
    for ob in obligations:
        if ob.status is Status.CANCELLED:
            continue
        groups[(ob.trigger_kind.value, "/".join(k.value for k in ob.kinds), ob.rule)].append(ob)
    rows = []
    for (trigger, answer, rule), obs in sorted(groups.items()):
        took = [t for t in (_took(o) for o in obs) if t is not None]
        rows.append(
            Timing(
                trigger=trigger,
                answer=answer,
                rule=rule,
                count=len(obs),
                met=sum(1 for o in obs if o.status is Status.MET),
                missed=sum(1 for o in obs if o.status is Status.MISSED),
                open=sum(1 for o in obs if o.status is Status.OPEN),
                median=_median(took),
                max=max(took, default=None),
            )
        )
    return rows


def _tally(obligations: list[Obligation], key: Callable[[Obligation], str]) -> list[ObligationTally]:
    counts: dict[str, Counter[Status]] = defaultdict(Counter)
    for ob in obligations:
        counts[key(ob)][ob.status] += 1
    return [
        ObligationTally(k, c[Status.MET], c[Status.MISSED], c[Status.OPEN], c[Status.CANCELLED])
        for k, c in sorted(counts.items())
    ]


def _availability(state: ExerciseState, stream: list[Event]) -> list[LinkAvailability]:
    start, end = state.scenario.start, state.scenario.end
    total = (end - start).total_seconds() or 1.0
    down_since: dict[str, datetime | None] = {}
    outages: dict[str, list[tuple[datetime, datetime]]] = defaultdict(list)
    channels: dict[str, str] = {}
    for event in stream:
        if not (isinstance(event, CtlEvent) and isinstance(event.detail, LinksState)):
            continue
        links = event.detail
        for row in links.links:
            label = f"{row.channel}:{row.a}~{row.b}"
            channels[label] = row.channel
            was = down_since.get(label)
            if not row.up and was is None:
                down_since[label] = max(links.at, start)
            elif row.up and was is not None:
                outages[label].append((was, min(links.at, end)))
                down_since[label] = None
            else:
                down_since.setdefault(label, None)
    for label, since in down_since.items():
        if since is not None:
            outages[label].append((since, end))
    rows = []
    for label in sorted(channels):
        spans = tuple(outages.get(label, []))
        down = sum((b - a for a, b in spans), timedelta(0))
        rows.append(LinkAvailability(label, channels[label], 1 - down.total_seconds() / total, down, spans))
    rows.sort(key=lambda r: (r.up_share, r.link))
    return rows


def _problems(state: ExerciseState) -> list[Problem]:
    out: list[Problem] = []
    for event in state.observations:
        obs = event.obs
        if isinstance(obs, LinkObs) and obs.fate in (Fate.LOST, Fate.REFUSED):
            why = "link down" if obs.fate is Fate.REFUSED else "lost in transit"
            out.append(
                Problem(
                    obs.at,
                    obs.fate.value,
                    obs.agency,
                    f"{obs.channel} {why}",
                    f"{obs.kind.value} {obs.message} to {obs.recipient} on {obs.channel}",
                )
            )
        elif isinstance(obs, RejectedObs):
            out.append(
                Problem(
                    obs.at, "rejected", obs.agency, obs.reason.value, f"from {obs.published_as}: {obs.detail[:160]}"
                )
            )
        elif isinstance(obs, BlockedObs):
            out.append(
                Problem(
                    obs.at,
                    "blocked",
                    obs.agency,
                    obs.reason.value,
                    f"{obs.kind.value} to {obs.recipient}: {obs.detail[:160]}",
                )
            )
    return out


def _checks(state: ExerciseState) -> list[CheckRow]:
    """Each communication check once (retries merged into the original), with the depth its
    answer reached — or why there was none."""
    replies: dict[str, tuple[datetime, CommCheckReply]] = {}
    for m in state.messages:
        body = m.envelope.body
        if m.copy == 1 and isinstance(body, CommCheckReply) and m.envelope.ref is not None:
            replies.setdefault(m.envelope.ref, (m.envelope.sent_at, body))
    rows: dict[str, CheckRow] = {}
    original: dict[str, str] = {}
    undelivered = {
        o.obs.message: o.obs
        for o in state.observations
        if isinstance(o.obs, LinkObs) and o.obs.kind is Kind.COMM_CHECK and o.obs.fate in (Fate.LOST, Fate.REFUSED)
    }
    for message, obs in undelivered.items():
        rows[message] = CheckRow(obs.recipient, obs.channel, obs.at, None, obs.fate.value.upper())
    for m in sorted(state.messages, key=lambda m: m.envelope.sent_at):
        env = m.envelope
        if m.copy != 1 or env.kind is not Kind.COMM_CHECK:
            continue
        key = env.id
        if env.ref is not None and original.get(env.ref, env.ref) in rows:
            key = original.get(env.ref, env.ref)
        original[env.id] = key
        row = rows.get(key) or CheckRow(env.recipient, env.channel, env.sent_at, None, None)
        if env.id in replies and (row.replied_after is None):
            at, body = replies[env.id]
            row = CheckRow(row.recipient, row.channel, row.sent_at, at - row.sent_at, body.depth.name)
        elif row.depth in ("LOST", "REFUSED") and env.id not in undelivered:
            row = CheckRow(row.recipient, row.channel, row.sent_at, None, None)  # a retry got through
        rows[key] = row
    return sorted(rows.values(), key=lambda r: (r.replied_after is None, r.recipient))


def _objectives(state: ExerciseState, verdicts: list[Verdict]) -> list[ObjectiveResult]:
    out = []
    for objective in state.scenario.objectives:
        linked = [v for v in verdicts if v.expectation.objective == objective.id]
        if not linked:
            out.append(
                ObjectiveResult(objective.id, objective.text, "not evaluated", ("no expectation names this objective",))
            )
            continue
        status = "met" if all(v.ok for v in linked) else "not met"
        evidence = tuple(f"{'✓' if v.ok else '✗'} {v.claim}: {v.found}" for v in linked)
        out.append(ObjectiveResult(objective.id, objective.text, status, evidence))
    return out


_ADVICE = {
    Kind.ACK: "staff the point of contact around the clock, or agree a longer acknowledgement window",
    Kind.COMM_CHECK_REPLY: "confirm the point of contact's address and duty roster; re-test within a month",
    Kind.PROVIDE_INFO: "prepare holding answers and walk-back positions so a formal inquiry can be answered in time",
    Kind.ASSIST_REPLY: "pre-agree who may take servers down and under which legal basis",
    Kind.CONSULT_REPLY: "name a standing delegation that can accept consultations at short notice",
    Kind.INCIDENT_UPDATE: "schedule the agreed follow-up reports when the first notice goes out",
}


def _findings(state: ExerciseState) -> list[Finding]:
    raw: list[tuple[datetime, str, str, str, str]] = []
    for ob in state.obligations.values():
        if ob.status is not Status.MISSED:
            continue
        owed = "/".join(k.value for k in ob.kinds)
        late = ""
        if ob.met_by is not None and ob.closed_at is not None:
            late = f"; answered late by {ob.met_by}"
        text = (
            f"{ob.owner} did not send {owed} to {ob.counterparty} for {ob.trigger} ({ob.trigger_kind.value} on "
            f"{ob.channel}, opened T{_when(state, ob.opened_at)}) by T{_when(state, ob.due_at)}{late}"
        )
        advice = _ADVICE.get(ob.kinds[0], "review the procedure for this obligation")
        raw.append((ob.due_at, ob.owner, "missed obligation", text, advice))
    for event in state.observations:
        obs = event.obs
        if isinstance(obs, ViolationObs):
            raw.append(
                (
                    obs.at,
                    obs.agency,
                    "protocol violation",
                    f"{obs.agency} sent {obs.message} against rule {obs.rule}: {obs.detail}",
                    "brief the duty officers on the agreement's lead times",
                )
            )
        elif isinstance(obs, RejectedObs):
            raw.append(
                (
                    obs.at,
                    obs.published_as,
                    "protocol violation",
                    f"{obs.agency} rejected a message from {obs.published_as}: {obs.reason.value} ({obs.detail[:160]})",
                    "check message formats and channel permissions against the agreement",
                )
            )
        elif isinstance(obs, BlockedObs):
            raw.append(
                (
                    obs.at,
                    obs.agency,
                    "protocol violation",
                    f"{obs.agency} tried to send {obs.kind.value} to {obs.recipient}: {obs.reason.value}",
                    "align the procedure with the channels the agreement provides",
                )
            )
    for event in state.observations:
        obs = event.obs
        if isinstance(obs, LinkObs) and obs.fate in (Fate.LOST, Fate.REFUSED):
            why = "was refused by the down link" if obs.fate is Fate.REFUSED else "was lost in transit"
            raw.append(
                (
                    obs.at,
                    f"{obs.agency} / {obs.recipient}",
                    "undelivered message",
                    f"{obs.kind.value} {obs.message} from {obs.agency} to {obs.recipient} on {obs.channel} {why}",
                    "check the link and its fallback; keep the point-of-contact entry up to date",
                )
            )
    raw.sort(key=lambda r: (r[0], r[1], r[3]))
    return [Finding(i, at, agency, kind, text, advice) for i, (at, agency, kind, text, advice) in enumerate(raw, 1)]


def duration_text(delta: timedelta | None) -> str:
    return format_duration(delta) if delta is not None else "—"


def render(report: Report, fmt: str) -> str:
    """The report as ``md``, ``html`` or ``json``."""
    from sim.evaluation.report.html import html  # noqa: PLC0415 - the renderers import this module
    from sim.evaluation.report.markdown import markdown, to_json  # noqa: PLC0415

    renderers = {"md": markdown, "html": html, "json": to_json}
    if fmt not in renderers:
        raise ValueError(f"unknown report format {fmt!r} (use md, html or json)")
    return renderers[fmt](report)
