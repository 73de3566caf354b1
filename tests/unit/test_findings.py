"""The audit's findings (issue 11) that pure code can reproduce, each as it was found: with the
names of the code they were found in, so that each of these tests ran — and failed — on the code
before the fix."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from sim.core.directorcore import tally
from sim.core.nodecore import NodeCore
from sim.evaluation.console import delivery_line
from sim.evaluation.expect import check
from sim.evaluation.outcome import ExerciseState, MessageEvent
from sim.model.control import INJECT_ORDER
from sim.model.journal import Entry
from sim.model.messages import EarlyWarning, Kind, decode_envelope, encode
from sim.model.observations import OBSERVATION, DuplicateObs
from sim.model.policy import Policy
from sim.model.topics import Publish, Topics

from .factories import EXERCISE, INCIDENT, T0, agreement, envelope, hours, minutes, roster, scenario

TOPICS = Topics(EXERCISE)


def _core(agency: str) -> NodeCore:
    return NodeCore(roster(), agency, EXERCISE, 1, Policy())


def _msgs(out: list[Publish]) -> list[Publish]:
    return [p for p in out if "/msg/" in p.topic]


def _strict(line: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} in a journal line")

    line.encode("utf-8")
    return json.loads(line, parse_constant=refuse)


# -- finding 4: delivery accounting --------------------------------------------------------------


def test_a_replay_cannot_hide_a_loss_and_a_loss_fails_the_run_naming_the_message() -> None:
    """aa-cert sends three messages to bb-cert; the first arrives twice (a redelivery, or a
    replay), the second once, the third never. Counting copies said "all 3 received"."""
    sender, recipient = _core("aa-cert"), _core("bb-cert")
    for seq in (1, 2, 3):
        message = {"from": "aa-cert", "to": "bb-cert", "kind": "GOODWILL", "body": {"text": f"hello {seq}"}}
        order = {"seq": seq, "id": f"I-{seq}", "at": T0 + minutes(seq), "message": message}
        sender.on_inject(INJECT_ORDER.validate_python(order))
    first, second, third = _msgs(sender.run_until(T0 + hours(1)))
    for publish in (first, first, second):  # and `third` is lost in transport
        recipient.on_message(publish.topic, publish.payload, T0 + hours(1))
    reports = {"aa-cert": sender.report(9, final=True), "bb-cert": recipient.report(9, final=True)}

    result = tally(reports, ["aa-cert", "bb-cert"], T0 + hours(2))

    assert (result.sent, result.received) == (3, 2)
    (pair,) = result.missing
    assert (pair.sender, pair.recipient) == ("aa-cert", "bb-cert")
    assert decode_envelope(third.payload).id in pair.lost
    state = ExerciseState(scenario(), agreement(), EXERCISE)
    state.apply(Entry.of(T0 + hours(2), TOPICS.tally, result.model_dump_json().encode()))
    assert "aa-cert-3" in delivery_line(state)
    # the scenario expects nothing about delivery, and the run fails all the same, naming it
    failed = [v for v in check(state) if not v.ok]
    assert len(failed) == 1
    assert "aa-cert-3" in failed[0].found


# -- finding 3: message identity -----------------------------------------------------------------


def test_an_id_of_another_agency_cannot_preempt_its_message() -> None:
    """bb-nrrc sends bb-cert a valid message carrying aa-cert's next id; aa-cert's real message
    with that id must not be dropped as a duplicate, nor folded as a "(duplicate copy)"."""
    core = _core("bb-cert")
    forged = envelope(
        Kind.GOODWILL,
        sender="bb-nrrc",
        recipient="bb-cert",
        channel="domestic",
        msg_id="aa-cert-1",
        arrives_at=T0 + minutes(1),
    )
    real = envelope(Kind.EARLY_WARNING, sender="aa-cert", seq=1, arrives_at=T0 + minutes(2))
    out = core.on_message(TOPICS.msg("bb-cert", "bb-nrrc"), encode(forged), T0)
    out += core.on_message(TOPICS.msg("bb-cert", "aa-cert"), encode(real), T0)
    out += core.run_until(T0 + hours(2))
    observed = [OBSERVATION.validate_json(p.payload) for p in out if "/obs/" in p.topic]
    assert not [o for o in observed if isinstance(o, DuplicateObs)], "the real message was taken"
    assert core.engine.book.received.get("aa-cert-1") == "aa-cert"
    assert [p for p in _msgs(out) if decode_envelope(p.payload).kind is Kind.ACK], "and acknowledged"

    state = ExerciseState(scenario(), agreement(), EXERCISE)
    state.apply(Entry.of(T0, TOPICS.msg("bb-cert", "bb-nrrc"), encode(forged)))
    event = state.apply(Entry.of(T0, TOPICS.msg("bb-cert", "aa-cert"), encode(real)))
    assert isinstance(event, MessageEvent)
    assert event.copy == 1, "the real message is not a duplicate copy of the forged one"
    found = state.envelope("aa-cert-1")
    assert found is not None
    assert found.sender == "aa-cert"


# -- finding 8: size, reflection, claimed times, NaN ---------------------------------------------


def test_junk_is_not_reflected_one_protocol_error_each() -> None:
    """10k junk payloads made 8.5k real PROTOCOL_ERRORs (and a 58 MB journal)."""
    core = _core("bb-cert")
    out: list[Publish] = []
    for n in range(200):
        out += core.on_message(TOPICS.msg("bb-cert", "aa-cert"), b"junk %d" % n, T0)
    errors = [p for p in _msgs(out) if decode_envelope(p.payload).kind is Kind.PROTOCOL_ERROR]
    assert 0 < len(errors) <= 10
    assert len([p for p in out if "/obs/" in p.topic]) <= 10


def test_the_time_a_message_claims_is_not_believed() -> None:
    """Sender-claimed timestamps were trusted for ladder times and "notified within": a notice
    seen crossing the broker at +05:00 claimed to have been sent at +01:05."""
    state = ExerciseState(
        scenario(
            injects=[
                {"at": "+01:00", "detect": {"agency": "aa-cert", "incident": INCIDENT, "severity": 2, "summary": "s"}}
            ],
            expect=[{"notified": {"incident": INCIDENT, "within": "2h"}}],
        ),
        agreement(),
        EXERCISE,
    )
    detect = {
        "seq": 1,
        "id": "I-1",
        "at": T0 + hours(1),
        "detect": {"agency": "aa-cert", "incident": INCIDENT, "severity": 2, "summary": "s"},
    }
    state.apply(Entry.of(T0 + hours(1), TOPICS.inject("aa-cert"), json.dumps(detect, default=str).encode()))
    backdated = envelope(
        EarlyWarning(summary="s", aware_at=T0 + hours(1), suspected_malicious=True, cross_border=True),
        sent_at=T0 + minutes(65),
        arrives_at=T0 + minutes(67),
    )
    event = state.apply(Entry.of(T0 + hours(5), TOPICS.msg("bb-cert", "aa-cert"), encode(backdated)))
    assert isinstance(event, MessageEvent)
    assert event.envelope.sent_at == T0 + hours(5)
    assert state.incidents[INCIDENT].first_notice_at == T0 + hours(5)
    (verdict,) = check(state)
    assert not verdict.ok, verdict.found


def test_a_journal_line_never_holds_nan_infinity_or_a_lone_surrogate() -> None:
    for payload in (b'{"v": 1, "n": NaN}', b'{"v": Infinity}', b'{"v": 1e999}', b'{"a": "\\ud800"}'):
        _strict(Entry.of(T0, TOPICS.obs("aa-cert"), payload).line())
    later = T0 + timedelta(seconds=1)
    _strict(Entry.of(later, TOPICS.presence("aa-cert"), b'{"a": "\xed\xa0\x80"}').line())
