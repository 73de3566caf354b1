"""Replay playback (pure): a position in sim time that moves at ``speed`` sim seconds per
wall second unless paused, and can be stepped, scrubbed or jumped to either end."""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

#: Speeds offered by + and - (sim seconds per wall second), live and in replay.
SPEEDS = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 3600.0, 7200.0, 14400.0, 28800.0, 86400.0)


def next_speed(current: float, *, up: bool) -> float:
    """The next speed on the ladder above (or below) ``current``."""
    if up:
        return next((s for s in SPEEDS if s > current * 1.0001), SPEEDS[-1])
    return next((s for s in reversed(SPEEDS) if s < current * 0.9999), SPEEDS[0])


def default_speed(duration: timedelta, wall_seconds: float = 60.0) -> float:
    """The ladder speed that plays ``duration`` in about ``wall_seconds``."""
    wanted = duration.total_seconds() / wall_seconds
    return min(SPEEDS, key=lambda s: abs(s - wanted) / s)


def format_speed(speed: float) -> str:
    return f"×{speed:g}"


@dataclass
class Playback:
    start: datetime
    end: datetime
    position: datetime
    speed: float
    paused: bool = False

    @property
    def at_end(self) -> bool:
        return self.position >= self.end

    @property
    def fraction(self) -> float:
        total = (self.end - self.start).total_seconds()
        return 1.0 if total <= 0 else (self.position - self.start).total_seconds() / total

    def advance(self, wall_seconds: float) -> None:
        """Move on by ``wall_seconds`` of wall time; stop (pause) at the end."""
        if self.paused or wall_seconds <= 0:
            return
        self.seek(self.position + timedelta(seconds=wall_seconds * self.speed))
        if self.at_end:
            self.paused = True

    def toggle(self) -> None:
        if self.paused and self.at_end:
            self.position = self.start  # play again from the top
        self.paused = not self.paused

    def faster(self) -> None:
        self.speed = next_speed(self.speed, up=True)

    def slower(self) -> None:
        self.speed = next_speed(self.speed, up=False)

    def seek(self, t: datetime) -> None:
        self.position = min(self.end, max(self.start, t))

    def scrub(self, fraction: float) -> None:
        """Move by ``fraction`` of the whole exercise (negative: back)."""
        self.seek(self.position + (self.end - self.start) * fraction)

    def jump_start(self) -> None:
        self.paused = True
        self.position = self.start

    def jump_end(self) -> None:
        self.paused = True
        self.position = self.end

    def step(self, times: Sequence[float], *, forward: bool = True) -> None:
        """Pause and move to the next (previous) time in ``times`` (sorted epoch seconds): one
        message at a time."""
        self.paused = True
        now = self.position.timestamp()
        if forward:
            i = bisect_right(times, now)
            self.seek(datetime.fromtimestamp(times[i], UTC) if i < len(times) else self.end)
        else:
            i = bisect_left(times, now)
            self.seek(datetime.fromtimestamp(times[i - 1], UTC) if i > 0 else self.start)
