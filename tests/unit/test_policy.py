"""The Automaton: what an automated agency drafts when told what happened. Pure and seeded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest

from sim.core.automation import Automaton
from sim.core.automation.drafts import AutomatonState, Draft
from sim.core.protocol import Engine, Escalate, Fallback
from sim.core.rng import stream
from sim.core.roster import Roster
from sim.model.injects import Detect
from sim.model.links import LinkKey
from sim.model.messages import (
    Ack,
    Body,
    EarlyWarning,
    Envelope,
    IncidentUpdate,
    Kind,
    Position,
    ProvideInfo,
    Referral,
    ReferralReason,
    RequestInfo,
    StandDown,
    Warning,
)
from sim.model.obligations import Awaiting, Obligation, Status
from sim.model.policy import Disposition, Policy

from .factories import EXERCISE, INCIDENT, T0, envelope, hours, minutes, roster


@dataclass
class Agent:
    """An Engine and an Automaton of one agency, as the node couples them."""

    engine: Engine
    auto: Automaton

    def receive(self, env: Envelope, now: datetime | None = None) -> list[Draft]:
        at = now or env.arrives_at or env.sent_at
        drafts: list[Draft] = []
        for action in self.engine.receive(env, at, env.sender):
            drafts.extend(self.auto.react(action, at))
        return drafts


def _agent(me: str, seed: int = 1, protocol: str = "bilateral-2013", **policy: Any) -> Agent:
    r = roster(protocol)
    return Agent(Engine(r, me, EXERCISE), Automaton(r, me, Policy(**policy), stream(seed, "policy", me)))


def _detect(severity: int, origin: str | None = "bb", agency: str = "aa-cert", **extra: Any) -> Detect:
    fields: dict[str, Any] = {"summary": "beaconing", "indicators": ("203.0.113.17",), **extra}
    return Detect(agency=agency, incident=INCIDENT, severity=severity, suspected_origin=origin, **fields)


def _expectation(waiting: str = "aa-cert", counterparty: str = "bb-cert", channel: str = "cert") -> Awaiting:
    return Awaiting(
        id="aa-cert-1#expect",
        waiting=waiting,
        counterparty=counterparty,
        incident=INCIDENT,
        trigger="aa-cert-1",
        trigger_kind=Kind.EARLY_WARNING,
        kinds=(Kind.ACK,),
        channel=channel,
        opened_at=T0,
        within=hours(1),
        round_trip=minutes(4),
        check_at=T0 + minutes(64),
    )


def _kinds(drafts: list[Draft]) -> list[tuple[Kind, str]]:
    return [(d.kind, d.to) for d in drafts]


# -- detection ------------------------------------------------------------------------------------


def test_detection_below_threshold_warns_the_counterpart_only() -> None:
    agent = _agent("aa-cert", notify_delay=(minutes(10), minutes(30)))
    drafts = agent.auto.detect(_detect(severity=2), T0)
    assert _kinds(drafts) == [(Kind.EARLY_WARNING, "bb-cert")]
    warning = drafts[0]
    assert warning.channel == "cert"  # the lowest channel towards bb
    assert warning.incident == INCIDENT
    assert warning.severity == 2
    assert T0 + minutes(10) <= warning.at <= T0 + minutes(30)
    assert isinstance(warning.body, EarlyWarning)
    assert warning.body.suspected_origin == "bb"
    assert warning.body.aware_at == T0
    assert warning.body.indicators == ("203.0.113.17",)
    assert agent.auto.incidents[INCIDENT].raised_by_us


def test_detection_at_threshold_also_refers_up_the_domestic_chain() -> None:
    agent = _agent("aa-cert", escalation_threshold=3)
    drafts = agent.auto.detect(_detect(severity=3), T0)
    assert _kinds(drafts) == [(Kind.EARLY_WARNING, "bb-cert"), (Kind.REFERRAL, "aa-nrrc")]
    referral = drafts[1]
    assert referral.channel == "domestic"
    assert isinstance(referral.body, Referral)
    assert referral.body.reason is ReferralReason.SEVERITY
    assert referral.body.counterpart_state == "bb"
    assert referral.at == drafts[0].at


def test_the_nrrc_sits_below_the_leader() -> None:
    agent = _agent("aa-nrrc", escalation_threshold=3)
    drafts = agent.auto.detect(_detect(severity=4, agency="aa-nrrc"), T0)
    assert _kinds(drafts) == [(Kind.EARLY_WARNING, "bb-nrrc"), (Kind.REFERRAL, "aa-leader")]


def test_detection_without_a_foreign_origin_sends_nothing() -> None:
    agent = _agent("aa-cert")
    assert agent.auto.detect(_detect(severity=5, origin=None), T0) == []
    assert agent.auto.detect(_detect(severity=5, origin="aa"), T0 + hours(1)) == []  # our own state


def test_detection_without_a_channel_to_the_origin_goes_up() -> None:
    """Under no agreement a CERT has no foreign channel: the matter goes to the leader."""
    agent = _agent("aa-cert", protocol="none", escalation_threshold=5)
    drafts = agent.auto.detect(_detect(severity=1), T0)
    assert _kinds(drafts) == [(Kind.REFERRAL, "aa-leader")]


def test_new_findings_update_the_counterpart_and_refer_up_once_crossed() -> None:
    agent = _agent("aa-cert", escalation_threshold=3)
    agent.auto.detect(_detect(severity=2), T0)
    drafts = agent.auto.detect(_detect(severity=3, indicators=("198.51.100.4",)), T0 + hours(5))
    assert _kinds(drafts) == [(Kind.INCIDENT_UPDATE, "bb-cert"), (Kind.REFERRAL, "aa-nrrc")]
    update = drafts[0].body
    assert isinstance(update, IncidentUpdate)
    assert update.severity == 3
    assert agent.auto.incidents[INCIDENT].indicators == ("203.0.113.17", "198.51.100.4")
    # already above the threshold: a third finding only updates
    drafts = agent.auto.detect(_detect(severity=4), T0 + hours(9))
    assert _kinds(drafts) == [(Kind.INCIDENT_UPDATE, "bb-cert")]


# -- answering what we owe --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("disposition", "trigger", "position"),
    [
        (Disposition.COOPERATIVE, RequestInfo(questions=("q",)), Position.NOT_STATE_ACTOR),
        (Disposition.GUARDED, RequestInfo(questions=("q",)), Position.INVESTIGATING),
        (Disposition.DENYING, RequestInfo(questions=("q",)), Position.DENY),
    ],
)
def test_answers_by_disposition(disposition: Disposition, trigger: Body, position: Position) -> None:
    agent = _agent("bb-nrrc", reliability=1.0, disposition=disposition, answer_delay=(hours(2), hours(4)))
    request = envelope(
        trigger, sender="aa-nrrc", recipient="bb-nrrc", channel="nrrc", arrives_at=T0 + minutes(15), severity=2
    )
    drafts = agent.receive(request)
    assert len(drafts) == 1
    answer = drafts[0]
    assert (answer.kind, answer.to, answer.channel, answer.ref) == (Kind.PROVIDE_INFO, "aa-nrrc", "nrrc", request.id)
    assert isinstance(answer.body, ProvideInfo)
    assert answer.body.position is position
    assert answer.body.answers
    assert answer.meets == f"{request.id}#answer"
    assert T0 + minutes(15) + hours(2) <= answer.at <= T0 + minutes(15) + hours(4)
    assert answer.severity == 2


def test_guarded_answer_to_a_warning_is_routine() -> None:
    agent = _agent("bb-nrrc", protocol="incsea-cyber", reliability=1.0, disposition=Disposition.GUARDED)
    warning = envelope(
        Warning(demand="d", basis="b"), sender="aa-nrrc", recipient="bb-nrrc", channel="nrrc", arrives_at=T0
    )
    (answer,) = agent.receive(warning)
    assert isinstance(answer.body, ProvideInfo)
    assert answer.body.position is Position.ROUTINE


def test_early_warning_is_acknowledged_within_the_hour() -> None:
    agent = _agent("bb-cert", reliability=1.0, ack_delay=(minutes(5), minutes(40)))
    warning = envelope(Kind.EARLY_WARNING, arrives_at=T0 + minutes(2))
    (ack,) = agent.receive(warning)
    assert (ack.kind, ack.to, ack.ref, ack.channel) == (Kind.ACK, "aa-cert", warning.id, "cert")
    assert isinstance(ack.body, Ack)
    assert ack.body.received_at == T0 + minutes(2)
    assert T0 + minutes(7) <= ack.at <= T0 + minutes(42)


def test_the_answer_is_drafted_before_the_deadline_even_when_slow() -> None:
    agent = _agent("bb-cert", reliability=1.0, ack_delay=(hours(5), hours(6)))
    warning = envelope(Kind.EARLY_WARNING, arrives_at=T0)
    (ack,) = agent.receive(warning)
    assert ack.at == T0 + hours(1) - minutes(1)


def _answer_times(reliability: float, late_answers: float, seeds: range) -> list[timedelta | None]:
    """For each seed: how long after the deadline the ACK is drafted (None: never)."""
    out: list[timedelta | None] = []
    for seed in seeds:
        agent = _agent("bb-cert", seed=seed, reliability=reliability, late_answers=late_answers)
        warning = envelope(Kind.EARLY_WARNING, arrives_at=T0)
        drafts = agent.receive(warning)
        due = T0 + hours(1)
        out.append(drafts[0].at - due if drafts else None)
    return out


def test_reliability_one_always_answers_in_time() -> None:
    times = _answer_times(1.0, 0.5, range(50))
    assert all(t is not None and t < timedelta(0) for t in times)


def test_reliability_zero_never_answers_in_time() -> None:
    times = _answer_times(0.0, 0.5, range(50))
    assert all(t is None or t > timedelta(0) for t in times)
    assert any(t is None for t in times)
    assert any(t is not None for t in times)  # some answers come late
    assert _answer_times(0.0, 0.0, range(20)) == [None] * 20
    assert all(t is not None and t > timedelta(0) for t in _answer_times(0.0, 1.0, range(20)))


def test_the_same_seed_gives_the_same_decisions() -> None:
    assert _answer_times(0.5, 0.5, range(30)) == _answer_times(0.5, 0.5, range(30))
    assert _answer_times(0.5, 0.5, range(30)) != _answer_times(0.5, 0.5, range(30, 60))


def test_follow_up_is_drafted_as_an_incident_update() -> None:
    agent = _agent("aa-cert", reliability=1.0, update_delay=(hours(12), hours(12)))
    agent.auto.detect(_detect(severity=2), T0)
    warning = envelope(Kind.EARLY_WARNING, arrives_at=T0 + minutes(2))
    actions = agent.engine.sent(warning, T0, minutes(4))
    drafts = [d for action in actions for d in agent.auto.react(action, T0)]
    assert _kinds(drafts) == [(Kind.INCIDENT_UPDATE, "bb-cert")]
    assert drafts[0].at == T0 + hours(12)
    assert drafts[0].meets == f"{warning.id}#follow_up"
    assert isinstance(drafts[0].body, IncidentUpdate)
    assert drafts[0].body.final is False


# -- escalation, fallback, reroute ----------------------------------------------------------------


def test_escalate_refers_the_matter_to_the_agency_on_the_fallback_channel() -> None:
    agent = _agent("aa-cert")
    (referral,) = agent.auto.react(Escalate(_expectation(), "nrrc"), T0 + hours(2))
    assert (referral.kind, referral.to, referral.channel) == (Kind.REFERRAL, "aa-nrrc", "domestic")
    assert isinstance(referral.body, Referral)
    assert referral.body.reason is ReferralReason.NO_ANSWER
    assert referral.body.counterpart_state == "bb"
    assert referral.body.original == "aa-cert-1"
    assert referral.at == T0 + hours(2) + minutes(1)


def test_escalate_without_a_fallback_does_nothing() -> None:
    agent = _agent("aa-leader")
    exp = _expectation("aa-leader", "bb-leader", "leaders")
    assert agent.auto.react(Escalate(exp, None), T0) == []


def test_fallback_relays_the_refused_message() -> None:
    agent = _agent("aa-cert")
    refused = envelope(Kind.EARLY_WARNING)
    (referral,) = agent.auto.react(Fallback(refused, "nrrc"), T0)
    assert referral.to == "aa-nrrc"
    assert isinstance(referral.body, Referral)
    assert referral.body.reason is ReferralReason.LINK_DOWN
    assert referral.body.relay_kind is Kind.EARLY_WARNING
    assert referral.body.relay_body == refused.body
    assert referral.body.original == refused.id


def test_fallback_ignores_quick_answers_and_dead_ends() -> None:
    agent = _agent("bb-cert")
    ack = envelope(Ack(received_at=T0), sender="bb-cert", recipient="aa-cert", ref="aa-cert-1")
    assert agent.auto.react(Fallback(ack, "nrrc"), T0) == []
    assert agent.auto.react(Fallback(envelope(Kind.EARLY_WARNING), None), T0) == []


def test_the_relay_sends_the_original_on_its_own_channel() -> None:
    nrrc = _agent("aa-nrrc", ack_delay=(minutes(5), minutes(5)))
    original = envelope(Kind.EARLY_WARNING).body
    referral = Referral(
        reason=ReferralReason.LINK_DOWN,
        counterpart_state="bb",
        original="aa-cert-1",
        relay_kind=Kind.EARLY_WARNING,
        relay_body=original,
    )
    env = envelope(referral, sender="aa-cert", recipient="aa-nrrc", channel="domestic", arrives_at=T0)
    (relay,) = nrrc.receive(env)
    assert (relay.kind, relay.to, relay.channel, relay.body) == (Kind.EARLY_WARNING, "bb-nrrc", "nrrc", original)
    assert relay.at == T0 + minutes(5)
    # a second refused message on the same incident is not relayed twice on the same channel
    again = envelope(referral, sender="aa-cert", recipient="aa-nrrc", channel="domestic", arrives_at=T0, seq=2)
    assert nrrc.receive(again) == []


def test_a_referral_for_severity_becomes_a_formal_inquiry_and_goes_up() -> None:
    nrrc = _agent("aa-nrrc", escalation_threshold=3)
    referral = Referral(reason=ReferralReason.SEVERITY, counterpart_state="bb", summary="records altered")
    env = envelope(referral, sender="aa-cert", recipient="aa-nrrc", channel="domestic", arrives_at=T0, severity=3)
    drafts = nrrc.receive(env)
    assert _kinds(drafts) == [(Kind.REQUEST_INFO, "bb-nrrc"), (Kind.REFERRAL, "aa-leader")]
    assert drafts[0].channel == "nrrc"
    assert isinstance(drafts[0].body, RequestInfo)
    assert drafts[0].body.urgent is False  # severity 3 < 4


def test_reroute_when_there_is_no_direct_link() -> None:
    agent = _agent("aa-cert")
    draft = Draft(T0, "bb-nrrc", Kind.EARLY_WARNING, envelope(Kind.EARLY_WARNING).body, INCIDENT, severity=2)
    (referral,) = agent.auto.reroute(draft, T0)
    assert (referral.kind, referral.to, referral.channel) == (Kind.REFERRAL, "aa-nrrc", "domestic")
    assert isinstance(referral.body, Referral)
    assert referral.body.reason is ReferralReason.NO_ROUTE
    assert referral.body.relay_kind is Kind.EARLY_WARNING
    assert referral.body.relay_body == draft.body
    assert referral.severity == 2


def test_no_reroute_at_home_or_without_incident() -> None:
    agent = _agent("aa-cert")
    body = envelope(Kind.EARLY_WARNING).body
    assert agent.auto.reroute(Draft(T0, "aa-leader", Kind.EARLY_WARNING, body, INCIDENT), T0) == []
    assert agent.auto.reroute(Draft(T0, "bb-nrrc", Kind.EARLY_WARNING, body, None), T0) == []


# -- walk-back ----------------------------------------------------------------------------------------


def _answer_from_bb(position: Position, seq: int = 1) -> Envelope:
    return envelope(
        ProvideInfo(position=position),
        sender="bb-cert",
        recipient="aa-cert",
        ref="aa-cert-1",
        seq=seq,
        arrives_at=T0 + hours(3),
        severity=3,
    )


def _raised(agent: Agent) -> None:
    agent.auto.detect(_detect(severity=3), T0)
    request = envelope(RequestInfo(questions=("q",)), sent_at=T0 + hours(1))
    agent.engine.sent(request, request.sent_at, minutes(4))


def test_cooperative_accepts_a_walk_back_and_stands_down() -> None:
    agent = _agent("aa-cert", disposition=Disposition.COOPERATIVE)
    _raised(agent)
    (stand_down,) = agent.receive(_answer_from_bb(Position.NOT_STATE_ACTOR))
    assert (stand_down.kind, stand_down.to, stand_down.channel) == (Kind.STAND_DOWN, "bb-cert", "cert")
    assert isinstance(stand_down.body, StandDown)
    assert "not state actor" in stand_down.body.root_cause


def test_denying_does_not_accept_a_walk_back() -> None:
    agent = _agent("aa-cert", disposition=Disposition.DENYING)
    _raised(agent)
    assert agent.receive(_answer_from_bb(Position.NOT_STATE_ACTOR)) == []


def test_a_denial_is_taken_higher() -> None:
    agent = _agent("aa-cert", escalation_threshold=3)
    _raised(agent)
    drafts = agent.receive(_answer_from_bb(Position.DENY))
    assert _kinds(drafts) == [(Kind.REFERRAL, "aa-nrrc")]
    assert isinstance(drafts[0].body, Referral)
    assert drafts[0].body.reason is ReferralReason.DENIAL


# -- bookkeeping ----------------------------------------------------------------------------------


def _obligation(status: Status) -> Obligation:
    return Obligation(
        id="ob",
        rule="answer",
        owner="bb-cert",
        counterparty="aa-cert",
        incident=INCIDENT,
        trigger="aa-cert-1",
        trigger_kind=Kind.EARLY_WARNING,
        kinds=(Kind.ACK,),
        channel="cert",
        opened_at=T0,
        due_at=T0 + hours(1),
        status=status,
    )


@pytest.mark.parametrize(
    ("status", "wanted"),
    [(Status.OPEN, True), (Status.MISSED, True), (Status.CANCELLED, False), (Status.MET, False)],
)
def test_an_answer_is_still_wanted_unless_closed(status: Status, wanted: bool) -> None:
    agent = _agent("bb-cert")
    draft = Draft(T0, "aa-cert", Kind.ACK, Ack(received_at=T0), INCIDENT, ref="aa-cert-1", meets="ob")
    agent.auto.pending.add("ob")
    agent.auto.clear_pending(draft)  # it fell due
    assert agent.auto.still_wanted(draft, {"ob": _obligation(status)}) is wanted
    assert "ob" not in agent.auto.pending
    assert agent.auto.still_wanted(draft, {}) is False


def test_forward_drafts_are_dropped_once_the_incident_is_closed() -> None:
    agent = _agent("aa-cert")
    drafts = agent.auto.detect(_detect(severity=2), T0)
    assert agent.auto.still_wanted(drafts[0], {}) is True
    stand_down = envelope(StandDown(root_cause="r", closure="c"), sender="bb-cert", recipient="aa-cert")
    agent.receive(stand_down, T0 + minutes(5))
    assert agent.auto.incidents[INCIDENT].closed
    assert agent.auto.still_wanted(drafts[0], {}) is False


def test_our_foreign_stand_down_is_passed_on_at_home() -> None:
    agent = _agent("aa-cert")
    home = envelope(Kind.EARLY_WARNING, recipient="aa-nrrc", channel="domestic")
    assert agent.auto.note_sent(home) == []
    abroad = envelope(Kind.STAND_DOWN, sent_at=T0 + hours(2), seq=2)
    (told,) = agent.auto.note_sent(abroad)
    assert (told.kind, told.to, told.channel, told.at) == (Kind.STAND_DOWN, "aa-nrrc", "domestic", T0 + hours(2))
    assert agent.auto.incidents[INCIDENT].closed


def test_state_survives_a_round_trip() -> None:
    agent = _agent("aa-cert")
    agent.auto.detect(_detect(severity=3), T0)
    agent.auto.pending.add("x#answer")
    saved = AutomatonState.model_validate_json(agent.auto.state().model_dump_json())
    fresh = Automaton(agent.auto.roster, "aa-cert", Policy(reliability=0.1), stream(9, "p"))
    fresh.restore(saved)
    assert fresh.incidents == agent.auto.incidents
    assert fresh.pending == {"x#answer"}
    assert fresh.policy == agent.auto.policy


def test_roster_superiors_and_relays() -> None:
    r: Roster = roster()
    assert (r.superior("aa-cert"), r.superior("aa-nrrc"), r.superior("aa-leader")) == ("aa-nrrc", "aa-leader", None)
    assert r.relay_for("aa-cert", "nrrc", "bb") == "aa-nrrc"
    assert r.relay_for("aa-cert", "fax", "bb") is None
    assert r.route("aa-cert", "bb-cert", Kind.EARLY_WARNING) is not None
    assert r.route("aa-cert", "bb-cert", Kind.WARNING) is None
    assert r.counterpart("aa-nrrc", "nrrc", "bb") == "bb-nrrc"


def test_route_prefers_the_lowest_tier_that_carries_the_kind() -> None:
    base = roster()
    two_links = Roster(
        base.agreement,
        base.agencies,
        {LinkKey.of("nrrc", "aa-cert", "bb-cert"): minutes(15), LinkKey.of("cert", "aa-cert", "bb-cert"): minutes(2)},
    )
    assert two_links.route("aa-cert", "bb-cert", Kind.EARLY_WARNING) == LinkKey.of("cert", "aa-cert", "bb-cert")
    assert two_links.route("bb-cert", "aa-cert", Kind.WARNING) == LinkKey.of("nrrc", "aa-cert", "bb-cert")
    assert two_links.route("aa-cert", "bb-cert", Kind.REFERRAL) is None


def test_a_matter_is_raised_and_referred_up_once_per_reason() -> None:
    nrrc = _agent("aa-nrrc", escalation_threshold=3)
    referral = Referral(reason=ReferralReason.SEVERITY, counterpart_state="bb", summary="s")
    first = envelope(referral, sender="aa-cert", recipient="aa-nrrc", channel="domestic", arrives_at=T0, severity=3)
    assert _kinds(nrrc.receive(first)) == [(Kind.REQUEST_INFO, "bb-nrrc"), (Kind.REFERRAL, "aa-leader")]
    again = first.model_copy(update={"id": "aa-cert-2", "seq": 2, "severity": 4})
    assert nrrc.receive(again) == []
    denial = first.model_copy(
        update={"id": "aa-cert-3", "seq": 3, "body": referral.model_copy(update={"reason": ReferralReason.DENIAL})}
    )
    assert _kinds(nrrc.receive(denial)) == [(Kind.REFERRAL, "aa-leader")]  # a new reason goes up


def test_a_repeat_of_something_we_answered_is_answered_again() -> None:
    agent = _agent("bb-cert", reliability=1.0)
    warning = envelope(Kind.EARLY_WARNING, arrives_at=T0 + minutes(2))
    (ack,) = agent.receive(warning)
    sent = envelope(ack.body, sender="bb-cert", recipient="aa-cert", ref=warning.id, sent_at=ack.at)
    agent.engine.sent(sent, ack.at, minutes(4))  # the ACK left, and was lost on the way
    agent.auto.clear_pending(ack)  # it fell due
    assert agent.auto.still_wanted(ack, agent.engine.book.obligations) is False  # it is done
    retry = envelope(Kind.EARLY_WARNING, ref=warning.id, seq=2, arrives_at=T0 + minutes(66))
    (again,) = agent.receive(retry)
    assert (again.kind, again.ref) == (Kind.ACK, retry.id)
    assert agent.auto.still_wanted(again, agent.engine.book.obligations) is True
