"""Planned operations and pre-notification (INCSEA 1972 Art. VI), recognising an announced
activity, the operator's explanation, and closing abroad after a domestic stand-down (pure)."""

from __future__ import annotations

import random
from datetime import timedelta

from sim.core.automation import Automaton
from sim.core.automation.drafts import Draft
from sim.core.protocol import Accepted
from sim.model.injects import Detect, Operation
from sim.model.messages import EarlyWarning, Goodwill, Kind, Position, PreNotify, ProvideInfo, StandDown
from sim.model.policy import Policy
from tests.unit.factories import T0, envelope, hours, minutes, roster

OP = Operation(activity="sinkholing of C2 domains", state="bb", after=timedelta(hours=73), lasts=timedelta(hours=8))


def _auto(me: str, protocol: str = "incsea-cyber", **policy: object) -> Automaton:
    fixed = {"notify_delay": (minutes(10), minutes(10)), "ack_delay": (minutes(5), minutes(5))}
    return Automaton(roster(protocol), me, Policy.model_validate(fixed | policy), random.Random(1))


def _plan(auto: Automaton) -> list[Draft]:
    return auto.detect(Detect(agency=auto.me, incident="BOT-1", severity=2, summary="botnet", response=OP), T0)


def test_an_obligatory_notice_goes_out_three_days_ahead() -> None:
    (notice,) = _plan(_auto("aa-cert", reliability=1.0))
    assert (notice.kind, notice.to, notice.channel, notice.at) == (Kind.PRE_NOTIFY, "bb-cert", "cert", T0 + minutes(10))
    assert isinstance(notice.body, PreNotify)
    assert notice.body.window_start == T0 + hours(73)
    assert notice.body.window_end == T0 + hours(81)
    assert "obligatory" in notice.reason


def test_a_courtesy_notice_depends_on_the_policy() -> None:
    assert _plan(_auto("aa-cert", "bilateral-2013", courtesy_notice=0.0, reliability=1.0)) == []
    (notice,) = _plan(_auto("aa-cert", "bilateral-2013", courtesy_notice=1.0, reliability=0.0))
    assert "courtesy" in notice.reason


def test_no_agreement_no_channel_no_notice() -> None:
    assert _plan(_auto("aa-cert", "none", courtesy_notice=1.0)) == []


def _notified(receiver: Automaton) -> None:
    body = PreNotify(activity=OP.activity, window_start=T0 + hours(73), window_end=T0 + hours(81), scope="DNS")
    env = envelope(body, sender="aa-cert", recipient=receiver.me, incident="BOT-1", sent_at=T0)
    assert receiver.react(Accepted(env), T0) == []


def _sees(auto: Automaton, after: timedelta) -> list[Draft]:
    seen = Detect(agency=auto.me, incident="TD-1", severity=3, summary="DNS redirected", suspected_origin="aa")
    return auto.detect(seen, T0 + after)


def test_an_announced_activity_is_recognised_and_raises_nothing() -> None:
    bb = _auto("bb-cert", escalation_threshold=3)
    _notified(bb)
    (thanks,) = _sees(bb, hours(74))
    assert (thanks.kind, thanks.to, thanks.channel, thanks.incident) == (Kind.GOODWILL, "aa-cert", "cert", "TD-1")
    assert isinstance(thanks.body, Goodwill)
    assert "aa-cert-1" in thanks.body.text
    assert bb.incidents["TD-1"].closed


def test_without_a_notice_or_outside_its_window_it_is_misread() -> None:
    fresh = _auto("bb-cert", escalation_threshold=3)
    kinds = sorted(d.kind.value for d in _sees(fresh, hours(74)))
    assert kinds == ["EARLY_WARNING", "REFERRAL"]
    late = _auto("bb-cert", escalation_threshold=3)
    _notified(late)
    assert Kind.EARLY_WARNING in {d.kind for d in _sees(late, hours(81 + 25))}


def test_the_operator_explains_a_warning_about_its_operation() -> None:
    aa = _auto("aa-cert", reliability=1.0)
    _plan(aa)
    warning = EarlyWarning(
        summary="DNS hijack?", aware_at=T0, suspected_malicious=True, cross_border=True, suspected_origin="aa"
    )
    env = envelope(warning, sender="bb-cert", recipient="aa-cert", incident="TD-1", sent_at=T0 + hours(74))
    (explanation,) = aa.react(Accepted(env), T0 + hours(74))
    assert (explanation.kind, explanation.ref, explanation.channel) == (Kind.PROVIDE_INFO, env.id, "cert")
    assert isinstance(explanation.body, ProvideInfo)
    assert explanation.body.position is Position.ROUTINE
    # the same warning before the operation is not about it
    before = envelope(warning, sender="bb-cert", recipient="aa-cert", incident="TD-2", seq=2, sent_at=T0 + hours(10))
    assert aa.react(Accepted(before), T0 + hours(10)) == []


def test_a_domestic_stand_down_closes_the_matter_with_the_counterpart_we_warned() -> None:
    aa = _auto("aa-cert", reliability=1.0)
    detect = Detect(agency="aa-cert", incident="INC-1", severity=2, summary="x", suspected_origin="bb")
    assert Kind.EARLY_WARNING in {d.kind for d in aa.detect(detect, T0)}
    closed = StandDown(root_cause="walk-back accepted", closure="closed")
    env = envelope(closed, sender="aa-nrrc", recipient="aa-cert", channel="domestic", sent_at=T0 + hours(5))
    (close,) = aa.react(Accepted(env), T0 + hours(5))
    assert (close.kind, close.to, close.channel, close.body) == (Kind.STAND_DOWN, "bb-cert", "cert", closed)
    again = envelope(closed, sender="aa-nrrc", recipient="aa-cert", channel="domestic", seq=2, sent_at=T0 + hours(6))
    assert aa.react(Accepted(again), T0 + hours(6)) == []  # once per channel
