"""Log filters, replay playback and facilitator command payloads (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sim.model.control import ClockState, Command, CommandResult
from sim.model.injects import MessageInject
from sim.model.messages import Kind
from tui.commands import (
    CommandBook,
    FreeMessage,
    InjectInvalid,
    body_template,
    describe_result,
    encode_command,
    pause_or_resume,
    validate_free_message,
)
from tui.filters import FilterError, LogFilter
from tui.live import sim_now
from tui.playback import Playback, default_speed, next_speed

from .helpers import folded

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)


def _kinds(text: str) -> list[str]:
    model = folded()
    f = LogFilter.parse(text)
    return [m.envelope.id for m in model.messages() if f.matches(m.envelope, model.fate(m.envelope.id).value)]


def test_filters_by_incident_agency_kind_and_fate() -> None:
    assert _kinds("EI-2") == ["ru-cert-2", "us-cert-8", "ru-cert-3"]
    assert _kinds("kind:ACK") == ["ru-cert-1", "us-cert-8"]
    assert _kinds("agency:ru-nrrc kind:prov") == ["ru-nrrc-1", "ru-nrrc-2"]
    assert _kinds("fate:overdue") == ["us-cert-1", "us-cert-2"]
    assert _kinds("from:us-nrrc to:us-cert") == ["us-nrrc-5"]
    assert len(_kinds("")) == 19
    assert str(LogFilter.parse("EI-1  kind:ACK")) == "ei-1 kind:ack"
    with pytest.raises(FilterError):
        LogFilter.parse("colour:red")


def test_playback_moves_pauses_steps_and_scrubs() -> None:
    pb = Playback(T0, T0 + timedelta(hours=72), T0, 3600.0)
    pb.advance(2.0)
    assert pb.position == T0 + timedelta(hours=2)
    pb.advance(1000)
    assert pb.at_end
    assert pb.paused
    pb.toggle()
    assert pb.position == T0
    assert not pb.paused
    moments = [T0 + timedelta(hours=h) for h in (1, 5, 9)]
    times = [m.timestamp() for m in moments]
    pb.step(times)
    assert pb.position == moments[0]
    assert pb.paused
    pb.step(times)
    assert pb.position == moments[1]
    pb.step(times, forward=False)
    assert pb.position == moments[0]
    pb.scrub(0.5)
    assert pb.position == T0 + timedelta(hours=37)
    pb.jump_end()
    assert pb.position == pb.end
    pb.jump_start()
    assert pb.position == T0
    assert next_speed(3600, up=True) == 7200
    assert next_speed(3600, up=False) == 1200
    assert next_speed(86400, up=True) == 86400
    assert default_speed(timedelta(hours=72)) == 3600


def test_realtime_sim_now_follows_the_wall_clock_unless_paused() -> None:
    wall = datetime(2030, 1, 1, tzinfo=UTC)
    clock = ClockState(mode="realtime", round=0, now=T0, start=T0, end=T0 + timedelta(hours=72), speed=3600, wall=wall)
    assert sim_now(clock, wall + timedelta(seconds=2)) == T0 + timedelta(hours=2)
    assert sim_now(clock.model_copy(update={"paused": True}), wall + timedelta(seconds=2)) == T0
    assert sim_now(clock, wall + timedelta(days=5)) == T0 + timedelta(hours=72)


def test_commands_round_trip_and_are_tracked() -> None:
    model = folded()
    book = CommandBook("dash-1")
    speed = book.make("speed", speed=7200)
    inject = book.make("inject", inject=model.scenario.injects[-1])
    for command in (speed, inject):
        assert Command.model_validate_json(encode_command(command)) == command
    assert b'"from"' in encode_command(inject) or not isinstance(model.scenario.injects[-1], MessageInject)
    assert [c.id for c in book.waiting()] == ["dash-1-1", "dash-1-2"]
    result = CommandResult(id="dash-1-1", client="dash-1", action="speed", accepted=False, reason="fast mode", at=T0)
    assert book.answer(result) == speed
    assert describe_result(result, speed) == "✗ speed ×7200 refused: fast mode"
    assert [c.id for c in book.waiting()] == ["dash-1-2"]
    assert pause_or_resume(None) == "pause"


def test_the_free_message_form_is_validated_before_sending() -> None:
    model = folded()
    sc, ag = model.scenario, model.agreement
    with pytest.raises(InjectInvalid) as bad:
        validate_free_message(sc, ag, FreeMessage(sender="", recipient="", kind=""))
    assert set(bad.value.errors) == {"sender", "recipient", "kind"}
    with pytest.raises(InjectInvalid) as bad:
        validate_free_message(
            sc,
            ag,
            FreeMessage(sender="us-nrrc", recipient="ru-nrrc", kind="WARNING", incident="EI-1", body="demand: x"),
        )
    assert any("basis" in m for m in bad.value.errors["body"])
    with pytest.raises(InjectInvalid) as bad:
        validate_free_message(
            sc, ag, FreeMessage(sender="us-cert", recipient="ru-nrrc", kind="WARNING", incident="EI-1", body="")
        )
    assert "channel" in bad.value.errors
    with pytest.raises(InjectInvalid) as bad:
        validate_free_message(sc, ag, FreeMessage(sender="ru-cert", recipient="us-cert", kind="ACK", incident="EI-1"))
    assert "in_reply_to" in bad.value.errors
    with pytest.raises(InjectInvalid) as bad:
        validate_free_message(
            sc, ag, FreeMessage(sender="us-cert", recipient="ru-cert", kind="GOODWILL", severity="9", body="- a list")
        )
    assert set(bad.value.errors) >= {"severity", "body"}
    inject = validate_free_message(
        sc,
        ag,
        FreeMessage(
            sender="us-nrrc",
            recipient="ru-nrrc",
            kind="WARNING",
            incident="EI-1",
            channel="nrrc",
            severity="4",
            body='{"demand": "stop", "basis": "evidence"}',
            note="facilitator escalates",
        ),
    )
    assert isinstance(inject, MessageInject)
    assert inject.message.kind is Kind.WARNING
    assert inject.message.channel == "nrrc"
    assert inject.message.severity == 4
    assert inject.note == "facilitator escalates"
    assert "demand" in body_template(Kind.WARNING)
    assert "basis" in body_template(Kind.WARNING)
    assert "questions" in body_template(Kind.REQUEST_INFO)
