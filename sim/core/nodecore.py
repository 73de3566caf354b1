"""The deterministic heart of an agency node: protocol engine + automation + link layer.

:class:`NodeCore` does no I/O. Bytes and injects go in; ``Publish`` records come out for the
shell (:mod:`sim.runtime.node`) to put on the broker. Everything due at one sim time is handled in a
canonical order — messages by (sender, seq), then injects, then the agency's own scheduled
actions, then protocol deadlines — so a run is a pure function of the scenario and seed.
"""

from __future__ import annotations

import heapq
from collections import Counter
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, cast

import structlog
from pydantic import BaseModel

from sim.core.automation import Automaton
from sim.core.automation.drafts import AutomatonState, Draft
from sim.core.linktable import LinkTable, decide
from sim.core.protocol import (
    Accepted,
    Action,
    AwaitingChanged,
    Duplicate,
    Engine,
    Escalate,
    Fallback,
    ObligationChanged,
    Rejected,
    Retry,
    Violation,
)
from sim.core.rng import stream
from sim.core.roster import Roster
from sim.model.compose import body_from
from sim.model.control import InjectOrder, LinksState, Order, RoundReport
from sim.model.errors import LocalProtocolError, MalformedMessage
from sim.model.injects import Detect, PolicyChange, ScriptedMessage
from sim.model.links import Condition, Fate, LinkKey, LinkRow
from sim.model.messages import Envelope, Kind, ProtocolErrorBody, RejectReason, Tlp, decode_envelope, encode
from sim.model.obligations import Book
from sim.model.observations import (
    AwaitingObs,
    BlockedObs,
    DuplicateObs,
    EscalationObs,
    LinkObs,
    ObligationObs,
    RejectedObs,
    RetryObs,
    ViolationObs,
    encode_obs,
)
from sim.model.policy import Policy
from sim.model.topics import Publish, Topics

log = structlog.get_logger("hotline.node")

# Order of items due at the same instant.
_MSG, _INJECT, _DRAFT = 0, 1, 2


@dataclass(frozen=True)
class _Inbound:
    envelope: Envelope
    topic_sender: str


class _HeapEntry(BaseModel):
    at: datetime
    cls: int
    key: str
    order: int
    counter: int
    inbound: _Inbound | None = None
    inject: InjectOrder | None = None
    draft: Draft | None = None


class NodeState(BaseModel):
    """Everything a node needs to carry on after a crash: written after every change,
    reloaded at restart (a few kB)."""

    agency: str
    run: str
    session: int = 0
    now: datetime | None = None
    seq: int
    counter: int
    obs_n: int
    published: int
    injects: int
    sent_to: dict[str, int]
    received_from: dict[str, int]
    book: Book
    automaton: AutomatonState
    heap: list[_HeapEntry]
    outbox: dict[str, Envelope]
    last_from: list[tuple[str, Kind, str]]
    links: list[LinkRow]
    rng_policy: Any
    rng_links: Any


class NodeCore:
    def __init__(self, roster: Roster, agency: str, exercise: str, seed: int, policy: Policy) -> None:
        self.roster = roster
        self.me = agency
        self.topics = Topics(exercise)
        self.engine = Engine(roster, agency, exercise)
        self.auto = Automaton(roster, agency, policy, stream(seed, "policy", agency))
        self._link_rng = stream(seed, "links", agency)
        self.links = LinkTable(roster.latency)
        self._heap: list[tuple[datetime, int, str, int, int, Any]] = []
        self._counter = 0
        self.seq = 0
        self.now: datetime | None = None
        self._outbox: dict[str, Envelope] = {}
        self._last_from: dict[tuple[str, Kind], str] = {}
        self._out: list[Publish] = []
        self.sent_to: Counter[str] = Counter()
        self.received_from: Counter[str] = Counter()
        self.published = 0
        self._obs_n = 0
        self.injects = 0

    # -- input --------------------------------------------------------------------------------

    def on_message(self, topic: str, payload: bytes, now: datetime) -> list[Publish]:
        """A publish on our inbox. Structural problems are rejected at once; a valid envelope
        waits in the queue until its simulated arrival."""
        parsed = self.topics.parse(topic)
        if parsed is None or parsed.area != "msg" or parsed.parts[0] != self.me:
            return []  # not ours (amqtt may hand out retained messages nobody asked for)
        topic_sender = parsed.parts[1]
        try:
            env = decode_envelope(payload)
        except MalformedMessage as exc:
            log.warning("rejected_payload", reason=exc.reason.value, detail=exc.detail, topic=topic)
            self._reject(exc.reason, exc.detail, None, topic, topic_sender, now)
            return self._flush()
        screened = self.engine.screen(env, topic_sender)
        if screened is not None:
            log.warning("rejected_message", reason=screened.reason.value, detail=screened.detail, topic=topic)
            self._handle([screened], now, topic=topic)
            return self._flush()
        self.received_from[topic_sender] += 1
        when = max(env.arrives_at or now, now)
        self._push(when, _MSG, env.sender, env.seq, _Inbound(env, topic_sender))
        return self._flush()

    def on_inject(self, order: InjectOrder) -> None:
        self.injects = max(self.injects, order.seq)
        self._push(order.at, _INJECT, "", order.seq, order)

    def on_links(self, state: LinksState) -> None:
        self.links = LinkTable.from_rows(list(state.links))

    # -- time ---------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        times = [self._heap[0][0]] if self._heap else []
        deadline = self.engine.next_deadline()
        if deadline is not None:
            times.append(deadline)
        return min(times, default=None)

    def run_until(self, until: datetime, *, late: bool = False) -> list[Publish]:
        """Handle everything due at or before ``until``, in canonical order.

        Each event is handled at its own sim time (fast mode, deterministic). With ``late``
        (realtime) it is handled *now*, at ``until``: what fell due while this node was paused
        or down is done when it can be done, and stamped so."""
        while True:
            heap_t = self._heap[0][0] if self._heap else None
            dead_t = self.engine.next_deadline()
            candidates = [t for t in (heap_t, dead_t) if t is not None]
            if not candidates or min(candidates) > until:
                break
            t = min(candidates)
            when = until if late else t
            self.now = when
            if heap_t is not None and heap_t == t:
                item = heapq.heappop(self._heap)[-1]
                self._handle_item(item, when)
            else:
                self._handle(self.engine.advance(t), when)
        self.now = until if self.now is None or until > self.now else self.now
        return self._flush()

    # -- persistence ----------------------------------------------------------------------------

    def snapshot(self, run: str, session: int) -> NodeState:
        heap = []
        for at, cls, key, order, counter, item in self._heap:
            entry = _HeapEntry(at=at, cls=cls, key=key, order=order, counter=counter)
            if isinstance(item, _Inbound):
                entry.inbound = item
            elif isinstance(item, Order):
                entry.inject = cast("InjectOrder", item)
            else:
                entry.draft = item
            heap.append(entry)
        return NodeState(
            agency=self.me,
            run=run,
            session=session,
            now=self.now,
            seq=self.seq,
            counter=self._counter,
            obs_n=self._obs_n,
            published=self.published,
            injects=self.injects,
            sent_to=dict(self.sent_to),
            received_from=dict(self.received_from),
            book=self.engine.book,
            automaton=self.auto.state(),
            heap=heap,
            outbox=self._outbox,
            last_from=[(s, k, i) for (s, k), i in sorted(self._last_from.items())],
            links=self.links.rows(),
            rng_policy=self.auto.rng.getstate(),
            rng_links=self._link_rng.getstate(),
        )

    def restore(self, state: NodeState) -> None:
        self.now = state.now
        self.seq, self._counter, self._obs_n = state.seq, state.counter, state.obs_n
        self.published, self.injects = state.published, state.injects
        self.sent_to, self.received_from = Counter(state.sent_to), Counter(state.received_from)
        self.engine.book = state.book
        self.auto.restore(state.automaton)
        self._heap = []
        for e in state.heap:
            item: Any = e.inbound or e.inject or e.draft
            self._heap.append((e.at, e.cls, e.key, e.order, e.counter, item))
        heapq.heapify(self._heap)
        self._outbox = dict(state.outbox)
        self._last_from = {(s, k): i for s, k, i in state.last_from}
        self.links = LinkTable.from_rows(state.links)
        self.auto.rng.setstate(_rng_state(state.rng_policy))
        self._link_rng.setstate(_rng_state(state.rng_links))

    def report(self, round_no: int, *, final: bool = False) -> RoundReport:
        return RoundReport(
            agency=self.me,
            round=round_no,
            final=final,
            next_due=self.next_due(),
            sent_to=dict(sorted(self.sent_to.items())),
            received_from=dict(sorted(self.received_from.items())),
            published=self.published,
            injects=self.injects,
        )

    # -- handling -----------------------------------------------------------------------------

    def _push(self, at: datetime, cls: int, key: str, order: int, item: Any) -> None:
        self._counter += 1
        heapq.heappush(self._heap, (at, cls, key, order, self._counter, item))

    def _handle_item(self, item: Any, t: datetime) -> None:
        if isinstance(item, _Inbound):
            env = item.envelope
            actions = self.engine.receive(env, t, item.topic_sender)
            self._handle(actions, t, topic=self.topics.msg(self.me, item.topic_sender))
        elif isinstance(item, Order):
            self._inject(item, t)
        elif isinstance(item, Draft):
            self.auto.clear_pending(item)
            if self.auto.still_wanted(item, self.engine.book.obligations):
                self._send_draft(item, t)

    def _inject(self, order: Order, t: datetime) -> None:
        log.info("inject", id=order.id, note=order.note)
        match order.action:
            case Detect() as detect:
                self._schedule(self.auto.detect(detect, t))
            case PolicyChange() as change:
                self.auto.policy = change.set.apply(self.auto.policy)
            case ScriptedMessage() as message:
                self._scripted(message, t)

    def _scripted(self, msg: ScriptedMessage, t: datetime) -> None:
        ref = self._last_from.get((msg.to, msg.in_reply_to)) if msg.in_reply_to else None
        view = self.auto.incidents.get(msg.incident or "")
        severity = msg.severity if msg.severity is not None else (view.severity if view else 0)
        body = body_from(msg.kind, msg.body, now=t)
        draft = Draft(
            t,
            msg.to,
            msg.kind,
            body,
            msg.incident,
            ref=ref,
            severity=severity,
            channel=msg.channel,
            reason="scripted",
            tlp=msg.tlp or Tlp.AMBER,
        )
        self._send_draft(draft, t)

    def _schedule(self, drafts: list[Draft]) -> None:
        for draft in drafts:
            self._push(draft.at, _DRAFT, "", 0, draft)

    def _handle(self, actions: list[Action], t: datetime, topic: str = "") -> None:
        for action in actions:
            match action:
                case Accepted(envelope=env):
                    self._last_from[(env.sender, env.kind)] = env.id
                case Rejected(reason=reason, detail=detail, envelope=env, reply_to=reply_to):
                    self._reject(reason, detail, env, topic, reply_to or "", t)
                case Duplicate(envelope=env):
                    self._obs(DuplicateObs(agency=self.me, at=t, message=env.id, sender=env.sender))
                case ObligationChanged(obligation=ob, status=status):
                    self._obs(ObligationObs(agency=self.me, at=t, status=status, obligation=ob))
                case AwaitingChanged(expectation=exp, status=status, late=late):
                    self._obs(AwaitingObs(agency=self.me, at=t, status=status, late=late, expectation=exp))
                case Retry(expectation=exp, attempt=attempt):
                    self._retry(exp.trigger, exp.id, attempt, t)
                case Escalate(expectation=exp, channel=channel):
                    self._obs(
                        EscalationObs(
                            agency=self.me,
                            at=t,
                            expectation=exp.id,
                            original=exp.trigger,
                            channel=channel,
                            why="no_answer",
                            incident=exp.incident,
                        )
                    )
                case Fallback(envelope=env, channel=channel):
                    self._obs(
                        EscalationObs(
                            agency=self.me,
                            at=t,
                            original=env.id,
                            channel=channel,
                            why="link_down",
                            incident=env.incident,
                        )
                    )
                case Violation(envelope=env, rule=rule, detail=detail):
                    self._obs(ViolationObs(agency=self.me, at=t, message=env.id, rule=rule, detail=detail))
            self._schedule(self.auto.react(action, t))

    def _reject(
        self,
        reason: RejectReason,
        detail: str,
        env: Envelope | None,
        topic: str,
        reply_to: str,
        t: datetime,
    ) -> None:
        self._obs(
            RejectedObs(
                agency=self.me,
                at=t,
                reason=reason,
                detail=detail,
                offending_id=env.id if env else None,
                topic=topic,
                published_as=reply_to or "?",
            )
        )
        if not reply_to or reply_to not in self.roster.agencies or reply_to == self.me:
            return
        if env is not None and env.kind is Kind.PROTOCOL_ERROR:
            return
        channel = None
        if env is not None and self.roster.has_link(env.channel, self.me, reply_to):
            channel = env.channel
        body = ProtocolErrorBody(offending_id=env.id if env else None, reason=reason, detail=detail[:2000])
        self._send_draft(
            Draft(
                t,
                reply_to,
                Kind.PROTOCOL_ERROR,
                body,
                env.incident if env else None,
                channel=channel,
                reason="protocol error",
            ),
            t,
        )

    def _retry(self, trigger: str, expectation: str, attempt: int, t: datetime) -> None:
        original = self._outbox.get(trigger)
        if original is None:
            return
        draft = Draft(
            t,
            original.recipient,
            original.kind,
            original.body,
            original.incident,
            ref=original.id,
            severity=original.severity,
            channel=original.channel,
            reason=f"retry {attempt}",
            tlp=original.tlp,
        )
        env = self._send_draft(draft, t)
        if env is not None:
            self._obs(RetryObs(agency=self.me, at=t, expectation=expectation, attempt=attempt, message=env.id))

    def _send_draft(self, draft: Draft, t: datetime) -> Envelope | None:
        key: LinkKey | None = None
        if draft.channel is not None and self.roster.has_link(draft.channel, self.me, draft.to):
            key = LinkKey.of(draft.channel, self.me, draft.to)
        else:
            # No such link under this agreement (a scenario run with --protocol): any link
            # between the two that carries the kind, else the domestic chain carries it.
            key = self.roster.route(self.me, draft.to, draft.kind)
        if key is None and draft.incident is not None and draft.kind is not Kind.PROTOCOL_ERROR:
            rerouted = self.auto.reroute(draft, t)
            if rerouted:
                self._obs(
                    EscalationObs(
                        agency=self.me,
                        at=t,
                        original=f"{draft.kind.value}→{draft.to}",
                        channel=None,
                        why="no_route",
                        incident=draft.incident,
                    )
                )
                self._schedule(rerouted)
                return None
        if key is None:
            self._obs(
                BlockedObs(
                    agency=self.me,
                    at=t,
                    kind=draft.kind,
                    recipient=draft.to,
                    reason=RejectReason.NO_LINK,
                    incident=draft.incident,
                    detail=f"no link from {self.me} to {draft.to} that carries {draft.kind.value}",
                )
            )
            return None
        env = Envelope(
            id=f"{self.me}-{self.seq + 1}",
            exercise=self.topics.exercise,
            sender=self.me,
            recipient=draft.to,
            channel=key.channel,
            incident=draft.incident,
            ref=draft.ref,
            seq=self.seq + 1,
            sent_at=t,
            severity=draft.severity,
            tlp=draft.tlp,
            body=draft.body,
        )
        try:
            self.engine.check_send(env)
        except LocalProtocolError as exc:
            log.warning(
                "blocked_own_message", kind=draft.kind.value, to=draft.to, reason=exc.reason.value, detail=exc.detail
            )
            self._obs(
                BlockedObs(
                    agency=self.me,
                    at=t,
                    kind=draft.kind,
                    recipient=draft.to,
                    reason=exc.reason,
                    detail=exc.detail,
                    incident=draft.incident,
                )
            )
            return None
        self.seq += 1
        condition = self.links.get(key)
        if condition is None:  # the scenario changed under us; treat as down
            condition = Condition(up=False, latency=timedelta(minutes=1))
        decision = decide(condition, self._link_rng)
        if decision.fate is not Fate.DELIVERED:
            self._obs(
                LinkObs(
                    agency=self.me,
                    at=t,
                    fate=decision.fate,
                    message=env.id,
                    channel=key.channel,
                    recipient=draft.to,
                    kind=draft.kind,
                    incident=draft.incident,
                )
            )
        if decision.fate is Fate.REFUSED:
            self._handle(self.engine.refused(env, t), t)
            return env
        wire = env.model_copy(update={"arrives_at": t + decision.latency})
        for _ in range(decision.copies):
            self._publish(Publish(self.topics.msg(draft.to, self.me), encode(wire)))
            self.sent_to[draft.to] += 1
        if self.roster.agreement.rule(env.kind) is not None:
            self._outbox[env.id] = env
        self._handle(self.engine.sent(wire, t, 2 * decision.latency), t)
        self._schedule(self.auto.note_sent(wire))
        return wire

    # -- output -------------------------------------------------------------------------------

    def _obs(self, obs: BaseModel) -> None:
        self._obs_n += 1
        stamped = obs.model_copy(update={"seq": self.seq, "n": self._obs_n})
        self._publish(Publish(self.topics.obs(self.me), encode_obs(stamped)))

    def _publish(self, publish: Publish) -> None:
        self.published += 1
        self._out.append(publish)

    def _flush(self) -> list[Publish]:
        out, self._out = self._out, []
        return out


def _rng_state(value: Any) -> tuple[Any, ...]:
    """random.Random.getstate() after a JSON round trip (lists back to tuples)."""
    version, internal, gauss = value
    return (version, tuple(internal), gauss)
