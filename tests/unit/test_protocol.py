"""The protocol Engine (h11-style): every rejection, every obligation path, two peers wired
together in memory. Time only moves when a test says so."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from sim.core.protocol import (
    Accepted,
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
from sim.model.admission import Refusal
from sim.model.errors import LocalProtocolError
from sim.model.messages import Ack, Envelope, Kind, Position, PreNotify, ProvideInfo, RejectReason, RequestInfo
from sim.model.obligations import Awaiting, Book, Obligation, Status

from .factories import (
    EXERCISE,
    INCIDENT,
    T0,
    Peer,
    envelope,
    hours,
    minutes,
    of_type,
    peers,
    roster,
)

LATENCY = minutes(2)  # the cert link of the factory scenario
ACK_WITHIN = hours(1)  # bilateral-2013: EARLY_WARNING answered by ACK within 1 h


def _engine(me: str = "bb-cert", protocol: str = "bilateral-2013") -> Engine:
    return Engine(roster(protocol), me, EXERCISE)


def _only(actions: list[Any], cls: type[Any]) -> Any:
    found = of_type(actions, cls)
    assert len(found) == 1, actions
    return found[0]


def _obligation(actions: list[Any], status: Status) -> Obligation:
    changes = [a for a in of_type(actions, ObligationChanged) if a.status is status]
    assert len(changes) == 1, actions
    ob: Obligation = changes[0].obligation
    return ob


def _expectation(actions: list[Any], status: Status) -> AwaitingChanged:
    changes = [a for a in of_type(actions, AwaitingChanged) if a.status is status]
    assert len(changes) == 1, actions
    change: AwaitingChanged = changes[0]
    return change


def _ack(peer: Peer, trigger: Envelope, now: Any) -> tuple[Envelope, list[Any]]:
    return peer.send(Ack(received_at=now), trigger.sender, now, channel=trigger.channel, ref=trigger.id)


# -- rejections --------------------------------------------------------------------------------

REJECTIONS: list[tuple[RejectReason, dict[str, Any], str | None, str | None]] = [
    # (reason, envelope overrides, topic sender (None: the payload's), expected reply_to)
    (RejectReason.WRONG_EXERCISE, {"exercise": "other-exercise"}, None, "aa-cert"),
    (RejectReason.SENDER_MISMATCH, {}, "aa-nrrc", "aa-nrrc"),
    (RejectReason.WRONG_RECIPIENT, {"recipient": "bb-nrrc"}, None, "aa-cert"),
    (RejectReason.UNKNOWN_SENDER, {"sender": "zz-cert"}, None, None),
    (RejectReason.UNKNOWN_CHANNEL, {"channel": "pigeon"}, None, "aa-cert"),
    (RejectReason.NO_LINK, {"channel": "nrrc"}, None, "aa-cert"),
    (RejectReason.NO_LINK, {"channel": "domestic"}, None, "aa-cert"),
    (RejectReason.KIND_NOT_ALLOWED, {"body": Kind.WARNING}, None, "aa-cert"),
    (RejectReason.KIND_NOT_ALLOWED, {"body": Kind.REFERRAL}, None, "aa-cert"),
    (RejectReason.MISSING_REF, {"body": Kind.ACK}, None, "aa-cert"),
    (RejectReason.MISSING_REF, {"body": Kind.PROVIDE_INFO}, None, "aa-cert"),
    (RejectReason.UNKNOWN_REF, {"body": Kind.ACK, "ref": "bb-cert-99"}, None, "aa-cert"),
    (RejectReason.MISSING_INCIDENT, {"incident": None}, None, "aa-cert"),
    (RejectReason.MISSING_INCIDENT, {"incident": None, "body": Kind.STAND_DOWN}, None, "aa-cert"),
    # an id in another agency's namespace would pre-empt that agency's real message (issue 11.3)
    (RejectReason.FOREIGN_ID, {"msg_id": "bb-nrrc-5"}, None, "aa-cert"),
    # times outside the exercise: sent before it began, or sitting on the link for a year (issue 11.8)
    (RejectReason.BAD_TIME, {"sent_at": T0 - timedelta(days=40)}, None, "aa-cert"),
    (RejectReason.BAD_TIME, {"arrives_at": T0 + timedelta(days=365)}, None, "aa-cert"),
]


@pytest.mark.parametrize(
    ("reason", "overrides", "topic_sender", "reply_to"),
    REJECTIONS,
    ids=[f"{r[0].value}-{i}" for i, r in enumerate(REJECTIONS)],
)
def test_every_rejection_reason(
    reason: RejectReason, overrides: dict[str, Any], topic_sender: str | None, reply_to: str | None
) -> None:
    engine = _engine("bb-cert")
    body = overrides.pop("body", Kind.EARLY_WARNING)
    env = envelope(body, **overrides)
    actions = engine.receive(env, T0 + LATENCY, topic_sender or env.sender)
    assert len(actions) == 1
    rejected = actions[0]
    assert isinstance(rejected, Rejected)
    assert rejected.reason is reason
    assert rejected.envelope == env
    assert rejected.reply_to == reply_to
    assert rejected.detail
    # a rejected message leaves no trace in the book
    assert engine.book.received == {}
    assert engine.book.obligations == {}


def test_engine_produces_every_reason_it_may_reject_for() -> None:
    """Every reason the engine checks is in the table above (MALFORMED, UNKNOWN_KIND and the
    other refusals of the admission step belong to the decoder and the node, not to the engine)."""
    covered = {r[0] for r in REJECTIONS}
    decoder = {RejectReason[r.value] for r in Refusal if r.value in RejectReason.__members__} - {RejectReason.BAD_TIME}
    assert covered == set(RejectReason) - decoder


def test_unknown_ref_for_a_message_we_sent_to_someone_else() -> None:
    engine = _engine("bb-cert")
    ours = envelope(Kind.EARLY_WARNING, sender="bb-cert", recipient="bb-nrrc", channel="domestic")
    engine.sent(ours, T0, minutes(10))
    ack = envelope(Ack(received_at=T0), ref=ours.id)  # aa-cert answers a message it never got
    rejected = _only(engine.receive(ack, T0 + LATENCY, "aa-cert"), Rejected)
    assert rejected.reason is RejectReason.UNKNOWN_REF


def test_first_problem_wins() -> None:
    env = envelope(Kind.ACK, exercise="other", recipient="bb-nrrc", channel="pigeon")
    rejected = _only(_engine().receive(env, T0, "aa-cert"), Rejected)
    assert rejected.reason is RejectReason.WRONG_EXERCISE


@pytest.mark.parametrize(
    ("overrides", "topic_sender", "reason"),
    [
        ({"recipient": "bb-nrrc"}, "aa-cert", RejectReason.WRONG_RECIPIENT),
        ({"exercise": "other"}, "aa-cert", RejectReason.WRONG_EXERCISE),
        ({"channel": "pigeon"}, "aa-cert", RejectReason.UNKNOWN_CHANNEL),
        ({"channel": "nrrc"}, "aa-cert", RejectReason.NO_LINK),
        ({}, "aa-nrrc", RejectReason.SENDER_MISMATCH),
    ],
)
def test_a_protocol_error_is_never_answered_with_one(
    overrides: dict[str, Any], topic_sender: str, reason: RejectReason
) -> None:
    env = envelope(Kind.PROTOCOL_ERROR, **overrides)
    rejected = _only(_engine().receive(env, T0, topic_sender), Rejected)
    assert rejected.reason is reason
    assert rejected.reply_to is None
    # the same problem in any other kind is answered
    other = envelope(Kind.GOODWILL, **overrides)
    assert _only(_engine().receive(other, T0, topic_sender), Rejected).reply_to == topic_sender


def test_a_valid_protocol_error_is_accepted_and_obliges_nothing() -> None:
    engine = _engine()
    actions = engine.receive(envelope(Kind.PROTOCOL_ERROR, incident=None, ref="anything"), T0, "aa-cert")
    assert [type(a) for a in actions] == [Accepted]  # not an answer kind: its ref is not checked


def test_screen_checks_identity_only() -> None:
    engine = _engine()
    spoof = envelope(Kind.EARLY_WARNING)
    rejected = engine.screen(spoof, "aa-nrrc")
    assert rejected is not None
    assert rejected.reason is RejectReason.SENDER_MISMATCH
    # protocol problems wait for the message's simulated arrival
    assert engine.screen(envelope(Kind.WARNING), "aa-cert") is None
    assert engine.screen(envelope(Kind.EARLY_WARNING), "aa-cert") is None


def test_duplicates_are_handled_once() -> None:
    engine = _engine()
    env = envelope(Kind.EARLY_WARNING, arrives_at=T0 + LATENCY)
    first = engine.receive(env, T0 + LATENCY, "aa-cert")
    assert [type(a) for a in first] == [Accepted, ObligationChanged]
    again = engine.receive(env, T0 + LATENCY, "aa-cert")
    assert again == [Duplicate(env)]
    assert list(engine.book.obligations) == ["aa-cert-1#answer"]


# -- check_send: what we may not send -----------------------------------------------------------

FORBIDDEN: list[tuple[RejectReason, dict[str, Any]]] = [
    (RejectReason.SENDER_MISMATCH, {"sender": "aa-nrrc"}),
    (RejectReason.UNKNOWN_CHANNEL, {"channel": "pigeon"}),
    (RejectReason.NO_LINK, {"recipient": "bb-nrrc"}),
    (RejectReason.NO_LINK, {"channel": "nrrc"}),
    (RejectReason.KIND_NOT_ALLOWED, {"body": Kind.CONSULT_REQUEST}),
    (RejectReason.MISSING_INCIDENT, {"incident": None}),
    (RejectReason.MISSING_REF, {"body": Kind.ACK}),
    (RejectReason.UNKNOWN_REF, {"body": Kind.ACK, "ref": "bb-cert-1"}),
    (RejectReason.UNKNOWN_REF, {"body": Kind.COMM_CHECK_REPLY, "ref": "never-received", "incident": None}),
]


@pytest.mark.parametrize(("reason", "overrides"), FORBIDDEN, ids=[f[0].value for f in FORBIDDEN])
def test_check_send_refuses_forbidden_messages(reason: RejectReason, overrides: dict[str, Any]) -> None:
    engine = _engine("aa-cert")
    body = overrides.pop("body", Kind.EARLY_WARNING)
    with pytest.raises(LocalProtocolError) as info:
        engine.check_send(envelope(body, **overrides))
    assert info.value.reason is reason
    assert info.value.detail


def test_check_send_allows_an_answer_to_what_we_received() -> None:
    engine = _engine("bb-cert")
    warning = envelope(Kind.EARLY_WARNING, arrives_at=T0 + LATENCY)
    engine.receive(warning, T0 + LATENCY, "aa-cert")
    ack = envelope(Ack(received_at=T0), sender="bb-cert", recipient="aa-cert", ref=warning.id)
    engine.check_send(ack)  # does not raise
    # …but not the same answer to somebody else than the sender
    with pytest.raises(LocalProtocolError) as info:
        engine.check_send(
            envelope(Ack(received_at=T0), sender="bb-cert", recipient="bb-nrrc", channel="domestic", ref=warning.id)
        )
    assert info.value.reason is RejectReason.UNKNOWN_REF


# -- obligations and expectations ---------------------------------------------------------------


def test_early_warning_opens_expectation_follow_up_and_answer_obligation() -> None:
    a, b = peers()
    warning, sent = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    expectation = _expectation(sent, Status.OPEN).expectation
    assert expectation.kinds == (Kind.ACK,)
    assert expectation.round_trip == 2 * LATENCY
    assert expectation.check_at == T0 + ACK_WITHIN + 2 * LATENCY
    follow_up = _obligation(sent, Status.OPEN)
    assert (follow_up.rule, follow_up.owner, follow_up.counterparty) == ("follow_up", "aa-cert", "bb-cert")
    assert follow_up.kinds == (Kind.INCIDENT_UPDATE, Kind.STAND_DOWN)
    assert follow_up.due_at == T0 + hours(72)

    received = b.receive(warning)
    assert isinstance(received[0], Accepted)
    answer = _obligation(received, Status.OPEN)
    assert (answer.rule, answer.owner, answer.counterparty) == ("answer", "bb-cert", "aa-cert")
    assert answer.opened_at == T0 + LATENCY
    assert answer.due_at == T0 + LATENCY + ACK_WITHIN
    assert answer.incident == INCIDENT
    assert b.engine.next_deadline() == answer.due_at


def test_obligation_met_in_time() -> None:
    a, b = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    b.receive(warning)
    ack, sent = _ack(b, warning, T0 + minutes(20))
    met = _obligation(sent, Status.MET)
    assert met.met_by == ack.id
    assert met.closed_at == T0 + minutes(20)
    got = a.receive(ack)
    change = _expectation(got, Status.MET)
    assert change.late is False
    assert change.expectation.met_by == ack.id
    # nothing fires later: the answer and its expectation are closed
    assert b.advance(T0 + hours(5)) == []
    assert of_type(a.advance(T0 + hours(5)), Retry) == []


def test_obligation_missed_at_its_deadline() -> None:
    _, b = peers()
    b.receive(envelope(Kind.EARLY_WARNING, arrives_at=T0 + LATENCY))
    due = T0 + LATENCY + ACK_WITHIN
    assert b.advance(due - timedelta(seconds=1)) == []
    missed = _obligation(b.advance(due), Status.MISSED)
    assert missed.closed_at == due
    assert b.engine.book.obligations[missed.id].status is Status.MISSED
    assert b.advance(due + hours(1)) == []  # fires once


def test_a_late_answer_does_not_turn_a_missed_obligation_into_met() -> None:
    a, b = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    b.receive(warning)
    b.advance(T0 + hours(2))
    _, sent = _ack(b, warning, T0 + hours(2))
    assert of_type(sent, ObligationChanged) == []
    assert b.engine.book.obligations[f"{warning.id}#answer"].status is Status.MISSED


def test_expectation_retried_then_met() -> None:
    a, b = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    b.receive(warning)
    check_at = T0 + ACK_WITHIN + 2 * LATENCY
    assert a.advance(check_at - timedelta(seconds=1)) == []
    retry = _only(a.advance(check_at), Retry)
    assert retry.attempt == 1
    assert retry.expectation.retries == 1
    assert retry.expectation.check_at == check_at + ACK_WITHIN + 2 * LATENCY  # retry_within defaults to within

    # the node re-sends the trigger with ref = the original; `sent` counts it as the retry
    again, sent = a.send(Kind.EARLY_WARNING, "bb-cert", check_at, channel="cert", ref=warning.id)
    assert sent == []  # no second expectation, no second follow-up
    expectation = a.engine.book.expectations[f"{warning.id}#expect"]
    assert expectation.sent_ids == [warning.id, again.id]

    # the recipient recognises the repeat of what it already owes
    b.advance(again.arrives_at or check_at)
    received = b.receive(again)
    accepted = _only(received, Accepted)
    assert accepted.repeat_of is not None
    assert accepted.repeat_of.trigger == warning.id
    assert of_type(received, ObligationChanged) == []
    assert b.engine.book.obligations[f"{warning.id}#answer"].aliases == [again.id]

    ack, _ = _ack(b, again, check_at + minutes(10))
    met = _expectation(a.receive(ack), Status.MET)
    assert met.late is False
    assert met.expectation.met_by == ack.id
    assert a.engine.book.expectations[f"{warning.id}#expect"].status is Status.MET


def test_answer_to_the_retry_meets_an_obligation_still_open() -> None:
    a, b = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    b.receive(warning)
    again, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0 + minutes(30), channel="cert", ref=warning.id)
    b.receive(again)
    _, sent = _ack(b, again, T0 + minutes(40))
    met = _obligation(sent, Status.MET)
    assert met.trigger == warning.id


def test_retries_exhausted_escalate_to_the_fallback() -> None:
    a, _ = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    first_check = T0 + ACK_WITHIN + 2 * LATENCY
    _only(a.advance(first_check), Retry)
    a.send(Kind.EARLY_WARNING, "bb-cert", first_check, channel="cert", ref=warning.id)
    second_check = first_check + ACK_WITHIN + 2 * LATENCY
    assert a.advance(second_check - timedelta(seconds=1)) == []
    actions = a.advance(second_check)
    assert [type(x) for x in actions] == [AwaitingChanged, Escalate]
    missed = _expectation(actions, Status.MISSED).expectation
    assert missed.closed_at == second_check
    escalate = _only(actions, Escalate)
    assert escalate.channel == "nrrc"
    assert escalate.expectation.trigger == warning.id


@pytest.mark.parametrize(
    ("sender", "recipient", "channel", "latency", "fallback"),
    [
        ("aa-cert", "bb-cert", "cert", minutes(2), "nrrc"),
        ("aa-nrrc", "bb-nrrc", "nrrc", minutes(15), "leaders"),
        ("aa-leader", "bb-leader", "leaders", minutes(5), None),
    ],
)
def test_request_info_escalates_along_the_fallback_chain(
    sender: str, recipient: str, channel: str, latency: timedelta, fallback: str | None
) -> None:
    a, _ = peers(sender, recipient)
    a.send(RequestInfo(questions=("q",)), recipient, T0, channel=channel, latency=latency)
    first = T0 + hours(48) + 2 * latency
    _only(a.advance(first), Retry)
    escalate = _only(a.advance(first + hours(48) + 2 * latency), Escalate)
    assert escalate.channel == fallback


def test_incsea_retries_twice_with_its_own_retry_deadline() -> None:
    a, _ = peers(protocol="incsea-cyber")
    a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    rt = 2 * LATENCY
    first = T0 + minutes(30) + rt
    assert _only(a.advance(first), Retry).attempt == 1
    second = first + minutes(30) + rt  # retry_within: 30m
    assert _only(a.advance(second), Retry).attempt == 2
    third = second + minutes(30) + rt
    assert a.advance(third - timedelta(seconds=1)) == []
    assert _only(a.advance(third), Escalate).channel == "nrrc"


@pytest.mark.parametrize(
    "body",
    [Kind.COMM_CHECK, Kind.REQUEST_ASSIST, Kind.PRE_NOTIFY],
)
def test_then_nothing_misses_without_escalating(body: Kind) -> None:
    a, _ = peers()
    incident = None if body is Kind.COMM_CHECK else INCIDENT
    _, sent = a.send(body, "bb-cert", T0, channel="cert", incident=incident)
    check_at = _expectation(sent, Status.OPEN).expectation.check_at
    actions = a.advance(check_at)
    assert [type(x) for x in actions] == [AwaitingChanged]
    assert _expectation(actions, Status.MISSED).expectation.retries == 0
    assert of_type(actions, Escalate) == []


def test_late_answer_after_missed() -> None:
    a, b = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    b.receive(warning)
    a.advance(T0 + hours(1) + 2 * LATENCY)  # retry
    a.advance(T0 + hours(3))  # missed, escalated
    expectation = a.engine.book.expectations[f"{warning.id}#expect"]
    assert expectation.status is Status.MISSED
    ack, _ = _ack(b, warning, T0 + hours(4))
    late = _expectation(a.receive(ack), Status.MET)
    assert late.late is True
    assert expectation.status is Status.MISSED  # stays missed; the answer is recorded
    assert expectation.met_by == ack.id
    # a second late answer changes nothing
    again, _ = b.send(Ack(received_at=T0), "aa-cert", T0 + hours(5), channel="cert", ref=warning.id)
    assert of_type(a.receive(again), AwaitingChanged) == []


def test_follow_up_met_by_incident_update() -> None:
    a, b = peers()
    warning, sent = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    follow_up = _obligation(sent, Status.OPEN)
    # an update on another incident does not meet it
    _, other = a.send(Kind.INCIDENT_UPDATE, "bb-cert", T0 + hours(1), channel="cert", incident="INC-2")
    assert of_type(other, ObligationChanged) == []
    update, met = a.send(Kind.INCIDENT_UPDATE, "bb-cert", T0 + hours(10), channel="cert")
    assert _obligation(met, Status.MET).id == follow_up.id
    assert follow_up.met_by == update.id
    # the recipient owes nothing for an update
    b.receive(warning)
    assert of_type(b.receive(update), ObligationChanged) == []


def test_follow_up_missed_after_72_hours() -> None:
    a, _ = peers()
    _, sent = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    follow_up = _obligation(sent, Status.OPEN)
    a.advance(T0 + hours(72) - timedelta(seconds=1))
    assert follow_up.status is Status.OPEN
    actions = a.advance(T0 + hours(72))
    assert _obligation(actions, Status.MISSED).id == follow_up.id


def test_a_second_warning_does_not_open_a_second_follow_up() -> None:
    a, _ = peers()
    a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    _, sent = a.send(Kind.EARLY_WARNING, "bb-cert", T0 + hours(1), channel="cert")
    assert [o for o in of_type(sent, ObligationChanged) if o.obligation.rule == "follow_up"] == []
    assert _expectation(sent, Status.OPEN)  # but a second ACK is expected


def test_stand_down_meets_the_follow_up_and_opens_the_final_report() -> None:
    a, _ = peers()
    a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    _, sent = a.send(Kind.STAND_DOWN, "bb-cert", T0 + hours(5), channel="cert")
    assert _obligation(sent, Status.MET).trigger_kind is Kind.EARLY_WARNING
    final = _obligation(sent, Status.OPEN)
    assert (final.trigger_kind, final.kinds, final.due_at) == (
        Kind.STAND_DOWN,
        (Kind.INCIDENT_UPDATE,),
        T0 + hours(5) + timedelta(days=30),
    )


def test_urgent_request_info_uses_urgent_within() -> None:
    a, b = peers()
    urgent, sent = a.send(RequestInfo(questions=("q",), urgent=True), "bb-cert", T0, channel="cert")
    assert _expectation(sent, Status.OPEN).expectation.within == hours(24)
    ob = _obligation(b.receive(urgent), Status.OPEN)
    assert ob.due_at == T0 + LATENCY + hours(24)
    assert ob.kinds == (Kind.PROVIDE_INFO,)
    normal, sent = a.send(RequestInfo(questions=("q",), urgent=False), "bb-cert", T0, channel="cert")
    assert _expectation(sent, Status.OPEN).expectation.within == hours(48)
    assert _obligation(b.receive(normal), Status.OPEN).due_at == T0 + LATENCY + hours(48)


def test_stand_down_received_cancels_obligations_to_that_party_on_that_incident() -> None:
    a, b = peers()
    request, _ = a.send(RequestInfo(questions=("q",)), "bb-cert", T0, channel="cert")
    other, _ = a.send(RequestInfo(questions=("q",)), "bb-cert", T0, channel="cert", incident="INC-2")
    b.receive(request)
    b.receive(other)
    stand_down, _ = a.send(Kind.STAND_DOWN, "bb-cert", T0 + hours(1), channel="cert")
    actions = b.receive(stand_down)
    cancelled = _obligation(actions, Status.CANCELLED)
    assert cancelled.trigger == request.id
    assert cancelled.closed_at == stand_down.arrives_at
    book = b.engine.book.obligations
    assert book[f"{other.id}#answer"].status is Status.OPEN  # another incident: still owed
    assert b.advance(T0 + hours(100)) != []  # …and still missed in the end
    assert book[f"{request.id}#answer"].status is Status.CANCELLED


def test_stand_down_sent_cancels_our_expectations_of_that_party() -> None:
    a, _ = peers()
    a.send(RequestInfo(questions=("q",)), "bb-cert", T0, channel="cert")
    _, sent = a.send(Kind.STAND_DOWN, "bb-cert", T0 + hours(1), channel="cert")
    assert _expectation(sent, Status.CANCELLED).expectation.trigger_kind is Kind.REQUEST_INFO
    assert of_type(a.advance(T0 + hours(200)), Retry) == []


def test_link_refused_falls_back() -> None:
    a, _ = peers()
    env = a.compose(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    assert a.engine.refused(env, T0) == [Fallback(env, "nrrc")]
    assert a.engine.book.expectations == {}  # nothing left, nothing to wait for
    leaders, _ = peers("aa-leader", "bb-leader")
    consult = leaders.compose(Kind.CONSULT_REQUEST, "bb-leader", T0, channel="leaders")
    assert leaders.engine.refused(consult, T0) == [Fallback(consult, None)]


def test_refused_retry_escalates() -> None:
    a, _ = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    check_at = T0 + ACK_WITHIN + 2 * LATENCY
    _only(a.advance(check_at), Retry)
    retry = a.compose(Kind.EARLY_WARNING, "bb-cert", check_at, channel="cert", ref=warning.id)
    actions = a.engine.refused(retry, check_at)
    assert [type(x) for x in actions] == [AwaitingChanged, Escalate]
    assert _expectation(actions, Status.MISSED).expectation.closed_at == check_at
    assert _only(actions, Escalate).channel == "nrrc"
    assert a.engine.next_deadline() == T0 + hours(72)  # only the follow-up is left


def test_pre_notify_min_lead_violation_under_incsea() -> None:
    a, _ = peers(protocol="incsea-cyber")
    short = PreNotify(activity="scan", window_start=T0 + hours(48), window_end=T0 + hours(50), scope="s")
    env, sent = a.send(short, "bb-cert", T0, channel="cert")
    violation = _only(sent, Violation)
    assert violation.rule == "min_lead"
    assert violation.envelope == env
    assert "3 days" in violation.detail
    ample = PreNotify(activity="scan", window_start=T0 + hours(72), window_end=T0 + hours(80), scope="s")
    _, sent = a.send(ample, "bb-cert", T0, channel="cert")
    assert of_type(sent, Violation) == []


def test_pre_notify_has_no_lead_time_under_bilateral() -> None:
    a, _ = peers()
    short = PreNotify(activity="scan", window_start=T0 + hours(1), window_end=T0 + hours(2), scope="s")
    _, sent = a.send(short, "bb-cert", T0, channel="cert")
    assert of_type(sent, Violation) == []


@pytest.mark.parametrize("kind", [Kind.EARLY_WARNING, Kind.REQUEST_INFO, Kind.STAND_DOWN])
def test_domestic_traffic_creates_no_obligations(kind: Kind) -> None:
    cert, nrrc = peers("aa-cert", "aa-nrrc")
    env, sent = cert.send(kind, "aa-nrrc", T0, channel="domestic", latency=minutes(5))
    assert sent == []
    assert [type(x) for x in nrrc.receive(env)] == [Accepted]
    assert cert.engine.next_deadline() is None
    assert nrrc.engine.next_deadline() is None


def test_advance_fires_deadlines_earliest_first() -> None:
    a, b = peers()
    first, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    second, _ = a.send(RequestInfo(questions=("q",)), "bb-cert", T0, channel="cert")
    b.receive(second)
    b.receive(first)
    actions = b.advance(T0 + hours(100))
    order = [x.obligation.trigger for x in of_type(actions, ObligationChanged)]
    assert order == [first.id, second.id]  # 1 h before 48 h, whatever the arrival order


def test_book_survives_a_json_round_trip() -> None:
    a, b = peers()
    warning, _ = a.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    b.receive(warning)
    reloaded = Engine(b.engine.roster, "bb-cert", EXERCISE, Book.model_validate_json(b.engine.book.model_dump_json()))
    assert reloaded.book == b.engine.book
    assert reloaded.receive(warning, T0 + LATENCY, "aa-cert") == [Duplicate(warning)]
    ack = envelope(Ack(received_at=T0), sender="bb-cert", recipient="aa-cert", ref=warning.id, sent_at=T0 + minutes(9))
    reloaded.check_send(ack)
    assert _obligation(reloaded.sent(ack, ack.sent_at, 2 * LATENCY), Status.MET).trigger == warning.id


# -- two peers wired together ---------------------------------------------------------------------


def _deliver(peer: Peer, env: Envelope) -> list[Any]:
    """What the wire does: the recipient sees it at its arrival time, after its deadlines."""
    assert env.arrives_at is not None
    peer.advance(env.arrives_at)
    return peer.receive(env)


def test_two_peers_hold_a_whole_conversation() -> None:
    us, them = peers()
    t = T0

    warning, _ = us.send(Kind.EARLY_WARNING, "bb-cert", t, channel="cert")
    _deliver(them, warning)
    t += minutes(20)
    ack, _ = them.send(Ack(received_at=t), "aa-cert", t, channel="cert", ref=warning.id)
    _deliver(us, ack)

    t += hours(2)
    question, _ = us.send(RequestInfo(questions=("who?",)), "bb-cert", t, channel="cert")
    _deliver(them, question)
    t += hours(10)
    answer, _ = them.send(ProvideInfo(position=Position.NOT_STATE_ACTOR), "aa-cert", t, channel="cert", ref=question.id)
    _deliver(us, answer)

    t += hours(1)
    stand_down, _ = us.send(Kind.STAND_DOWN, "bb-cert", t, channel="cert")
    _deliver(them, stand_down)
    t += hours(24)
    final, _ = us.send(Kind.INCIDENT_UPDATE, "bb-cert", t, channel="cert")
    _deliver(them, final)
    us.advance(t + hours(24 * 40))
    them.advance(t + hours(24 * 40))

    def statuses(book: Book) -> dict[str, Status]:
        items: list[Obligation | Awaiting] = [*book.obligations.values(), *book.expectations.values()]
        return {item.id: item.status for item in items}

    assert statuses(us.engine.book) == {
        f"{warning.id}#expect": Status.MET,
        f"{warning.id}#follow_up": Status.MET,  # met by the stand-down
        f"{question.id}#expect": Status.MET,
        f"{stand_down.id}#follow_up": Status.MET,  # the final report
    }
    assert statuses(them.engine.book) == {
        f"{warning.id}#answer": Status.MET,
        f"{question.id}#answer": Status.MET,
    }
    assert not any(isinstance(x, Rejected | Retry | Escalate) for x in [*us.log, *them.log])


def test_two_peers_silent_counterpart_escalates() -> None:
    us, them = peers()
    warning, _ = us.send(Kind.EARLY_WARNING, "bb-cert", T0, channel="cert")
    _deliver(them, warning)
    retry = _only(us.advance(T0 + hours(2)), Retry)
    again, _ = us.send(Kind.EARLY_WARNING, "bb-cert", T0 + hours(2), channel="cert", ref=retry.expectation.trigger)
    received = _deliver(them, again)
    assert _only(received, Accepted).repeat_of is not None
    escalate = _only(us.advance(T0 + hours(5)), Escalate)
    assert escalate.channel == "nrrc"
    assert them.engine.book.obligations[f"{warning.id}#answer"].status is Status.MISSED
