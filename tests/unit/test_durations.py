"""Durations (``1h30m``) and relative times (``+26:30``) as scenario authors write them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sim.model.durations import (
    Duration,
    Offset,
    format_duration,
    format_offset,
    format_sim_time,
    parse_duration,
    parse_offset,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("90s", timedelta(seconds=90)),
        ("45m", timedelta(minutes=45)),
        ("1h30m", timedelta(hours=1, minutes=30)),
        ("3d", timedelta(days=3)),
        ("1d2h3m4s", timedelta(days=1, hours=2, minutes=3, seconds=4)),
        (" 2h 15m ", timedelta(hours=2, minutes=15)),
        ("0s", timedelta(0)),
        ("72h", timedelta(hours=72)),
    ],
)
def test_parse_duration(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "   ", "5", "1.5h", "1m1h", "h", "3 days", "-1h", "1H", "1w"])
def test_parse_duration_errors_name_the_accepted_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a duration \(write e\.g\. 90s, 45m, 1h30m, 3d\)"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=1, minutes=30), "1h30m"),
        (timedelta(minutes=45), "45m"),
        (timedelta(days=3, hours=2), "3d2h"),
        (timedelta(0), "0s"),
        (timedelta(seconds=61), "1m1s"),
        (timedelta(hours=-1), "-1h"),
    ],
)
def test_format_duration(delta: timedelta, text: str) -> None:
    assert format_duration(delta) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=400 * 86400))
def test_duration_round_trip(seconds: int) -> None:
    delta = timedelta(seconds=seconds)
    assert parse_duration(format_duration(delta)) == delta


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("+00:30", timedelta(minutes=30)),
        ("+26:30", timedelta(hours=26, minutes=30)),
        ("+48:00", timedelta(hours=48)),
        ("+2:30", timedelta(hours=2, minutes=30)),
        ("+100:05", timedelta(hours=100, minutes=5)),
        (" +01:00 ", timedelta(hours=1)),
        ("+26:30:15", timedelta(days=1, hours=2, minutes=30, seconds=15)),
    ],
)
def test_parse_offset(text: str, expected: timedelta) -> None:
    assert parse_offset(text) == expected


@pytest.mark.parametrize("text", ["26:30", "+26", "+26:3", "-01:00", "+aa:bb", "", "+1h", "+0130"])
def test_parse_offset_rejects_other_forms(text: str) -> None:
    with pytest.raises(ValueError, match=r"is not a relative time \(write \+HH:MM"):
        parse_offset(text)


@pytest.mark.parametrize("text", ["+01:60", "+01:99"])
def test_parse_offset_minutes_below_sixty(text: str) -> None:
    with pytest.raises(ValueError, match="minutes and seconds must be below 60"):
        parse_offset(text)


@pytest.mark.parametrize(
    ("delta", "text"),
    [
        (timedelta(hours=26, minutes=30), "+26:30"),
        (timedelta(0), "+00:00"),
        (timedelta(minutes=5), "+00:05"),
        (timedelta(hours=100), "+100:00"),
        (timedelta(minutes=-30), "-00:30"),
        (timedelta(minutes=30, seconds=15), "+00:30:15"),
    ],
)
def test_format_offset(delta: timedelta, text: str) -> None:
    assert format_offset(delta) == text


@settings(max_examples=200, deadline=None)
@given(st.integers(min_value=0, max_value=999 * 60 + 59))
def test_offset_round_trip_whole_minutes(total_minutes: int) -> None:
    delta = timedelta(minutes=total_minutes)
    assert parse_offset(format_offset(delta)) == delta


def test_offset_with_seconds_round_trips() -> None:
    delta = timedelta(minutes=30, seconds=15)
    assert parse_offset(format_offset(delta)) == delta


def test_format_sim_time() -> None:
    assert format_sim_time(datetime(2026, 11, 2, 12, 5, 59, tzinfo=UTC)) == "2026-11-02 12:05"


class _Model(BaseModel):
    d: Duration
    o: Offset


def test_pydantic_field_types_parse_and_serialise() -> None:
    model = _Model.model_validate({"d": "1h30m", "o": "+26:30"})
    assert model.d == timedelta(hours=1, minutes=30)
    assert model.o == timedelta(hours=26, minutes=30)
    assert model.model_dump(mode="json") == {"d": "1h30m", "o": "+26:30"}
    assert _Model.model_validate_json(model.model_dump_json()) == model


def test_a_bare_number_is_not_a_duration() -> None:
    with pytest.raises(ValidationError, match=r"90 has no unit \(write e\.g\. 90m or 90h\)"):
        _Model.model_validate({"d": 90, "o": "+00:10"})


@pytest.mark.parametrize("value", [90, 1.5])
def test_a_bare_number_is_not_an_offset(value: float) -> None:
    with pytest.raises(ValidationError, match="relative time"):
        _Model.model_validate({"d": "1m", "o": value})


@pytest.mark.parametrize("value", [True, False])
def test_a_boolean_is_not_a_duration(value: bool) -> None:
    with pytest.raises(ValidationError):
        _Model.model_validate({"d": value, "o": "+00:10"})
