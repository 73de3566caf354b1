"""The protocol :class:`Engine` of one agency: inbound (screen, receive), outbound
(check_send, sent, refused) and time (next_deadline, advance), over a :class:`Book`."""

from __future__ import annotations

from datetime import datetime, timedelta

from sim.core.protocol.actions import (
    Accepted,
    Action,
    AwaitingChanged,
    Duplicate,
    Escalate,
    Fallback,
    ObligationChanged,
    Rejected,
    Retry,
    Violation,
)
from sim.core.protocol.screen import identity_problem
from sim.core.roster import Roster
from sim.model.agreement import Agreement, Rule
from sim.model.errors import LocalProtocolError
from sim.model.messages import Envelope, Kind, PreNotify, RejectReason, RequestInfo
from sim.model.obligations import Awaiting, Book, Obligation, Sent, Status

#: Kinds that must name the incident they are about.
INCIDENT_KINDS = frozenset(
    {
        Kind.EARLY_WARNING,
        Kind.INCIDENT_UPDATE,
        Kind.REQUEST_INFO,
        Kind.PROVIDE_INFO,
        Kind.REQUEST_ASSIST,
        Kind.ASSIST_REPLY,
        Kind.CONSULT_REQUEST,
        Kind.WARNING,
        Kind.STAND_DOWN,
        Kind.REFERRAL,
    }
)


class Engine:
    def __init__(self, roster: Roster, me: str, exercise: str, book: Book | None = None) -> None:
        self.roster = roster
        self.agreement: Agreement = roster.agreement
        self.me = me
        self.exercise = exercise
        self.book = book or Book()
        self._answer_kinds = self.agreement.answer_kinds()

    # inbound ------------------------------------------------------------------------------

    def screen(self, env: Envelope, topic_sender: str) -> Rejected | None:
        """Checks that need no sim time, made the moment a payload comes off the wire:
        right exercise, right recipient, a known sender that matches the topic."""
        return self._rejected(env, topic_sender, self._identity_problem(env, topic_sender))

    def receive(self, env: Envelope, now: datetime, topic_sender: str) -> list[Action]:
        """A message addressed to us arrived (``now`` is its simulated arrival)."""
        problem = self._identity_problem(env, topic_sender) or self._protocol_problem(env)
        rejected = self._rejected(env, topic_sender, problem)
        if rejected is not None:
            return [rejected]
        if self.book.received.get(env.id) == env.sender:  # identity is (sender, id)
            return [Duplicate(env)]
        self.book.received[env.id] = env.sender
        actions: list[Action] = []
        repeat = self._repeat_target(env)
        actions.append(Accepted(env, repeat))
        actions.extend(self._answers_expectation(env, now))
        if env.kind is Kind.STAND_DOWN:
            # They closed the matter: nothing is owed either way on it any more.
            actions.extend(self._cancel_obligations(env.sender, env.incident, now))
            actions.extend(self._cancel_expectations(env.sender, env.incident, now))
        if repeat is None:
            actions.extend(self._open_obligation(env, now))
        return actions

    def _rejected(self, env: Envelope, topic_sender: str, problem: tuple[RejectReason, str] | None) -> Rejected | None:
        if problem is None:
            return None
        reason, detail = problem
        reply = topic_sender if topic_sender in self.roster.agencies else None
        if env.kind is Kind.PROTOCOL_ERROR:
            reply = None  # never answer an error with an error
        return Rejected(reason, detail, env, reply)

    def _identity_problem(self, env: Envelope, topic_sender: str) -> tuple[RejectReason, str] | None:
        return identity_problem(
            env,
            publisher=topic_sender,
            recipient=self.me,
            exercise=self.exercise,
            agencies=self.roster.agencies,
            window=self.roster.window,
        )

    def _protocol_problem(self, env: Envelope) -> tuple[RejectReason, str] | None:
        """What the agreement says against a message between us and ``other`` — the same rules
        whichever way it travels; only what its ``ref`` may name depends on the direction."""
        inbound = env.recipient == self.me
        other = env.sender if inbound else env.recipient
        channel = self.agreement.channel(env.channel)
        if channel is None:
            return RejectReason.UNKNOWN_CHANNEL, f"{self.agreement.id} has no channel {env.channel!r}"
        if not self.roster.has_link(env.channel, other, self.me):
            return RejectReason.NO_LINK, f"no {env.channel} link between {other} and {self.me}"
        if env.kind not in channel.kinds:
            return (
                RejectReason.KIND_NOT_ALLOWED,
                f"{env.kind.value} may not travel on {env.channel} under {self.agreement.id}",
            )
        if env.kind in INCIDENT_KINDS and env.incident is None:
            return RejectReason.MISSING_INCIDENT, f"{env.kind.value} must name its incident"
        if env.kind in self._answer_kinds:
            if env.ref is None:
                return RejectReason.MISSING_REF, f"{env.kind.value} must name the message it answers (ref)"
            if inbound:
                sent = self.book.sent.get(env.ref)
                if sent is None or sent.recipient != other:
                    return RejectReason.UNKNOWN_REF, f"{env.ref!r} is not a message we sent to {other}"
            elif self.book.received.get(env.ref) != other:
                return RejectReason.UNKNOWN_REF, f"{env.ref!r} is not a message {other} sent us"
        return None

    def _repeat_target(self, env: Envelope) -> Obligation | None:
        """A retry names its original in ``ref`` and has the same kind."""
        if env.ref is None or env.kind in self._answer_kinds:
            return None
        for ob in self.book.obligations.values():
            if (
                ob.rule == "answer"
                and ob.counterparty == env.sender
                and ob.trigger_kind == env.kind
                and ob.answers_to(env.ref)
            ):
                ob.aliases.append(env.id)
                return ob
        return None

    def _answers_expectation(self, env: Envelope, now: datetime) -> list[Action]:
        actions: list[Action] = []
        for exp in self.book.expectations.values():
            if exp.counterparty != env.sender or env.ref not in exp.sent_ids:
                continue
            if env.kind not in exp.kinds:
                continue
            if exp.status is Status.OPEN:
                exp.status, exp.closed_at, exp.met_by = Status.MET, now, env.id
                actions.append(AwaitingChanged(exp, Status.MET))
            elif exp.status is Status.MISSED and exp.met_by is None:
                exp.met_by = env.id
                actions.append(AwaitingChanged(exp, Status.MET, late=True))
        return actions

    def _rule_for(self, env: Envelope) -> Rule | None:
        """The agreement governs traffic between states; the domestic chain is not bound by it."""
        channel = self.agreement.channel(env.channel)
        if channel is None or channel.scope == "domestic":
            return None
        return self.agreement.rule(env.kind)

    def _answer_within(self, env: Envelope) -> timedelta:
        """How long the recipient of ``env`` has to answer it (urgent requests: less)."""
        urgent = isinstance(env.body, RequestInfo) and env.body.urgent
        within = self.agreement.answer_deadline(env.kind, urgent=urgent)
        assert within is not None
        return within

    def _open_obligation(self, env: Envelope, now: datetime) -> list[Action]:
        rule = self._rule_for(env)
        if rule is None or rule.answer is None:
            return []
        within = self._answer_within(env)
        ob = Obligation(
            id=f"{env.id}#answer",
            rule="answer",
            owner=self.me,
            counterparty=env.sender,
            incident=env.incident,
            trigger=env.id,
            trigger_kind=env.kind,
            kinds=rule.answer.kinds,
            channel=env.channel,
            opened_at=now,
            due_at=now + within,
        )
        self.book.obligations[ob.id] = ob
        return [ObligationChanged(ob, Status.OPEN)]

    def _cancel_obligations(self, party: str, incident: str | None, now: datetime) -> list[Action]:
        actions: list[Action] = []
        for ob in self.book.obligations.values():
            if ob.status is Status.OPEN and ob.counterparty == party and ob.incident == incident:
                ob.status, ob.closed_at = Status.CANCELLED, now
                actions.append(ObligationChanged(ob, Status.CANCELLED))
        return actions

    # outbound -----------------------------------------------------------------------------

    def check_send(self, env: Envelope) -> None:
        """Raise :class:`LocalProtocolError` if the agreement does not allow this message."""
        if env.sender != self.me:
            raise LocalProtocolError(reason=RejectReason.SENDER_MISMATCH, detail=f"we are {self.me}")
        if env.exercise != self.exercise:
            raise LocalProtocolError(reason=RejectReason.WRONG_EXERCISE, detail=f"this is {self.exercise}")
        problem = self._protocol_problem(env)
        if problem is not None:
            raise LocalProtocolError(reason=problem[0], detail=problem[1])

    def sent(self, env: Envelope, now: datetime, round_trip: timedelta) -> list[Action]:
        """The link layer took the message (delivered, duplicated or lost in transit)."""
        self.book.sent[env.id] = Sent(
            recipient=env.recipient, kind=env.kind, incident=env.incident, channel=env.channel
        )
        actions = self._meet_obligations(env, now)
        if env.kind is Kind.STAND_DOWN:
            actions.extend(self._cancel_expectations(env.recipient, env.incident, now))
        retry_of = self._retry_of(env)
        if retry_of is not None:
            retry_of.sent_ids.append(env.id)
            return actions
        rule = self._rule_for(env)
        if rule is not None:
            actions.extend(self._await_answer(env, rule, now, round_trip))
            actions.extend(self._owe_follow_up(env, rule, now))
            actions.extend(self._check_lead(env, rule, now))
        return actions

    def _meet_obligations(self, env: Envelope, now: datetime) -> list[Action]:
        """Our message meets what we owed its recipient: the answer it refers to, or a
        follow-up on its incident."""
        actions: list[Action] = []
        for ob in self.book.obligations.values():
            if ob.status is not Status.OPEN or ob.counterparty != env.recipient or env.kind not in ob.kinds:
                continue
            if ob.answers_to(env.ref) or (ob.rule == "follow_up" and ob.incident == env.incident):
                ob.status, ob.closed_at, ob.met_by = Status.MET, now, env.id
                actions.append(ObligationChanged(ob, Status.MET))
        return actions

    def _await_answer(self, env: Envelope, rule: Rule, now: datetime, round_trip: timedelta) -> list[Action]:
        """The recipient owes us an answer: wait for it until the deadline plus the round trip."""
        if rule.answer is None:
            return []
        within = self._answer_within(env)
        exp = Awaiting(
            id=f"{env.id}#expect",
            waiting=self.me,
            counterparty=env.recipient,
            incident=env.incident,
            trigger=env.id,
            trigger_kind=env.kind,
            kinds=rule.answer.kinds,
            channel=env.channel,
            opened_at=now,
            within=within,
            round_trip=round_trip,
            check_at=now + within + round_trip,
            sent_ids=[env.id],
        )
        self.book.expectations[exp.id] = exp
        return [AwaitingChanged(exp, Status.OPEN)]

    def _owe_follow_up(self, env: Envelope, rule: Rule, now: datetime) -> list[Action]:
        """What we raised, we keep the recipient informed of — one open follow-up at a time."""
        if rule.follow_up is None or env.incident is None:
            return []
        ob = Obligation(
            id=f"{env.id}#follow_up",
            rule="follow_up",
            owner=self.me,
            counterparty=env.recipient,
            incident=env.incident,
            trigger=env.id,
            trigger_kind=env.kind,
            kinds=rule.follow_up.kinds,
            channel=env.channel,
            opened_at=now,
            due_at=now + rule.follow_up.within,
        )
        if any(_same_follow_up(o, ob) for o in self.book.obligations.values()):
            return []
        self.book.obligations[ob.id] = ob
        return [ObligationChanged(ob, Status.OPEN)]

    def _check_lead(self, env: Envelope, rule: Rule, now: datetime) -> list[Action]:
        """A pre-notification must go out the agreed lead time ahead of its window."""
        if rule.min_lead is None or not isinstance(env.body, PreNotify):
            return []
        lead = env.body.window_start - now
        if lead < rule.min_lead:
            return [Violation(env, "min_lead", f"sent {lead} ahead; the agreement asks {rule.min_lead}")]
        return []

    def _retry_of(self, env: Envelope) -> Awaiting | None:
        if env.ref is None:
            return None
        exp = self.book.expectations.get(f"{env.ref}#expect")
        if exp and exp.trigger_kind == env.kind and exp.counterparty == env.recipient:
            return exp
        return None

    def _cancel_expectations(self, party: str, incident: str | None, now: datetime) -> list[Action]:
        actions: list[Action] = []
        for exp in self.book.expectations.values():
            if exp.status is Status.OPEN and exp.counterparty == party and exp.incident == incident:
                exp.status, exp.closed_at = Status.CANCELLED, now
                actions.append(AwaitingChanged(exp, Status.CANCELLED))
        return actions

    def refused(self, env: Envelope, now: datetime) -> list[Action]:
        """The link is down: the message did not leave. A refused retry ends the waiting.
        Answers and protocol errors are not carried on a fallback: their ``ref`` means nothing to
        anyone but the original recipient."""
        if env.kind in self._answer_kinds or env.kind is Kind.PROTOCOL_ERROR:
            return []
        channel = self.agreement.channel(env.channel)
        fallback = channel.fallback if channel else None
        exp = self._retry_of(env)
        if exp is not None and exp.status is Status.OPEN:
            exp.status, exp.closed_at = Status.MISSED, now
            return [AwaitingChanged(exp, Status.MISSED), Escalate(exp, fallback)]
        return [Fallback(env, fallback)]

    # time ---------------------------------------------------------------------------------

    def next_deadline(self) -> datetime | None:
        times = [o.due_at for o in self.book.obligations.values() if o.status is Status.OPEN]
        times += [e.check_at for e in self.book.expectations.values() if e.status is Status.OPEN]
        return min(times, default=None)

    def advance(self, now: datetime) -> list[Action]:
        """Fire every deadline at or before ``now``, earliest first (ties by id)."""
        actions: list[Action] = []
        for when, item in self._due(now):
            if isinstance(item, Obligation):
                item.status, item.closed_at = Status.MISSED, when
                actions.append(ObligationChanged(item, Status.MISSED))
            else:
                actions.extend(self._unanswered(item, when))
        return actions

    def _due(self, now: datetime) -> list[tuple[datetime, Obligation | Awaiting]]:
        """Open obligations and expectations whose time has come, earliest first (ties by id)."""
        due: list[tuple[datetime, str, Obligation | Awaiting]] = []
        due += [
            (o.due_at, o.id, o) for o in self.book.obligations.values() if o.status is Status.OPEN and o.due_at <= now
        ]
        due += [
            (e.check_at, e.id, e)
            for e in self.book.expectations.values()
            if e.status is Status.OPEN and e.check_at <= now
        ]
        return [(when, item) for when, _, item in sorted(due, key=lambda d: (d[0], d[1]))]

    def _unanswered(self, exp: Awaiting, when: datetime) -> list[Action]:
        """No answer by ``check_at``: retry as often as the agreement says, then give up and
        escalate to the channel's fallback when it says so."""
        rule = self.agreement.rule(exp.trigger_kind)
        on_missed = rule.on_missed if rule else None
        if on_missed is not None and exp.retries < on_missed.retry:
            exp.retries += 1
            wait = on_missed.retry_within or exp.within
            exp.check_at = when + wait + exp.round_trip
            return [Retry(exp, exp.retries)]
        exp.status, exp.closed_at = Status.MISSED, when
        actions: list[Action] = [AwaitingChanged(exp, Status.MISSED)]
        if on_missed is not None and on_missed.then == "escalate":
            channel = self.agreement.channel(exp.channel)
            actions.append(Escalate(exp, channel.fallback if channel else None))
        return actions


def _same_follow_up(ob: Obligation, new: Obligation) -> bool:
    """``ob`` is an open follow-up of the same kind of matter to the same party as ``new``."""
    return (
        ob.rule == "follow_up"
        and ob.status is Status.OPEN
        and ob.counterparty == new.counterparty
        and ob.incident == new.incident
        and ob.trigger_kind == new.trigger_kind
    )
