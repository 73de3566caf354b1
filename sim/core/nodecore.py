"""The deterministic heart of an agency node: protocol engine + automation + link layer.

:class:`NodeCore` does no I/O. Bytes and injects go in; ``Publish`` records come out for the
shell (:mod:`sim.runtime.node`) to put on the broker. Everything due at one sim time is handled in a
canonical order — messages by (sender, seq), then injects, then the agency's own scheduled
actions, then protocol deadlines — so a run is a pure function of the scenario and seed.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog

from sim.core import nodedrafts, observing
from sim.core.agenda import Agenda, Inbound, Item, Slot
from sim.core.automation import Automaton
from sim.core.automation.drafts import Draft
from sim.core.ledger import Ledger
from sim.core.linktable import Decision, LinkTable, decide
from sim.core.nodestate import HeapEntry, NodeState, rng_state
from sim.core.observing import observation_of
from sim.core.protocol import Accepted, Action, Engine, Rejected, Retry
from sim.core.rejections import Rejections
from sim.core.rng import stream
from sim.core.roster import Roster
from sim.model.control import InjectOrder, LinksState, Order, RoundReport
from sim.model.errors import LocalProtocolError, MalformedMessage
from sim.model.injects import Detect, PolicyChange, ScriptedMessage
from sim.model.links import Condition, Fate, LinkKey
from sim.model.messages import Envelope, Kind, RejectReason, decode_envelope, encode
from sim.model.observations import LinkObs, Observation, RetryObs, encode_obs
from sim.model.policy import Policy
from sim.model.topics import Publish, Topics

__all__ = ["NodeCore", "NodeState"]

log = structlog.get_logger("hotline.node")


class NodeCore:
    def __init__(self, roster: Roster, agency: str, exercise: str, seed: int, policy: Policy) -> None:
        self.roster = roster
        self.me = agency
        self.topics = Topics(exercise)
        self.engine = Engine(roster, agency, exercise)
        self.auto = Automaton(roster, agency, policy, stream(seed, "policy", agency))
        self._link_rng = stream(seed, "links", agency)
        self.links = LinkTable(roster.latency)
        self._agenda = Agenda()
        self.seq = 0
        self.now: datetime | None = None
        self._outbox: dict[str, Envelope] = {}
        self._last_from: dict[tuple[str, Kind], str] = {}
        self._out: list[Publish] = []
        self.ledger = Ledger()
        self.rejections = Rejections()
        self.published = 0
        #: Rises with every change worth saving (a crash-recovery file need not be rewritten
        #: for input that was only counted).
        self.version = 0
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
            env = decode_envelope(payload)  # the admission step: nothing else looks at it before
        except MalformedMessage as exc:
            self._reject(exc.reason, exc.detail, None, topic, topic_sender, now, event="rejected_payload")
            return self._flush()
        screened = self.engine.screen(env, topic_sender)
        if screened is not None:
            self._handle([screened], now, topic=topic)
            return self._flush()
        self.ledger.received(env, topic_sender)
        self.version += 1
        when = max(env.arrives_at or now, now)
        self._agenda.push(when, Slot.MESSAGE, env.sender, env.seq, Inbound(env, topic_sender))
        return self._flush()

    def flush_rejections(self, t: datetime) -> list[Publish]:
        """At the end: every rejection only counted so far, observed (one record per sender and
        reason)."""
        for sender, reason, n in self.rejections.flush():
            detail = f"{n} more input(s) from {sender} rejected as {reason.value}, not observed one by one"
            topic = self.topics.msg(self.me, sender)
            self._obs(
                observing.rejected(
                    self.me, t, reason, detail, offending_id=None, topic=topic, published_as=sender, suppressed=n - 1
                )
            )
        return self._flush()

    def on_inject(self, order: InjectOrder) -> None:
        self.injects = max(self.injects, order.seq)
        self._agenda.push(order.at, Slot.INJECT, "", order.seq, order)

    def on_links(self, state: LinksState) -> None:
        self.links = LinkTable.from_rows(list(state.links))

    # -- time ---------------------------------------------------------------------------------

    def next_due(self) -> datetime | None:
        times = [t for t in (self._agenda.next_time(), self.engine.next_deadline()) if t is not None]
        return min(times, default=None)

    def run_until(self, until: datetime, *, late: bool = False) -> list[Publish]:
        """Handle everything due at or before ``until``, in canonical order.

        Each event is handled at its own sim time (fast mode, deterministic). With ``late``
        (realtime) it is handled *now*, at ``until``: what fell due while this node was paused
        or down is done when it can be done, and stamped so."""
        while True:
            heap_t = self._agenda.next_time()
            dead_t = self.engine.next_deadline()
            candidates = [t for t in (heap_t, dead_t) if t is not None]
            if not candidates or min(candidates) > until:
                break
            t = min(candidates)
            when = until if late else t
            self.now = when
            if heap_t is not None and heap_t == t:
                self._handle_item(self._agenda.pop().item, when)
            else:
                self._handle(self.engine.advance(t), when)
        self.now = until if self.now is None or until > self.now else self.now
        return self._flush()

    # -- persistence ----------------------------------------------------------------------------

    def snapshot(self, run: str, session: int) -> NodeState:
        return NodeState(
            agency=self.me,
            run=run,
            session=session,
            now=self.now,
            seq=self.seq,
            counter=self._agenda.counter,
            obs_n=self._obs_n,
            published=self.published,
            injects=self.injects,
            **self.ledger.state(),
            book=self.engine.book,
            automaton=self.auto.state(),
            heap=[HeapEntry.of(due) for due in self._agenda.entries()],
            outbox=self._outbox,
            last_from=[(s, k, i) for (s, k), i in sorted(self._last_from.items())],
            links=self.links.rows(),
            rng_policy=self.auto.rng.getstate(),
            rng_links=self._link_rng.getstate(),
        )

    def restore(self, state: NodeState) -> None:
        self.now = state.now
        self.seq, self._obs_n = state.seq, state.obs_n
        self.published, self.injects = state.published, state.injects
        self.ledger.restore(state.sent_to, state.received_from, state.sent_ids, state.received_ids)
        self.engine.book = state.book
        self.auto.restore(state.automaton)
        self._agenda.load([e.due() for e in state.heap], state.counter)
        self._outbox = dict(state.outbox)
        self._last_from = {(s, k): i for s, k, i in state.last_from}
        self.links = LinkTable.from_rows(state.links)
        self.auto.rng.setstate(rng_state(state.rng_policy))
        self._link_rng.setstate(rng_state(state.rng_links))

    def report(self, round_no: int, *, final: bool = False) -> RoundReport:
        return RoundReport(
            agency=self.me,
            round=round_no,
            final=final,
            next_due=self.next_due(),
            published=self.published,
            injects=self.injects,
            **self.ledger.account(final=final),
        )

    # -- handling -----------------------------------------------------------------------------

    def _handle_item(self, item: Item, t: datetime) -> None:
        match item:
            case Inbound(envelope=env, topic_sender=sender):
                actions = self.engine.receive(env, t, sender)
                self._handle(actions, t, topic=self.topics.msg(self.me, sender))
            case Draft():
                self.auto.clear_pending(item)
                if self.auto.still_wanted(item, self.engine.book.obligations):
                    self._send_draft(item, t)
            case _:
                self._inject(item, t)

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
        self._send_draft(nodedrafts.scripted(msg, ref, severity, t), t)

    def _schedule(self, drafts: list[Draft]) -> None:
        for draft in drafts:
            self._agenda.push(draft.at, Slot.DRAFT, "", 0, draft)

    def _handle(self, actions: list[Action], t: datetime, topic: str = "") -> None:
        """Act on the engine's actions (or report them), and schedule what the automaton drafts."""
        for action in actions:
            match action:
                case Accepted(envelope=env):
                    self._last_from[(env.sender, env.kind)] = env.id
                case Rejected(reason=reason, detail=detail, envelope=env, reply_to=reply_to):
                    self._reject(reason, detail, env, topic, reply_to or "", t)
                case Retry(expectation=exp, attempt=attempt):
                    self._retry(exp.trigger, exp.id, attempt, t)
                case _:
                    obs = observation_of(action, self.me, t)
                    if obs is not None:
                        self._obs(obs)
            self._schedule(self.auto.react(action, t))

    def _reject(
        self,
        reason: RejectReason,
        detail: str,
        env: Envelope | None,
        topic: str,
        reply_to: str,
        t: datetime,
        *,
        event: str = "rejected_message",
    ) -> None:
        """Observe a rejection and answer it with a PROTOCOL_ERROR — at a bounded rate per sender
        (:mod:`sim.core.rejections`): past it, the rejection is only counted."""
        sender = reply_to if reply_to in self.roster.agencies else "?"
        stands_for = self.rejections.take(sender, reason, t)
        if stands_for is None:
            return
        log.warning(event, reason=reason.value, detail=detail[:300], topic=topic[:200], suppressed=stands_for)
        offending = env.id if env else None
        self._obs(
            observing.rejected(
                self.me,
                t,
                reason,
                detail,
                offending_id=offending,
                topic=topic,
                published_as=reply_to or "?",
                suppressed=stands_for,
            )
        )
        if not reply_to or reply_to not in self.roster.agencies or reply_to == self.me:
            return
        if env is not None and env.kind is Kind.PROTOCOL_ERROR:
            return
        channel = None
        if env is not None and self.roster.has_link(env.channel, self.me, reply_to):
            channel = env.channel
        self._send_draft(nodedrafts.protocol_error(reason, detail, env, reply_to, channel, t), t)

    def _retry(self, trigger: str, expectation: str, attempt: int, t: datetime) -> None:
        original = self._outbox.get(trigger)
        if original is None:
            return
        env = self._send_draft(nodedrafts.retry(original, attempt, t), t)
        if env is not None:
            self._obs(RetryObs(agency=self.me, at=t, expectation=expectation, attempt=attempt, message=env.id))

    def _send_draft(self, draft: Draft, t: datetime) -> Envelope | None:
        """Route, build, check and transmit one message; the envelope if it was sent (or refused
        by a down link), None if it never left (rerouted or blocked)."""
        key = self._route(draft, t)
        if key is None:
            return None
        env = self._envelope(draft, key, t)
        if not self._may_send(env, t):
            return None
        self.seq += 1
        return self._transmit(env, key, t)

    def _route(self, draft: Draft, t: datetime) -> LinkKey | None:
        """The link the draft goes on; None when it cannot go from here (it is handed to an
        agency of our state that can, or blocked: both observed)."""
        key = self._link_for(draft)
        if key is not None:
            return key
        if draft.incident is not None and draft.kind is not Kind.PROTOCOL_ERROR:
            rerouted = self.auto.reroute(draft, t)
            if rerouted:
                self._obs(observing.no_route(self.me, t, draft))
                self._schedule(rerouted)
                return None
        detail = f"no link from {self.me} to {draft.to} that carries {draft.kind.value}"
        self._obs(observing.blocked(self.me, t, draft.kind, draft.to, RejectReason.NO_LINK, detail, draft.incident))
        return None

    def _link_for(self, draft: Draft) -> LinkKey | None:
        if draft.channel is not None and self.roster.has_link(draft.channel, self.me, draft.to):
            return LinkKey.of(draft.channel, self.me, draft.to)
        # No such link under this agreement (a scenario run with --protocol): any link
        # between the two that carries the kind, else the domestic chain carries it.
        return self.roster.route(self.me, draft.to, draft.kind)

    def _envelope(self, draft: Draft, key: LinkKey, t: datetime) -> Envelope:
        """The draft as our next message on ``key`` (its number is taken only once it is sent)."""
        return Envelope(
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

    def _may_send(self, env: Envelope, t: datetime) -> bool:
        """Whether the agreement allows the message; a blocked one is observed."""
        try:
            self.engine.check_send(env)
        except LocalProtocolError as exc:
            log.warning(
                "blocked_own_message", kind=env.kind.value, to=env.recipient, reason=exc.reason.value, detail=exc.detail
            )
            self._obs(observing.blocked(self.me, t, env.kind, env.recipient, exc.reason, exc.detail, env.incident))
            return False
        return True

    def _transmit(self, env: Envelope, key: LinkKey, t: datetime) -> Envelope:
        """Put the message on its link, which delivers, duplicates, loses or refuses it; what
        left is kept for retries and told to the engine and the automaton."""
        decision = self._decide(key)
        if decision.fate is not Fate.DELIVERED:
            self._obs(
                LinkObs(
                    agency=self.me,
                    at=t,
                    fate=decision.fate,
                    message=env.id,
                    channel=key.channel,
                    recipient=env.recipient,
                    kind=env.kind,
                    incident=env.incident,
                )
            )
        if decision.fate is Fate.REFUSED:
            self._handle(self.engine.refused(env, t), t)
            return env
        wire = env.model_copy(update={"arrives_at": t + decision.latency})
        for _ in range(decision.copies):
            self._publish(Publish(self.topics.msg(env.recipient, self.me), encode(wire)))
        self.ledger.sent(wire, decision.copies)
        if self.roster.agreement.rule(env.kind) is not None:
            self._outbox[env.id] = env  # kept for retries
        self._handle(self.engine.sent(wire, t, 2 * decision.latency), t)
        self._schedule(self.auto.note_sent(wire))
        return wire

    def _decide(self, key: LinkKey) -> Decision:
        condition = self.links.get(key)
        if condition is None:  # the scenario changed under us; treat as down
            condition = Condition(up=False, latency=timedelta(minutes=1))
        return decide(condition, self._link_rng)

    # -- output -------------------------------------------------------------------------------

    def _obs(self, obs: Observation) -> None:
        self._obs_n += 1
        stamped = obs.model_copy(update={"seq": self.seq, "n": self._obs_n})
        self._publish(Publish(self.topics.obs(self.me), encode_obs(stamped)))

    def _publish(self, publish: Publish) -> None:
        self.published += 1
        self.version += 1
        self._out.append(publish)

    def _flush(self) -> list[Publish]:
        out, self._out = self._out, []
        return out
