"""The escalation ladder, derived from the messages alone."""

from __future__ import annotations

from datetime import datetime

import pytest

from sim.core.ladder import Ladder
from sim.model.messages import Body, IncidentUpdate, Kind, Position, ProvideInfo

from .factories import INCIDENT, T0, agreement, envelope, hours

CHANNEL_ENDS = {
    "cert": ("aa-cert", "bb-cert"),
    "nrrc": ("aa-nrrc", "bb-nrrc"),
    "leaders": ("aa-leader", "bb-leader"),
    "domestic": ("aa-cert", "aa-nrrc"),
    "diplomatic": ("aa-leader", "bb-leader"),
}

_counter = iter(range(1, 1_000_000))


def _feed(
    ladder: Ladder,
    body: Body | Kind,
    channel: str,
    *,
    at: datetime = T0,
    severity: int = 0,
    incident: str | None = INCIDENT,
    msg_id: str | None = None,
) -> int:
    sender, recipient = CHANNEL_ENDS[channel]
    seq = next(_counter)
    env = envelope(
        body,
        sender=sender,
        recipient=recipient,
        channel=channel,
        incident=incident,
        severity=severity,
        seq=seq,
        msg_id=msg_id,
        sent_at=at,
    )
    ladder.observe(env, at)
    return ladder.level(incident) if incident else -1


def _ladder(protocol: str = "bilateral-2013") -> Ladder:
    return Ladder(agreement(protocol))


@pytest.mark.parametrize(
    ("kind", "channel", "severity", "level"),
    [
        (Kind.COMM_CHECK, "cert", 0, 0),
        (Kind.GOODWILL, "cert", 2, 0),
        (Kind.EARLY_WARNING, "cert", 0, 1),
        (Kind.INCIDENT_UPDATE, "cert", 2, 1),
        (Kind.REQUEST_INFO, "cert", 0, 0),  # a formal inquiry needs the NRRC channel
        (Kind.REQUEST_INFO, "nrrc", 0, 2),
        (Kind.EARLY_WARNING, "nrrc", 0, 2),
        (Kind.CONSULT_REQUEST, "nrrc", 0, 3),
        (Kind.EARLY_WARNING, "cert", 3, 3),  # significant incident, PPD-41
        (Kind.ACK, "cert", 5, 0),  # an ACK never raises, whatever its severity
        (Kind.PROVIDE_INFO, "nrrc", 4, 0),
        (Kind.WARNING, "nrrc", 0, 4),
        (Kind.WARNING, "leaders", 0, 5),
        (Kind.CONSULT_REQUEST, "leaders", 0, 5),
        (Kind.GOODWILL, "leaders", 0, 0),
    ],
)
def test_raise_rules_of_bilateral(kind: Kind, channel: str, severity: int, level: int) -> None:
    assert _feed(_ladder(), kind, channel, severity=severity) == level


@pytest.mark.parametrize(
    ("kind", "severity", "level"),
    [
        (Kind.EARLY_WARNING, 0, 2),
        (Kind.WARNING, 3, 4),
        (Kind.WARNING, 4, 5),
        (Kind.STAND_DOWN, 5, 0),
    ],
)
def test_raise_rules_of_no_agreement(kind: Kind, severity: int, level: int) -> None:
    assert _feed(_ladder("none"), kind, "diplomatic", severity=severity) == level


def test_level_change_records_why() -> None:
    ladder = _ladder()
    env = envelope(Kind.EARLY_WARNING, severity=1)
    change = ladder.observe(env, T0 + hours(1))
    assert change is not None
    assert (change.incident, change.at, change.level, change.previous, change.message_id) == (
        INCIDENT,
        T0 + hours(1),
        1,
        0,
        env.id,
    )
    assert change.reason == "EARLY_WARNING aa-cert→bb-cert on cert"
    severe = envelope(Kind.INCIDENT_UPDATE, severity=3, seq=2)
    change = ladder.observe(severe, T0 + hours(2))
    assert change is not None
    assert change.reason == "severity 3 on cert (INCIDENT_UPDATE aa-cert→bb-cert)"
    assert [c.level for c in ladder.history[INCIDENT]] == [1, 3]


def test_a_message_that_changes_nothing_returns_none() -> None:
    ladder = _ladder()
    _feed(ladder, Kind.REQUEST_INFO, "nrrc")
    assert ladder.observe(envelope(Kind.EARLY_WARNING, seq=99), T0) is None  # level 1 < 2: no raise
    assert ladder.level(INCIDENT) == 2


@pytest.mark.parametrize(
    ("body", "before", "after"),
    [
        (Kind.STAND_DOWN, 4, 0),
        (ProvideInfo(position=Position.NOT_STATE_ACTOR), 4, 3),
        (ProvideInfo(position=Position.ROUTINE), 2, 1),
        (ProvideInfo(position=Position.INVESTIGATING), 4, 4),
        (ProvideInfo(position=Position.DENY), 4, 4),
        (ProvideInfo(position=Position.ACCIDENT), 0, 0),
    ],
)
def test_lowering_to_and_by(body: Body | Kind, before: int, after: int) -> None:
    ladder = _ladder()
    raise_with = {4: (Kind.WARNING, "nrrc"), 2: (Kind.REQUEST_INFO, "nrrc"), 0: (Kind.GOODWILL, "cert")}[before]
    assert _feed(ladder, raise_with[0], raise_with[1]) == before
    assert _feed(ladder, body, "nrrc") == after


def test_lowering_under_incsea_by_consultation_reply() -> None:
    ladder = _ladder("incsea-cyber")
    assert _feed(ladder, Kind.CONSULT_REQUEST, "nrrc") == 3
    assert _feed(ladder, Kind.CONSULT_REPLY, "nrrc") == 2


def test_lowering_records_the_position() -> None:
    ladder = _ladder()
    _feed(ladder, Kind.WARNING, "nrrc")
    env = envelope(
        ProvideInfo(position=Position.UNAUTHORISED), sender="bb-nrrc", recipient="aa-nrrc", channel="nrrc", seq=500
    )
    change = ladder.observe(env, T0)
    assert change is not None
    assert change.level == 3
    assert change.reason == "PROVIDE_INFO (UNAUTHORISED) bb-nrrc→aa-nrrc on nrrc"


@pytest.mark.parametrize("kind", [Kind.EARLY_WARNING, Kind.REFERRAL, Kind.REQUEST_INFO, Kind.INCIDENT_UPDATE])
def test_domestic_traffic_does_not_raise(kind: Kind) -> None:
    assert _feed(_ladder(), kind, "domestic", severity=5) == 0


def test_domestic_stand_down_does_not_lower() -> None:
    ladder = _ladder()
    _feed(ladder, Kind.WARNING, "nrrc")
    assert _feed(ladder, Kind.STAND_DOWN, "domestic") == 4


def test_final_report_never_raises() -> None:
    ladder = _ladder()
    final = IncidentUpdate(severity=5, impact="final report", final=True)
    assert _feed(ladder, final, "nrrc", severity=5) == 0
    assert _feed(ladder, final, "leaders", severity=5) == 0
    not_final = IncidentUpdate(severity=5, impact="update")
    assert _feed(ladder, not_final, "nrrc", severity=5) == 3


def test_duplicate_ids_are_ignored() -> None:
    ladder = _ladder()
    assert _feed(ladder, Kind.EARLY_WARNING, "cert", msg_id="same") == 1
    assert _feed(ladder, Kind.STAND_DOWN, "cert", msg_id="other") == 0
    # a second copy of the warning (same id) does not raise it again
    assert _feed(ladder, Kind.EARLY_WARNING, "cert", msg_id="same") == 0
    assert len(ladder.history[INCIDENT]) == 2


def test_messages_without_incident_are_ignored() -> None:
    ladder = _ladder()
    assert ladder.observe(envelope(Kind.WARNING, channel="nrrc", incident=None), T0) is None
    assert ladder.levels == {}


def test_incidents_are_separate() -> None:
    ladder = _ladder()
    _feed(ladder, Kind.WARNING, "nrrc", incident="A")
    _feed(ladder, Kind.EARLY_WARNING, "cert", incident="B")
    assert (ladder.level("A"), ladder.level("B"), ladder.level("C")) == (4, 1, 0)


def test_peak_is_the_highest_level_and_when_it_was_first_reached() -> None:
    ladder = _ladder()
    assert ladder.peak(INCIDENT) == (0, None)
    _feed(ladder, Kind.EARLY_WARNING, "cert", at=T0)
    _feed(ladder, Kind.CONSULT_REQUEST, "nrrc", at=T0 + hours(1))
    _feed(ladder, ProvideInfo(position=Position.NOT_STATE_ACTOR), "nrrc", at=T0 + hours(2))
    assert ladder.level(INCIDENT) == 2
    _feed(ladder, Kind.CONSULT_REQUEST, "nrrc", at=T0 + hours(3))
    _feed(ladder, Kind.STAND_DOWN, "nrrc", at=T0 + hours(4))
    assert ladder.level(INCIDENT) == 0
    assert ladder.peak(INCIDENT) == (3, T0 + hours(1))


def test_level_names() -> None:
    ladder = _ladder()
    assert [ladder.name(n) for n in range(6)] == [
        "ROUTINE",
        "TECHNICAL CONCERN",
        "FORMAL INQUIRY",
        "CONSULTATION",
        "POLITICAL WARNING",
        "LEADER CRISIS",
    ]
