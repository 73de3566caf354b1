"""The director's deterministic parts: the Script (injects, link faults, reverts) and the
fast-mode Rounds bookkeeping. Plus whole scenarios driven through NodeCores in memory."""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import pytest

from sim.core.directorcore import Rounds, Script, clock_publish
from sim.core.roster import Roster
from sim.evaluation.expect import check
from sim.evaluation.outcome import ExerciseState
from sim.model.control import INJECT_ORDER, ClockState, DetectOrder, InjectOrder, LinksState, PolicyOrder, RoundReport
from sim.model.journal import Entry
from sim.model.topics import Publish, Topics
from sim.scenario.load import load_scenario

from .factories import ELECTION, EXERCISE, T0, Network, hours, minutes, roster, scenario

TOPICS = Topics(EXERCISE)

_DETECT = {"agency": "aa-cert", "incident": "INC-1", "severity": 1, "summary": "s", "suspected_origin": "bb"}
INJECTS: list[dict[str, Any]] = [
    {"at": "+01:00", "detect": _DETECT},
    {"at": "+02:00", "policy": {"agency": "bb-cert", "set": {"reliability": 0.5}}},
    {"at": "+03:00", "id": "D2", "note": "again", "detect": {**_DETECT, "severity": 2}},
    {"at": "+04:00", "link": {"channel": "cert", "fault": "down", "for": "2h"}},
    {"at": "+04:00", "message": {"from": "aa-cert", "to": "bb-cert", "kind": "GOODWILL", "body": {"text": "hi"}}},
    {"at": "+05:00", "link": {"channel": "nrrc", "fault": "loss", "rate": 0.5}},
]


def _timeline() -> Script:
    s = scenario(injects=INJECTS)
    return Script(s, Roster.build(s, roster().agreement), TOPICS)


def _orders(publishes: list[Publish]) -> list[tuple[str, InjectOrder]]:
    return [
        (p.topic.rsplit("/", 1)[1], INJECT_ORDER.validate_json(p.payload))
        for p in publishes
        if "/ctl/inject/" in p.topic
    ]


def _links(publish: Publish) -> dict[str, tuple[bool, float]]:
    assert publish.topic == TOPICS.links
    assert publish.retain
    state = LinksState.model_validate_json(publish.payload)
    return {f"{r.channel}:{r.a}~{r.b}": (r.up, r.loss) for r in state.links if r.channel != "domestic"}


# -- timeline ------------------------------------------------------------------------------------


def test_nothing_is_due_before_the_first_inject() -> None:
    timeline = _timeline()
    assert timeline.next_event() == T0 + hours(1)
    assert timeline.due(T0 + minutes(59)) == ([], set())


def test_injects_come_at_their_time_with_per_agency_sequence_numbers() -> None:
    timeline = _timeline()
    out, touched = timeline.due(T0 + hours(1))
    assert touched == {"aa-cert"}
    ((agency, order),) = _orders(out)
    assert agency == "aa-cert"
    assert (order.seq, order.id, order.at) == (1, "inj-1", T0 + hours(1))
    assert isinstance(order, DetectOrder)
    assert order.detect.severity == 1
    assert out[0].topic == TOPICS.inject("aa-cert")
    assert not out[0].retain

    out, touched = timeline.due(T0 + hours(3))
    assert touched == {"aa-cert", "bb-cert"}
    orders = _orders(out)
    assert [(a, o.seq, o.id) for a, o in orders] == [("bb-cert", 1, "inj-2"), ("aa-cert", 2, "D2")]
    assert orders[1][1].note == "again"
    assert isinstance(orders[0][1], PolicyOrder)
    assert timeline.inject_counts == {"aa-cert": 2, "bb-cert": 1}


def test_link_faults_and_their_reverts() -> None:
    timeline = _timeline()
    timeline.due(T0 + hours(3))
    out, touched = timeline.due(T0 + hours(4))
    # the new link state comes first, then the inject of the same instant
    assert _links(out[0]) == {
        "cert:aa-cert~bb-cert": (False, 0.0),
        "leaders:aa-leader~bb-leader": (True, 0.0),
        "nrrc:aa-nrrc~bb-nrrc": (True, 0.0),
    }
    assert [(a, o.seq) for a, o in _orders(out)] == [("aa-cert", 3)]
    assert touched == {"aa-cert"}

    assert timeline.next_event() == T0 + hours(5)
    out, touched = timeline.due(T0 + hours(5))
    assert _links(out[0])["nrrc:aa-nrrc~bb-nrrc"] == (True, 0.5)
    assert _links(out[0])["cert:aa-cert~bb-cert"] == (False, 0.0)

    assert timeline.next_event() == T0 + hours(6)  # the revert of the outage
    out, touched = timeline.due(T0 + hours(6))
    assert touched == set()
    assert len(out) == 1
    links = _links(out[0])
    assert links["cert:aa-cert~bb-cert"] == (True, 0.0)
    assert links["nrrc:aa-nrrc~bb-nrrc"] == (True, 0.5)  # the loss has no end
    assert timeline.next_event() is None


def test_everything_due_at_once_keeps_the_scenario_order() -> None:
    timeline = _timeline()
    out, _ = timeline.due(T0 + hours(10))
    orders = _orders(out)
    assert [(a, o.seq) for a, o in orders] == [("aa-cert", 1), ("bb-cert", 1), ("aa-cert", 2), ("aa-cert", 3)]
    assert [o.at for _, o in orders] == sorted(o.at for _, o in orders)
    assert sum(1 for p in out if p.topic == TOPICS.links) == 1  # one link state, the latest
    assert _links(out[0])["cert:aa-cert~bb-cert"] == (True, 0.0)


def test_live_inject() -> None:
    timeline = _timeline()
    live = scenario(injects=[{"at": "+00:00", "detect": {**_DETECT, "agency": "bb-cert", "suspected_origin": "aa"}}])
    timeline.live_inject(live.injects[0], T0 + minutes(30))
    assert timeline.next_event() == T0 + minutes(30)
    out, touched = timeline.due(T0 + minutes(30))
    assert touched == {"bb-cert"}
    ((_, order),) = _orders(out)
    assert (order.seq, order.at) == (1, T0 + minutes(30))


def test_clock_publish_is_retained() -> None:
    state = ClockState(mode="fast", round=2, now=T0, start=T0, end=T0 + hours(1))
    publish = clock_publish(TOPICS, state)
    assert publish.topic == TOPICS.clock
    assert publish.retain
    assert json.loads(publish.payload)["round"] == 2


# -- rounds ------------------------------------------------------------------------------------


def _report(
    agency: str, round_no: int, *, next_due: datetime | None = None, published: int = 0, **counts: Any
) -> RoundReport:
    return RoundReport(
        agency=agency,
        round=round_no,
        next_due=next_due,
        sent_to=counts.get("sent_to", {}),
        received_from=counts.get("received_from", {}),
        published=published,
        injects=0,
    )


def test_a_round_is_incomplete_until_everyone_reported() -> None:
    rounds = Rounds(["a", "b"])
    assert rounds.missing() == ["a", "b"]
    assert not rounds.complete()
    rounds.record(_report("a", 0))
    assert rounds.missing() == ["b"]
    rounds.record(_report("b", 0))
    assert rounds.missing() == []
    assert rounds.complete()


def test_expected_agencies_must_report_the_current_round() -> None:
    rounds = Rounds(["a", "b", "c"])
    rounds.record(_report("a", 0))
    rounds.record(_report("b", 0, next_due=T0 + hours(1)))
    rounds.record(_report("c", 0, next_due=T0 + hours(5)))
    rounds.begin(1, T0 + hours(1), injected={"a"})
    assert rounds.expected == {"a", "b"}  # injected, and due now; c has nothing to do
    assert rounds.missing() == ["a", "b"]
    rounds.record(_report("a", 1))
    rounds.record(_report("b", 1, next_due=T0 + hours(3)))
    assert rounds.missing() == []
    assert rounds.complete()
    assert rounds.next_due() == T0 + hours(3)


def test_messages_in_flight_keep_the_round_open() -> None:
    rounds = Rounds(["a", "b"])
    rounds.record(_report("a", 0, sent_to={"b": 2}))
    rounds.record(_report("b", 0, received_from={"a": 1}))
    assert rounds.in_flight() == 1
    assert not rounds.complete()
    rounds.record(_report("b", 0, received_from={"a": 2}))
    assert rounds.in_flight() == 0
    assert rounds.complete()


def test_in_flight_never_goes_negative_per_pair() -> None:
    rounds = Rounds(["a", "b"])
    rounds.record(_report("a", 0, sent_to={"b": 1}, received_from={"b": 3}))
    rounds.record(_report("b", 0, sent_to={"a": 1}, received_from={"a": 1}))
    assert rounds.in_flight() == 0  # a's surplus from b does not hide anything


def test_publishes_not_yet_seen_keep_the_round_open() -> None:
    rounds = Rounds(["a"])
    rounds.record(_report("a", 0, published=3))
    rounds.seen["a"] = 2
    assert rounds.unseen() == 1
    assert not rounds.complete()
    rounds.seen["a"] += 1
    assert rounds.unseen() == 0
    assert rounds.complete()


def test_an_older_report_does_not_replace_a_newer_one() -> None:
    rounds = Rounds(["a"])
    rounds.record(_report("a", 2, published=5))
    rounds.record(_report("a", 1, published=9))
    assert rounds.reports["a"].round == 2
    rounds.record(_report("a", 2, published=4))  # same round, fewer publishes: stale
    assert rounds.reports["a"].published == 5
    rounds.record(_report("a", 2, published=6))
    assert rounds.reports["a"].published == 6


# -- a whole scenario driven through node cores in memory --------------------------------------------


def _run_election(seed: int | None = None) -> tuple[Network, ExerciseState]:
    loaded = load_scenario(ELECTION)
    s = loaded.scenario
    r = Roster.build(s, loaded.agreement)
    net = Network.build(
        r, seed=s.seed if seed is None else seed, policies={a: s.policy_for(a) for a in r.agencies}, scenario_=s
    )
    net.run(s.end)
    state = ExerciseState(s, loaded.agreement, EXERCISE)
    for t, publish in net.wire:
        state.apply(Entry.of(t, publish.topic, publish.payload))
    return net, state


def test_same_scenario_and_seed_give_the_same_bytes() -> None:
    first, _ = _run_election()
    again, _ = _run_election()
    assert [(t, p.topic, p.payload) for t, p in first.wire] == [(t, p.topic, p.payload) for t, p in again.wire]
    other, _ = _run_election(seed=1)
    assert [p.payload for _, p in other.wire] != [p.payload for _, p in first.wire]


def test_election_scenario_meets_its_expectations_in_memory() -> None:
    _, state = _run_election()
    verdicts = check(state)
    assert len(verdicts) == 7  # one per expectation of the scenario file
    assert [v.found for v in verdicts if not v.ok] == []
    assert state.odd == []
    assert state.rejections == []
    # the outage refused something and the fallback carried it
    assert state.incidents["EI-1"].refused >= 1
    assert any(m.envelope.channel == "nrrc" for m in state.messages)


@pytest.mark.parametrize("protocol", ["incsea-cyber", "none"])
def test_election_scenario_runs_under_other_protocols(protocol: str) -> None:
    loaded = load_scenario(ELECTION, protocol=protocol)
    s = loaded.scenario
    r = Roster.build(s, loaded.agreement)
    net = Network.build(r, seed=s.seed, policies={a: s.policy_for(a) for a in r.agencies}, scenario_=s)
    net.run(s.end)
    channels = {m.channel for m in net.messages()}
    assert channels <= {c.id for c in loaded.agreement.channels}
    assert channels  # something was said
