"""Folding a small synthetic journal into the exercise state, and checking ``expect:`` on it:
each expectation type passes and fails with an explanation a facilitator can read."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

import pytest
from pydantic import BaseModel, ValidationError

from sim.evaluation.expect import Verdict, check
from sim.evaluation.outcome import CtlEvent, ExerciseState, MessageEvent, ObsEvent, OddEvent, PresenceEvent
from sim.model.expectations import EXPECTATION
from sim.model.journal import Entry
from sim.model.links import Fate
from sim.model.messages import Ack, CheckDepth, CommCheckReply, Envelope, Kind, RequestInfo, encode
from sim.model.obligations import Obligation, Status
from sim.model.observations import LinkObs, ObligationObs, encode_obs
from sim.model.scenario import Scenario
from sim.model.topics import Topics

from .factories import EXERCISE, T0, agreement, envelope, hours, minutes, scenario

TOPICS = Topics(EXERCISE)

WARNING = envelope(Kind.EARLY_WARNING, sent_at=T0 + minutes(70), arrives_at=T0 + minutes(72))
ACK = envelope(
    Ack(received_at=T0 + minutes(72)),
    sender="bb-cert",
    recipient="aa-cert",
    ref=WARNING.id,
    sent_at=T0 + minutes(92),
    arrives_at=T0 + minutes(94),
)
INQUIRY = envelope(
    RequestInfo(questions=("who?",)),
    sender="aa-nrrc",
    recipient="bb-nrrc",
    channel="nrrc",
    sent_at=T0 + hours(3),
    arrives_at=T0 + hours(3) + minutes(15),
)


def _obligation(trigger: Envelope, *, status: Status, closed_at: datetime | None, within: timedelta) -> Obligation:
    opened = trigger.arrives_at or trigger.sent_at
    return Obligation(
        id=f"{trigger.id}#answer",
        rule="answer",
        owner=trigger.recipient,
        counterparty=trigger.sender,
        incident=trigger.incident,
        trigger=trigger.id,
        trigger_kind=trigger.kind,
        kinds=(Kind.ACK,) if trigger.kind is Kind.EARLY_WARNING else (Kind.PROVIDE_INFO,),
        channel=trigger.channel,
        opened_at=opened,
        due_at=opened + within,
        status=status,
        closed_at=closed_at,
    )


def _entry(t: datetime, topic: str, payload: bytes | BaseModel | dict[str, Any]) -> Entry:
    if isinstance(payload, BaseModel):
        raw = encode_obs(payload) if "/obs/" in topic else payload.model_dump_json(exclude_none=True).encode()
    elif isinstance(payload, dict):
        raw = json.dumps(payload).encode()
    else:
        raw = payload
    return Entry.of(t, topic, raw)


def _msg(env: Envelope) -> Entry:
    return _entry(env.sent_at, TOPICS.msg(env.recipient, env.sender), encode(env))


def _obs(agency: str, at: datetime, ob: Obligation, status: Status) -> Entry:
    return _entry(at, TOPICS.obs(agency), ObligationObs(agency=agency, at=at, status=status, obligation=ob))


EW_OPEN = _obligation(WARNING, status=Status.OPEN, closed_at=None, within=hours(1))
EW_MET = EW_OPEN.model_copy(update={"status": Status.MET, "closed_at": ACK.sent_at, "met_by": ACK.id})
RI_OPEN = _obligation(INQUIRY, status=Status.OPEN, closed_at=None, within=hours(48))
RI_MISSED = RI_OPEN.model_copy(update={"status": Status.MISSED, "closed_at": RI_OPEN.due_at})
LOST = LinkObs(
    agency="aa-nrrc",
    at=T0 + hours(4),
    fate=Fate.LOST,
    message="aa-nrrc-2",
    channel="nrrc",
    recipient="bb-nrrc",
    kind=Kind.INCIDENT_UPDATE,
    incident="INC-1",
)


def _journal() -> list[Entry]:
    detect = {
        "seq": 1,
        "id": "I-1",
        "at": "2026-01-01T01:00:00Z",
        "detect": {"agency": "aa-cert", "incident": "INC-1", "severity": 2, "summary": "s", "suspected_origin": "bb"},
    }
    return [
        _entry(T0 + hours(1), TOPICS.inject("aa-cert"), detect),
        _msg(WARNING),
        _obs("bb-cert", WARNING.arrives_at or T0, EW_OPEN, Status.OPEN),
        _msg(ACK),
        _obs("bb-cert", ACK.sent_at, EW_MET, Status.MET),
        _msg(WARNING),  # a duplicate copy on the wire
        _msg(INQUIRY),
        _obs("bb-nrrc", INQUIRY.arrives_at or T0, RI_OPEN, Status.OPEN),
        _entry(T0 + hours(4), TOPICS.obs("aa-nrrc"), LOST),
        _entry(T0 + hours(5), TOPICS.presence("bb-cert"), {"agency": "bb-cert", "online": False, "session": 1}),
        _entry(T0 + hours(6), TOPICS.msg("bb-cert", "aa-cert"), b"{garbage"),
        _entry(T0 + hours(6), "hotline/v1/another-exercise/msg/bb-cert/aa-cert", encode(WARNING)),
        _obs("bb-nrrc", RI_MISSED.due_at, RI_MISSED, Status.MISSED),
    ]


def _scenario(*expect: dict[str, Any]) -> Scenario:
    detect = {"agency": "aa-cert", "incident": "INC-1", "severity": 2, "summary": "s", "suspected_origin": "bb"}
    return scenario(injects=[{"at": "+01:00", "detect": detect}], expect=list(expect))


def _fold(*expect: dict[str, Any]) -> tuple[ExerciseState, list[Any]]:
    state = ExerciseState(_scenario(*expect), agreement(), EXERCISE)
    events = [state.apply(entry) for entry in _journal()]
    return state, events


# -- folding ------------------------------------------------------------------------------------


def test_each_entry_becomes_the_right_event() -> None:
    _, events = _fold()
    assert [type(e).__name__ if e is not None else None for e in events] == [
        "CtlEvent",
        "MessageEvent",
        "ObsEvent",
        "MessageEvent",
        "ObsEvent",
        "MessageEvent",
        "MessageEvent",
        "ObsEvent",
        "ObsEvent",
        "PresenceEvent",
        "OddEvent",
        None,  # another exercise: not ours
        "ObsEvent",
    ]
    assert isinstance(events[0], CtlEvent)
    assert events[0].what == "inject"
    assert isinstance(events[9], PresenceEvent)
    assert events[9].online is False
    assert isinstance(events[10], OddEvent)
    assert isinstance(events[2], ObsEvent)


def test_messages_ladder_and_duplicate_copies() -> None:
    state, events = _fold()
    first, duplicate = events[1], events[5]
    assert isinstance(first, MessageEvent)
    assert isinstance(duplicate, MessageEvent)
    assert (first.copy, first.level) == (1, 1)
    assert first.change is not None
    assert (duplicate.copy, duplicate.change) == (2, None)
    inquiry = events[6]
    assert isinstance(inquiry, MessageEvent)
    assert inquiry.level == 2
    assert state.ladder.peak("INC-1") == (2, INQUIRY.sent_at)
    assert len(state.messages) == 4
    assert state.envelope(WARNING.id) == WARNING
    assert state.envelope("nope") is None


def test_incident_statistics() -> None:
    state, _ = _fold()
    stats = state.incidents["INC-1"]
    assert (stats.detected_at, stats.detected_by) == (T0 + hours(1), "aa-cert")
    assert stats.first_notice_at == WARNING.sent_at
    assert stats.first_ack_at == ACK.sent_at
    assert stats.first_answer_at is None
    assert stats.messages == 3  # the duplicate copy is not counted twice
    assert (stats.lost, stats.refused) == (1, 0)
    assert state.time_to_first_ack("INC-1") == minutes(22)
    assert state.time_to_first_ack("unknown") is None


def test_obligations_keep_their_latest_state() -> None:
    state, _ = _fold()
    assert state.obligations[EW_OPEN.id].status is Status.MET
    assert state.obligations[RI_OPEN.id].status is Status.MISSED
    assert state.count("INC-1", Status.MET) == 1
    assert state.count("INC-1", Status.MISSED) == 1
    assert state.count(None, Status.OPEN) == 0
    assert [o.id for o in state.obligations_of("INC-2")] == []


def test_losses_rejections_presence_and_odd_entries() -> None:
    state, _ = _fold()
    assert [f.message for f in state.lost()] == ["aa-nrrc-2"]
    assert state.lost("cert") == []
    assert state.presence["bb-cert"].online is False
    assert len(state.odd) == 1
    assert state.odd[0].topic == TOPICS.msg("bb-cert", "aa-cert")
    assert state.odd[0].detail
    assert state.last_t == T0 + hours(48) + hours(3) + minutes(15)


# -- expectations ---------------------------------------------------------------------------------------


def _verdict(expectation: dict[str, Any]) -> Verdict:
    state, _ = _fold(expectation)
    (verdict,) = check(state)
    assert verdict.expectation == EXPECTATION.validate_python(expectation)
    return verdict


def test_max_level_passes() -> None:
    verdict = _verdict({"max_level": {"incident": "INC-1", "at_least": 2, "at_most": 2}})
    assert verdict.ok
    assert verdict.claim == "INC-1 peaks at least 2 and at most 2"
    assert verdict.found == "peaked at 2 FORMAL INQUIRY at T+03:00"


def test_max_level_fails_naming_the_message() -> None:
    verdict = _verdict({"max_level": {"incident": "INC-1", "at_most": 1}})
    assert not verdict.ok
    assert verdict.claim == "INC-1 peaks at most 1"
    assert verdict.found == (
        f"peaked at 2 FORMAL INQUIRY at T+03:00 (REQUEST_INFO aa-nrrc→bb-nrrc on nrrc, message {INQUIRY.id})"
    )


def test_max_level_at_least_fails_when_nothing_happened() -> None:
    state = ExerciseState(_scenario({"max_level": {"incident": "INC-1", "at_least": 1}}), agreement(), EXERCISE)
    (verdict,) = check(state)
    assert not verdict.ok
    assert verdict.found == "peaked at 0 ROUTINE"


def test_obligations_met_passes() -> None:
    verdict = _verdict({"obligations_met": {"kind": "EARLY_WARNING", "owner": "bb-cert", "within": "1h"}})
    assert verdict.ok
    assert verdict.claim == "every answer to EARLY_WARNING owed by bb-cert met within 1h (at least 1)"
    assert verdict.found == "1 of 1 met in time"


def test_obligations_met_fails_when_too_slow() -> None:
    verdict = _verdict({"obligations_met": {"kind": "EARLY_WARNING", "within": "10m"}})
    assert not verdict.ok
    assert verdict.found == (
        f"1 of 1 not met in time: bb-cert → aa-cert ACK for {WARNING.id} (opened T+01:12): met after 20m"
    )


def test_obligations_met_fails_when_missed() -> None:
    verdict = _verdict(
        {"obligations_met": {"kind": "REQUEST_INFO", "owner": "bb-nrrc", "incident": "INC-1", "within": "48h"}}
    )
    assert not verdict.ok
    assert verdict.claim == "every answer to REQUEST_INFO owed by bb-nrrc on INC-1 met within 2d (at least 1)"
    assert verdict.found == (
        f"1 of 1 not met in time: bb-nrrc → aa-nrrc PROVIDE_INFO for {INQUIRY.id} (opened T+03:15): missed"
    )


def test_obligations_met_fails_when_too_few_arose() -> None:
    verdict = _verdict({"obligations_met": {"kind": "EARLY_WARNING", "within": "1h", "at_least": 2}})
    assert not verdict.ok
    assert verdict.found == "only 1 such obligation(s) arose"
    nothing = _verdict({"obligations_met": {"kind": "CONSULT_REQUEST", "within": "1h"}})
    assert not nothing.ok
    assert nothing.found == "only 0 such obligation(s) arose"


def test_obligations_met_ignores_follow_ups_when_asked_for_answers() -> None:
    verdict = _verdict(
        {"obligations_met": {"kind": "EARLY_WARNING", "rule": "follow_up", "within": "72h", "at_least": 0}}
    )
    assert verdict.ok
    assert verdict.claim.startswith("every follow-up of EARLY_WARNING")
    assert verdict.found == "0 of 0 met in time"


def test_cancelled_obligations_do_not_count() -> None:
    state, _ = _fold({"obligations_met": {"kind": "REQUEST_INFO", "within": "48h"}})
    cancelled = RI_OPEN.model_copy(update={"status": Status.CANCELLED, "closed_at": T0 + hours(10)})
    state.apply(_obs("bb-nrrc", T0 + hours(10), cancelled, Status.CANCELLED))
    (verdict,) = check(state)
    assert not verdict.ok
    assert verdict.found == "only 0 such obligation(s) arose"


def test_no_message_lost_fails_listing_the_losses() -> None:
    verdict = _verdict({"no_message_lost": {}})
    assert not verdict.ok
    assert verdict.claim == "no protocol message lost"
    assert verdict.found == "1 lost: aa-nrrc-2 INCIDENT_UPDATE aa-nrrc→bb-nrrc at T+04:00"


@pytest.mark.parametrize("channel", ["cert", "leaders"])
def test_no_message_lost_on_a_channel_passes(channel: str) -> None:
    verdict = _verdict({"no_message_lost": {"channel": channel}})
    assert verdict.ok
    assert verdict.claim == f"no protocol message lost on {channel}"
    assert verdict.found == "none lost"


def test_verdicts_follow_the_scenario_order() -> None:
    state, _ = _fold(
        {"no_message_lost": {"channel": "cert"}},
        {"max_level": {"incident": "INC-1", "at_most": 1}},
        {"obligations_met": {"kind": "EARLY_WARNING", "within": "1h"}},
    )
    assert [v.ok for v in check(state)] == [True, False, True]


def test_domestic_traffic_is_no_notice_and_no_acknowledgement() -> None:
    state = ExerciseState(_scenario(), agreement(), EXERCISE)
    home_warning = envelope(
        Kind.EARLY_WARNING, recipient="aa-nrrc", channel="domestic", sent_at=T0 + minutes(5), msg_id="aa-cert-50"
    )
    home_ack = envelope(
        Ack(received_at=T0),
        sender="aa-nrrc",
        recipient="aa-cert",
        channel="domestic",
        ref="aa-cert-50",
        sent_at=T0 + minutes(10),
        msg_id="aa-nrrc-50",
    )
    for entry in [_msg(home_warning), _msg(home_ack), *_journal()]:
        state.apply(entry)
    stats = state.incidents["INC-1"]
    assert stats.first_notice_at == WARNING.sent_at
    assert stats.first_ack_at == ACK.sent_at
    assert stats.messages == 5


# -- the counting and timing expectations -------------------------------------------------------------


def test_final_level() -> None:
    ok = _verdict({"final_level": {"incident": "INC-1", "at_most": 2}})
    assert ok.ok
    bad = _verdict({"final_level": {"incident": "INC-1", "at_most": 1}})
    assert not bad.ok
    assert "ends at 2 FORMAL INQUIRY" in bad.found
    assert "T+03:00" in bad.found
    assert INQUIRY.id in bad.found


def test_obligation_count() -> None:
    met = _verdict({"obligation_count": {"kind": "EARLY_WARNING", "status": "met", "at_least": 1}})
    assert met.ok
    assert met.found.startswith("1 of 1")
    too_slow = _verdict(
        {"obligation_count": {"kind": "EARLY_WARNING", "status": "met", "within": "10m", "at_least": 1}}
    )
    assert not too_slow.ok
    assert too_slow.found.startswith("0 of 1")
    assert "met after 20m" in too_slow.found
    missed = _verdict({"obligation_count": {"kind": "REQUEST_INFO", "status": "missed", "at_most": 0}})
    assert not missed.ok
    assert f"bb-nrrc for {INQUIRY.id} (opened T+03:15): missed" in missed.found


def test_message_count_counts_first_copies() -> None:
    one = _verdict({"messages": {"kind": "EARLY_WARNING", "sender": "aa-cert", "at_least": 1, "at_most": 1}})
    assert one.ok  # the duplicate copy on the wire is not a second message
    assert one.found == f"1 sent: {WARNING.id} EARLY_WARNING aa-cert→bb-cert at T+01:10"
    two = _verdict({"messages": {"channel": "cert", "at_least": 3}})
    assert not two.ok
    assert two.found.startswith("2 sent: ")
    none = _verdict({"messages": {"channel": "leaders", "at_most": 0}})
    assert none.ok
    assert none.found == "0 sent"


def test_notified_within() -> None:
    ok = _verdict({"notified": {"incident": "INC-1", "within": "1h"}})
    assert ok.ok
    # the notice was sent at T+01:10 and, 2 minutes in transit, received at T+01:12
    assert "detected T+01:00, notice sent T+01:10 and received T+01:12, 12m after detection" in ok.found
    assert WARNING.id in ok.found
    late = _verdict({"notified": {"incident": "INC-1", "within": "5m"}})
    assert not late.ok


def test_notified_never_detected() -> None:
    state = ExerciseState(_scenario({"notified": {"incident": "INC-1", "within": "1h"}}), agreement(), EXERCISE)
    (verdict,) = check(state)
    assert not verdict.ok
    assert "never detected" in verdict.found


def test_check_depth() -> None:
    state = ExerciseState(_scenario({"check_depth": {"depth": 3, "at_least": 2}}), agreement(), EXERCISE)
    check_msg = envelope(Kind.COMM_CHECK, incident=None, msg_id="aa-cert-70", seq=70)
    replies = [
        envelope(
            CommCheckReply(depth=depth),
            sender=sender,
            recipient="aa-cert",
            channel=channel,
            ref="aa-cert-70",
            incident=None,
            msg_id=f"{sender}-70",
        )
        for sender, channel, depth in [
            ("bb-cert", "cert", CheckDepth.AUTHORITY),
            ("bb-nrrc", "nrrc", CheckDepth.ACKNOWLEDGED),
        ]
    ]
    for env in (check_msg, *replies):
        state.apply(_msg(env))
    (verdict,) = check(state)
    assert not verdict.ok
    assert verdict.found == "1 of 2 that answered; shallower: bb-nrrc"


def test_bounds_must_be_consistent() -> None:
    with pytest.raises(ValidationError, match="at_least is more than at_most"):
        EXPECTATION.validate_python({"messages": {"at_least": 3, "at_most": 1}})
    with pytest.raises(ValidationError, match="give at_least and/or at_most"):
        EXPECTATION.validate_python({"messages": {"kind": "ACK"}})
