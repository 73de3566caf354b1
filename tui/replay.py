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

from sim.evaluation.journalfile import JournalError, read_header
from sim.model.journal import Entry, JournalHeader
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


#: Bytes of journal indexed per step: the first step is enough for the first paint; the rest is
#: indexed a step per frame (a few milliseconds each) while the dashboard is already on screen.
SCAN_BYTES = 2_000_000


class JournalIndex:
    """Where each entry of a journal starts and at which sim time; entries read on demand.

    The file is indexed progressively (:meth:`scan`), so a huge journal opens at once."""

    def __init__(self, path: Path, *, scan_bytes: int = SCAN_BYTES) -> None:
        self.path = path
        self.header: JournalHeader = read_header(path)
        self.offsets = array("q")
        #: Sim time (epoch seconds) of each entry, made non-decreasing so bisect works.
        self.times = array("d")
        #: Sim times (epoch seconds) of protocol messages, for stepping one message at a time.
        self.message_times: list[float] = []
        with path.open("rb") as fh:
            self._pos = len(fh.readline())
            fh.seek(0, 2)
            self.size = fh.tell()
        self._end = self._pos
        self._number = 1
        self._last = 0.0
        self._stamp, self._stamp_t = b"", 0.0
        self.last_time = self._tail_time()
        self.scan(scan_bytes)

    @property
    def complete(self) -> bool:
        return self._pos >= self.size

    @property
    def scanned_until(self) -> float:
        """Sim time (epoch) up to which every entry is indexed."""
        return float("inf") if self.complete else self._last

    def _tail_time(self) -> datetime | None:
        """The time of the last complete line, read from the end of the file."""
        with self.path.open("rb") as fh:
            fh.seek(max(self._pos, self.size - 65536))
            tail = fh.read()
        lines = tail.split(b"\n")[:-1]  # what follows the last newline is torn or empty
        for line in reversed(lines):
            t = _time_of(line)
            if t is not None:
                return datetime.fromtimestamp(t, UTC)
        return None

    def scan(self, max_bytes: int | None = None) -> bool:
        """Index up to ``max_bytes`` more of the file (all of it when None); True when complete."""
        if self.complete:
            return True
        with self.path.open("rb") as fh:
            fh.seek(self._pos)
            data = fh.read(max_bytes if max_bytes is not None else -1)
        cut = data.rfind(b"\n") + 1
        if cut == 0:
            if len(data) < (max_bytes or 0) or max_bytes is None:
                self._pos = self.size  # a torn last line (crash mid-write): ignored, as read_entries does
                return True
            return self.scan(max_bytes * 2)  # a line longer than the step
        self._index(data, cut)
        self._pos += cut
        self._end = self._pos
        if self._pos < self.size and max_bytes is None:
            self._pos = self.size  # only a torn line is left
        elif self._pos < self.size and b"\n" not in data[cut:] and len(data) < (max_bytes or 0):
            self._pos = self.size
        return self.complete

    def _index(self, data: bytes, cut: int) -> None:
        offsets, times, message_times = self.offsets, self.times, self.message_times
        msg_at = _TOPIC_AT + len(_TOPIC_KEY)
        base = self._pos
        pos = 0
        last = self._last
        while pos < cut:
            nl = data.find(b"\n", pos)
            self._number += 1
            head = data[pos : min(nl, pos + msg_at + 120)]
            if head[: len(_T_PREFIX)] == _T_PREFIX and head[_TOPIC_AT:msg_at] == _TOPIC_KEY:
                if head[len(_T_PREFIX) : _TOPIC_AT] != self._stamp:
                    self._stamp = head[len(_T_PREFIX) : _TOPIC_AT]
                    self._stamp_t = _time_of(head) or 0.0
                t = self._stamp_t
            else:
                try:
                    t = _epoch(Entry.model_validate_json(data[pos:nl]).t)
                except ValueError as exc:
                    raise JournalError(self.path, self._number, str(exc).splitlines()[0]) from exc
            last = max(last, t)
            offsets.append(base + pos)
            times.append(last)
            if b"/msg/" in head[msg_at:] and (not message_times or message_times[-1] != last):
                message_times.append(last)
            pos = nl + 1
        self._last = last

    def __len__(self) -> int:
        return len(self.offsets)

    def count_until(self, t: datetime) -> int:
        """How many indexed entries happened at or before ``t``."""
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
    def indexing(self) -> bool:
        """The position lies beyond what is indexed yet."""
        return self.index.scanned_until < _epoch(self.playback.position)

    @property
    def behind(self) -> int:
        """Entries still to fold before the model shows the playback position (at least 1 while
        the index has not reached it)."""
        target = self.target
        left = target - self.folded if target >= self.folded else target
        return max(left, 1) if self.indexing else left

    def fold(self, budget: int | None = None) -> bool:
        """Fold towards the playback position, at most ``budget`` entries; True when there."""
        if budget is None:
            self.index.scan()
        elif self.indexing:
            self.index.scan(SCAN_BYTES)
        target = self.target
        if target < self.folded:
            self.model = self._fresh()
            self.folded = 0
        stop = target if budget is None else min(target, self.folded + budget)
        for entry in self.index.read(self.folded, stop):
            self.model.apply(entry)
        self.folded = stop
        if stop == target and not self.indexing:
            self.model.now = self.playback.position  # screens redraw when it shows (see DashboardApp)
            return True
        return False
