"""NodeCore: bytes and injects in, publishes out, no I/O. Two cores wired in memory talk."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from sim.core.nodecore import NodeCore, NodeState
from sim.model.control import INJECT_ORDER, InjectOrder, LinksState
from sim.model.injects import Detect, ScriptedMessage
from sim.model.links import Fate, LinkRow
from sim.model.messages import Ack, Envelope, Kind, ProtocolErrorBody, RejectReason, decode_envelope, encode
from sim.model.obligations import Status
from sim.model.observations import (
    OBSERVATION,
    AwaitingObs,
    DuplicateObs,
    EscalationObs,
    LinkObs,
    ObligationObs,
    Observation,
    RejectedObs,
)
from sim.model.policy import Policy
from sim.model.topics import Publish, Topics

from .factories import EXERCISE, INCIDENT, T0, Network, envelope, hours, minutes, roster

TOPICS = Topics(EXERCISE)
INBOX_FROM_AA = TOPICS.msg("bb-cert", "aa-cert")


def _core(agency: str = "bb-cert", seed: int = 1, **policy: object) -> NodeCore:
    return NodeCore(roster(), agency, EXERCISE, seed, Policy.model_validate(policy))


def _obs(publishes: list[Publish]) -> list[Observation]:
    return [OBSERVATION.validate_json(p.payload) for p in publishes if "/obs/" in p.topic]


def _msgs(publishes: list[Publish]) -> list[tuple[str, Envelope]]:
    return [(p.topic, decode_envelope(p.payload)) for p in publishes if "/msg/" in p.topic]


def _one_error_to(publishes: list[Publish], to: str, me: str = "bb-cert") -> ProtocolErrorBody:
    msgs = _msgs(publishes)
    assert len(msgs) == 1, msgs
    topic, env = msgs[0]
    assert topic == TOPICS.msg(to, me)
    assert (env.sender, env.recipient, env.kind) == (me, to, Kind.PROTOCOL_ERROR)
    assert isinstance(env.body, ProtocolErrorBody)
    return env.body


def _inject(seq: int, at: datetime, **action: object) -> InjectOrder:
    return INJECT_ORDER.validate_python({"seq": seq, "id": f"I-{seq}", "at": at, **action})


# -- rejections at the door --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"{not json", RejectReason.MALFORMED),
        (b'{"v": 1}', RejectReason.MALFORMED),
        (
            encode(envelope(Kind.GOODWILL)).replace(b'"kind":"GOODWILL"', b'"kind":"TELEPATHY"'),
            RejectReason.UNKNOWN_KIND,
        ),
    ],
    ids=["not-json", "missing-fields", "unknown-kind"],
)
def test_malformed_payload_is_observed_and_answered(payload: bytes, reason: RejectReason) -> None:
    core = _core()
    out = core.on_message(INBOX_FROM_AA, payload, T0)
    (obs,) = _obs(out)
    assert isinstance(obs, RejectedObs)
    assert obs.reason is reason
    assert obs.agency == "bb-cert"
    assert obs.at == T0
    assert obs.topic == INBOX_FROM_AA
    assert obs.published_as == "aa-cert"
    assert obs.offending_id is None
    error = _one_error_to(out, "aa-cert")
    assert error.reason is reason
    assert error.offending_id is None
    assert error.detail == obs.detail
    assert core.ledger.received_from == {}


def test_malformed_payload_from_an_unknown_topic_sender_gets_no_answer() -> None:
    core = _core()
    out = core.on_message(TOPICS.msg("bb-cert", "zz-cert"), b"garbage", T0)
    (obs,) = _obs(out)
    assert isinstance(obs, RejectedObs)
    assert obs.published_as == "zz-cert"
    assert _msgs(out) == []


@pytest.mark.parametrize(
    "topic",
    [
        TOPICS.msg("bb-nrrc", "aa-cert"),  # somebody else's inbox
        Topics("other-exercise").msg("bb-cert", "aa-cert"),
        TOPICS.obs("aa-cert"),
        "unrelated/topic",
    ],
)
def test_topics_that_are_not_our_inbox_are_ignored(topic: str) -> None:
    core = _core()
    assert core.on_message(topic, b"garbage", T0) == []
    assert core.published == 0


def test_spoofed_sender_is_rejected_with_sender_mismatch() -> None:
    core = _core()
    spoof = envelope(Kind.EARLY_WARNING, sender="bb-nrrc", arrives_at=T0 + minutes(2))
    out = core.on_message(INBOX_FROM_AA, encode(spoof), T0)
    (obs,) = _obs(out)
    assert isinstance(obs, RejectedObs)
    assert obs.reason is RejectReason.SENDER_MISMATCH
    assert obs.offending_id == spoof.id
    assert obs.published_as == "aa-cert"
    error = _one_error_to(out, "aa-cert")
    assert error.reason is RejectReason.SENDER_MISMATCH
    assert error.offending_id == spoof.id
    # nothing waits in the queue, no obligation is opened later
    assert core.next_due() is None
    assert _obs(core.run_until(T0 + hours(5))) == []


def test_a_rejected_protocol_error_is_not_answered() -> None:
    core = _core()
    spoof = envelope(Kind.PROTOCOL_ERROR, sender="bb-nrrc", incident=None)
    out = core.on_message(INBOX_FROM_AA, encode(spoof), T0)
    assert [type(o) for o in _obs(out)] == [RejectedObs]
    assert _msgs(out) == []


def test_a_protocol_problem_is_rejected_at_arrival() -> None:
    core = _core()
    warning = envelope(Kind.WARNING, arrives_at=T0 + minutes(2))  # not allowed on the CERT link
    assert core.on_message(INBOX_FROM_AA, encode(warning), T0) == []
    out = core.run_until(T0 + minutes(2))
    (obs,) = _obs(out)
    assert isinstance(obs, RejectedObs)
    assert obs.reason is RejectReason.KIND_NOT_ALLOWED
    assert obs.at == T0 + minutes(2)
    assert _one_error_to(out, "aa-cert").reason is RejectReason.KIND_NOT_ALLOWED


# -- valid messages ---------------------------------------------------------------------------------


def test_a_valid_message_is_handled_at_its_arrival() -> None:
    core = _core(reliability=1.0, ack_delay=("10m", "10m"))
    arrival = T0 + minutes(2)
    warning = envelope(Kind.EARLY_WARNING, arrives_at=arrival)
    assert core.on_message(INBOX_FROM_AA, encode(warning), T0) == []
    assert core.ledger.received_from == {"aa-cert": 1}
    assert core.next_due() == arrival
    assert core.run_until(arrival - minutes(1)) == []

    out = core.run_until(arrival)
    (opened,) = _obs(out)
    assert isinstance(opened, ObligationObs)
    assert opened.status is Status.OPEN
    assert opened.at == arrival
    assert opened.obligation.due_at == arrival + hours(1)
    assert _msgs(out) == []
    assert core.next_due() == arrival + minutes(10)  # the ACK is scheduled

    out = core.run_until(arrival + minutes(10))
    ((topic, ack),) = _msgs(out)
    assert topic == TOPICS.msg("aa-cert", "bb-cert")
    assert (ack.kind, ack.ref, ack.channel, ack.seq, ack.id) == (Kind.ACK, warning.id, "cert", 1, "bb-cert-1")
    assert ack.sent_at == arrival + minutes(10)
    assert ack.arrives_at == arrival + minutes(12)
    assert isinstance(ack.body, Ack)
    assert ack.body.received_at == arrival
    (met,) = _obs(out)
    assert isinstance(met, ObligationObs)
    assert met.status is Status.MET
    assert core.ledger.sent_to == {"aa-cert": 1}


def test_a_message_that_arrives_late_is_handled_now() -> None:
    core = _core()
    core.run_until(T0 + hours(1))
    warning = envelope(Kind.EARLY_WARNING, arrives_at=T0 + minutes(2))
    core.on_message(INBOX_FROM_AA, encode(warning), T0 + hours(1))
    assert core.next_due() == T0 + hours(1)


def test_a_duplicate_is_handled_once() -> None:
    core = _core(reliability=1.0)
    payload = encode(envelope(Kind.EARLY_WARNING, arrives_at=T0 + minutes(2)))
    core.on_message(INBOX_FROM_AA, payload, T0)
    core.on_message(INBOX_FROM_AA, payload, T0)
    out = core.run_until(T0 + minutes(2))
    kinds = [type(o).__name__ for o in _obs(out)]
    assert kinds == [ObligationObs.__name__, DuplicateObs.__name__]
    assert core.ledger.received_from == {"aa-cert": 2}  # both copies came off the wire


def test_round_report() -> None:
    core = _core()
    core.on_message(INBOX_FROM_AA, encode(envelope(Kind.GOODWILL, arrives_at=T0 + minutes(2))), T0)
    report = core.report(3)
    assert (report.agency, report.round, report.next_due) == ("bb-cert", 3, T0 + minutes(2))
    assert report.received_from == {"aa-cert": 1}
    assert report.sent_to == {}


# -- injects and the link layer --------------------------------------------------------------------------


def test_detect_inject_sends_an_early_warning() -> None:
    core = _core("aa-cert", notify_delay=("10m", "10m"))
    detect = Detect(agency="aa-cert", incident=INCIDENT, severity=1, summary="scan", suspected_origin="bb")
    core.on_inject(_inject(1, T0, detect=detect.model_dump()))
    assert core.injects == 1
    assert core.run_until(T0) == []
    out = core.run_until(T0 + minutes(10))
    ((topic, warning),) = _msgs(out)
    assert topic == TOPICS.msg("bb-cert", "aa-cert")
    assert (warning.kind, warning.incident, warning.severity) == (Kind.EARLY_WARNING, INCIDENT, 1)
    statuses = sorted((type(o).__name__, getattr(o, "status", None)) for o in _obs(out))
    assert statuses == [("AwaitingObs", Status.OPEN), ("ObligationObs", Status.OPEN)]


def test_scripted_message_inject() -> None:
    core = _core("aa-cert")
    message = ScriptedMessage.model_validate(
        {"from": "aa-cert", "to": "bb-cert", "kind": "COMM_CHECK", "body": {"check": "ping"}}
    )
    core.on_inject(_inject(1, T0, message=message.model_dump(by_alias=True)))
    ((_, check),) = _msgs(core.run_until(T0))
    assert (check.kind, check.channel, check.sent_at, check.incident) == (Kind.COMM_CHECK, "cert", T0, None)


def test_a_down_link_refuses_and_the_matter_goes_to_the_fallback() -> None:
    core = _core("aa-cert", notify_delay=("10m", "10m"))
    rows = [row if row.channel != "cert" else row.model_copy(update={"up": False}) for row in core.links.rows()]
    core.on_links(LinksState(at=T0, links=tuple(rows)))
    detect = Detect(agency="aa-cert", incident=INCIDENT, severity=1, summary="scan", suspected_origin="bb")
    core.on_inject(_inject(1, T0, detect=detect.model_dump()))
    out = core.run_until(T0 + minutes(10))
    observations = _obs(out)
    link = next(o for o in observations if isinstance(o, LinkObs))
    assert (link.fate, link.channel, link.kind) == (Fate.REFUSED, "cert", Kind.EARLY_WARNING)
    escalation = next(o for o in observations if isinstance(o, EscalationObs))
    assert (escalation.why, escalation.channel) == ("link_down", "nrrc")
    assert _msgs(out) == []  # nothing left on the CERT link
    out = core.run_until(T0 + minutes(11))
    ((topic, referral),) = _msgs(out)
    assert topic == TOPICS.msg("aa-nrrc", "aa-cert")
    assert (referral.kind, referral.channel) == (Kind.REFERRAL, "domestic")


def test_on_links_replaces_the_table() -> None:
    core = _core()
    row = LinkRow(channel="cert", a="aa-cert", b="bb-cert", up=True, latency=minutes(9))
    core.on_links(LinksState(at=T0, links=(row,)))
    assert core.links.rows() == [row]


# -- two cores wired in memory ----------------------------------------------------------------------------


def _pair(seed: int = 1) -> Network:
    policy = Policy.model_validate({"reliability": 1.0, "notify_delay": ["10m", "10m"], "ack_delay": ["5m", "20m"]})
    net = Network.build(roster(), seed=seed, policies={"aa-cert": policy, "bb-cert": policy})
    net.cores = {k: v for k, v in net.cores.items() if k in ("aa-cert", "bb-cert")}
    detect = Detect(agency="aa-cert", incident=INCIDENT, severity=1, summary="scan", suspected_origin="bb")
    net.cores["aa-cert"].on_inject(_inject(1, T0, detect=detect.model_dump()))
    return net


def test_two_cores_exchange_early_warning_and_ack() -> None:
    net = _pair()
    net.run(T0 + hours(6))
    msgs = net.messages()
    assert [(m.sender, m.kind) for m in msgs] == [("aa-cert", Kind.EARLY_WARNING), ("bb-cert", Kind.ACK)]
    warning, ack = msgs
    assert ack.ref == warning.id
    assert warning.arrives_at is not None
    assert warning.arrives_at <= ack.sent_at <= warning.arrives_at + hours(1)
    expectation = [o for o in net.observations("aa-cert") if isinstance(o, AwaitingObs)]
    assert [(o.status, o.late) for o in expectation] == [(Status.OPEN, False), (Status.MET, False)]
    answered = [o for o in net.observations("bb-cert") if isinstance(o, ObligationObs)]
    assert [o.status for o in answered] == [Status.OPEN, Status.MET]
    assert not any(isinstance(o, RejectedObs) for o in net.observations())
    reports = {a: c.report(1) for a, c in net.cores.items()}
    assert reports["aa-cert"].sent_to == {"bb-cert": 1}
    assert reports["bb-cert"].received_from == {"aa-cert": 1}


@pytest.mark.parametrize("stop", [minutes(11), minutes(20), hours(2)])
def test_a_core_restored_from_its_snapshot_carries_on_as_if_never_stopped(stop: timedelta) -> None:
    """Snapshot every core (a message in flight, a draft scheduled, an answer awaited), restore
    each into a fresh core with another seed and policy: the run goes on byte for byte."""
    steady, restarted = _pair(), _pair()
    steady.run(T0 + hours(6))
    restarted.run(T0 + stop)
    for name, core in restarted.cores.items():
        saved = NodeState.model_validate_json(core.snapshot("run", 1).model_dump_json())
        fresh = NodeCore(core.roster, name, EXERCISE, 99, Policy())
        fresh.restore(saved)
        assert fresh.snapshot("run", 1).model_dump_json() == saved.model_dump_json()
        restarted.cores[name] = fresh
    restarted.run(T0 + hours(6))
    assert [p.payload for _, p in restarted.wire] == [p.payload for _, p in steady.wire]


def test_two_cores_are_deterministic_per_seed() -> None:
    first, again, other = _pair(seed=5), _pair(seed=5), _pair(seed=6)
    for net in (first, again, other):
        net.run(T0 + hours(6))
    assert [p.payload for _, p in first.wire] == [p.payload for _, p in again.wire]
    assert [p.payload for _, p in first.wire] != [p.payload for _, p in other.wire]


def test_observations_are_json_objects_with_agency_and_time() -> None:
    net = _pair()
    net.run(T0 + hours(6))
    for _, publish in net.wire:
        if "/obs/" in publish.topic:
            data = json.loads(publish.payload)
            assert data["agency"] == publish.topic.rsplit("/", 1)[1]
            assert data["at"].endswith("Z")


def test_a_lost_answer_is_repeated_when_the_sender_retries() -> None:
    net = _pair()
    bb = net.cores["bb-cert"]
    clean = bb.links.rows()
    lossy = [r if r.channel != "cert" else r.model_copy(update={"loss": 1.0}) for r in clean]
    bb.on_links(LinksState(at=T0, links=tuple(lossy)))
    net.run(T0 + minutes(30))  # the warning arrives, the ACK is lost
    assert [o.fate for o in net.observations("bb-cert") if isinstance(o, LinkObs)] == [Fate.LOST]
    bb.on_links(LinksState(at=T0 + minutes(30), links=tuple(clean)))
    net.run(T0 + hours(6))
    acks = [m for m in net.messages() if m.kind is Kind.ACK]
    assert len(acks) == 1  # the repeated answer, to the retry
    expectation = [o for o in net.observations("aa-cert") if isinstance(o, AwaitingObs)]
    assert [o.status for o in expectation] == [Status.OPEN, Status.MET]
    assert not any(isinstance(o, EscalationObs) for o in net.observations("aa-cert"))
