"""Durations and relative times as scenario authors write them: ``90s``, ``45m``, ``1h30m``,
``3d``, and inject times ``+HH:MM`` or ``+HH:MM:SS`` (hours may pass 24: ``+72:00``)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, PlainSerializer

_UNIT = {"d": 86400, "h": 3600, "m": 60, "s": 1}
_DURATION = re.compile(r"^\s*(?:(\d{1,7})d)?\s*(?:(\d{1,8})h)?\s*(?:(\d{1,9})m)?\s*(?:(\d{1,10})s)?\s*$")
#: The longest duration anything in a scenario may last (more is a typo, or an attack on the clock).
MAX_DURATION = timedelta(days=3660)
_OFFSET = re.compile(r"^\+(\d{1,4}):(\d{2})(?::(\d{2}))?$")


def parse_duration(text: str) -> timedelta:
    """``"1h30m"`` → 90 minutes. Raises ValueError with the accepted forms."""
    match = _DURATION.match(text)
    if not text.strip() or match is None or not any(match.groups()):
        raise ValueError(f"{text!r} is not a duration (write e.g. 90s, 45m, 1h30m, 3d)")
    days, hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    value = timedelta(days=days, hours=hours, minutes=minutes, seconds=seconds)
    if value > MAX_DURATION:
        raise ValueError(f"{text!r} is longer than ten years")
    return value


def parse_offset(text: str) -> timedelta:
    """``"+26:30"`` → 26 h 30 min after the scenario start."""
    match = _OFFSET.match(text.strip())
    if match is None:
        raise ValueError(f"{text!r} is not a relative time (write +HH:MM, e.g. +02:30 or +48:00)")
    hours, minutes, seconds = (int(g) if g else 0 for g in match.groups())
    if minutes >= 60 or seconds >= 60:
        raise ValueError(f"{text!r}: minutes and seconds must be below 60")
    return timedelta(hours=hours, minutes=minutes, seconds=seconds)


def format_duration(delta: timedelta) -> str:
    """Compact and exact: 1h30m, 45m, 3d2h, 0s."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else ""
    total = abs(total)
    parts = []
    for unit, size in _UNIT.items():
        if total >= size:
            parts.append(f"{total // size}{unit}")
            total %= size
    return sign + ("".join(parts) or "0s")


def format_offset(delta: timedelta) -> str:
    """T+ notation used in timelines: ``+26:30``."""
    total = int(delta.total_seconds())
    sign = "-" if total < 0 else "+"
    total = abs(total)
    hours, rem = divmod(total, 3600)
    minutes, seconds = divmod(rem, 60)
    text = f"{sign}{hours:02d}:{minutes:02d}"
    return text + (f":{seconds:02d}" if seconds else "")


def format_sim_time(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _duration_in(value: Any) -> Any:
    if isinstance(value, str):
        return parse_duration(value)
    if isinstance(value, bool):
        raise ValueError(f"{value!r} is not a duration (write e.g. 90s, 45m, 1h30m, 3d)")  # noqa: TRY004 - pydantic locates a ValueError, not a TypeError
    if isinstance(value, int | float):
        # pydantic turns ValueError (not TypeError) into a located validation error
        raise ValueError(f"{value!r} has no unit (write e.g. {value}m or {value}h)")  # noqa: TRY004 - pydantic locates a ValueError, not a TypeError
    return value


def _offset_in(value: Any) -> Any:
    if isinstance(value, str):
        return parse_offset(value)
    if isinstance(value, int | float):  # YAML reads `at: +26` or `at: 90` as a number
        raise ValueError(f'{value!r} is not a relative time (write +HH:MM in quotes, e.g. "+02:30")')  # noqa: TRY004 - pydantic locates a ValueError, not a TypeError
    return value


#: A pydantic field type for durations written as text in YAML.
Duration = Annotated[timedelta, BeforeValidator(_duration_in), PlainSerializer(format_duration, return_type=str)]
#: A pydantic field type for ``+HH:MM`` offsets from the scenario start.
Offset = Annotated[timedelta, BeforeValidator(_offset_in), PlainSerializer(format_offset, return_type=str)]


def _positive(value: timedelta) -> timedelta:
    if value <= timedelta(0):
        raise ValueError("must be longer than zero")
    return value


#: A duration that must be longer than zero (latencies, deadlines).
PositiveDuration = Annotated[Duration, AfterValidator(_positive)]
