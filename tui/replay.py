"""Replaying a journal: a cheap index of the file (offset and time of every line) so the
dashboard paints at once, then entries folded into the model in bounded chunks as the
playback position moves — forward incrementally, backward by folding again from the top.

The same :class:`~tui.model.DashboardModel` is fed live by the broker (:mod:`tui.live`)."""

from __future__ import annotations

import json
from array import array
from bisect import bisect_right
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

from sim.journal import Entry, JournalError, JournalHeader, read_header
from tui.model import DashboardModel
from tui.playback import Playback, default_speed

_T_PREFIX = b'{"t":"'
_TOPIC_AT = len(_T_PREFIX) + 20  # '{"t":"2026-11-02T12:00:00Z'
_TOPIC_KEY = b'","topic":"'
_PAYLOAD_KEY = b'","payload":'


def _epoch(t: datetime) -> float:
    return t.timestamp()


def _time_of(line: bytes) -> float | None:
    """The ``t`` of a journal line written by :meth:`Entry.line`, without parsing the JSON."""
    if not line.startswith(_T_PREFIX) or line[_TOPIC_AT : _TOPIC_AT + len(_TOPIC_KEY)] != _TOPIC_KEY:
        return None
    try:
        return datetime.fromisoformat(line[len(_T_PREFIX) : _TOPIC_AT].decode()).timestamp()
    except ValueError:
        return None


def entry_of(line: bytes) -> Entry:
    """One journal line as an :class:`Entry`.

    Lines written by :meth:`Entry.line` have a fixed shape; their payload is handed on as raw
    JSON (``ExerciseState`` validates it once) instead of being parsed here and dumped again.
    Anything else takes the slow, fully validated path."""
    t = _time_of(line)
    start = _TOPIC_AT + len(_TOPIC_KEY)
    end = line.find(_PAYLOAD_KEY, start)
    if t is None or end < 0 or b"\\" in line[start:end] or not line.rstrip().endswith(b"}"):
        return Entry.model_validate_json(line)
    topic = line[start:end].decode()
    payload = line[end + len(_PAYLOAD_KEY) :].rstrip()[:-1]
    when = datetime.fromtimestamp(t, UTC)
    if "/presence/" in topic:
        return Entry.model_construct(t=when, topic=topic, payload=json.loads(payload), raw=None)
    return Entry.model_construct(t=when, topic=topic, payload=None, raw=payload.decode())


class JournalIndex:
    """Where each entry of a journal starts and at which sim time; entries read on demand."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.header: JournalHeader = read_header(path)
        self.offsets = array("q")
        self.times = array("d")
        #: Sim times of protocol messages, for stepping one message at a time.
        self.message_times: list[datetime] = []
        self._scan()

    def _scan(self) -> None:
        data = self.path.read_bytes()
        pos = data.find(b"\n") + 1
        last = 0.0
        number = 1
        while pos < len(data):
            nl = data.find(b"\n", pos)
            if nl < 0:
                break  # torn last line (crash mid-write): ignored, as read_entries does
            number += 1
            line = data[pos:nl]
            t = _time_of(line)
            if t is None:
                try:
                    t = _epoch(Entry.model_validate_json(line).t)
                except ValueError as exc:
                    raise JournalError(self.path, number, str(exc).splitlines()[0]) from exc
            last = max(last, t)
            self.offsets.append(pos)
            self.times.append(last)  # non-decreasing, so bisect works on any journal
            if b"/msg/" in line[_TOPIC_AT : _TOPIC_AT + 200]:
                when = datetime.fromtimestamp(t, UTC)
                if not self.message_times or when >= self.message_times[-1]:
                    self.message_times.append(when)
            pos = nl + 1
        self._end = pos

    def __len__(self) -> int:
        return len(self.offsets)

    def count_until(self, t: datetime) -> int:
        """How many entries happened at or before ``t``."""
        return bisect_right(self.times, _epoch(t))

    def read(self, first: int, last: int) -> Iterator[Entry]:
        """Entries ``first`` .. ``last - 1``."""
        if first >= last:
            return
        begin = self.offsets[first]
        end = self.offsets[last] if last < len(self.offsets) else self._end
        with self.path.open("rb") as fh:
            fh.seek(begin)
            chunk = fh.read(end - begin)
        for line in chunk.split(b"\n"):
            if line:
                yield entry_of(line)

    @property
    def last_time(self) -> datetime | None:
        return datetime.fromtimestamp(self.times[-1], UTC) if len(self.times) else None


class Replayer:
    """A journal, a playback position, and the model folded up to that position."""

    def __init__(self, index: JournalIndex, *, speed: float | None = None, at: datetime | None = None) -> None:
        self.index = index
        sc = index.header.scenario
        end = max(sc.end, index.last_time or sc.end)
        self.playback = Playback(sc.start, end, sc.start, speed or default_speed(end - sc.start))
        if at is not None:
            self.playback.seek(at)
        self.model = self._fresh()
        self.folded = 0

    def _fresh(self) -> DashboardModel:
        header = self.index.header
        model = DashboardModel(header.scenario, header.agreement, header.exercise)
        model.now = self.playback.start
        return model

    @property
    def target(self) -> int:
        return self.index.count_until(self.playback.position)

    @property
    def behind(self) -> int:
        """Entries still to fold before the model shows the playback position."""
        target = self.target
        return target - self.folded if target >= self.folded else target

    def fold(self, budget: int | None = None) -> bool:
        """Fold towards the playback position, at most ``budget`` entries; True when there."""
        target = self.target
        if target < self.folded:
            self.model = self._fresh()
            self.folded = 0
        stop = target if budget is None else min(target, self.folded + budget)
        for entry in self.index.read(self.folded, stop):
            self.model.apply(entry)
        self.folded = stop
        if stop == target:
            self.model.now = self.playback.position
            self.model.version += 1
            return True
        return False
