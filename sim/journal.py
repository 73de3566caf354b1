"""The append-only JSONL journal: one header line, then one ``{t, topic, payload}`` per message.

The header carries the whole scenario and agreement, so a journal is self-contained: the
summary, the after-action report and the dashboard's replay need nothing else. Each line is
flushed as it is written, so a journal is readable up to the last message after a crash.
"""

from __future__ import annotations

import json
import platform
from collections.abc import Iterator
from datetime import datetime
from importlib import metadata
from pathlib import Path
from typing import IO, Any, Literal

from pydantic import BaseModel, ConfigDict

from sim.agreement import Agreement
from sim.errors import HotlineError
from sim.messages import UtcDatetime
from sim.scenario import Scenario

JOURNAL_VERSION = 1


class JournalHeader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    journal: Literal["hotline"] = "hotline"
    version: int = JOURNAL_VERSION
    exercise: str
    mode: Literal["fast", "realtime"]
    seed: int
    scenario_sha256: str
    scenario: Scenario
    agreement: Agreement
    versions: dict[str, str]


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    t: UtcDatetime
    topic: str
    #: The payload parsed as JSON, or None when it was not JSON (then ``raw`` has it).
    payload: Any = None
    raw: str | None = None

    @classmethod
    def of(cls, t: datetime, topic: str, payload: bytes) -> Entry:
        try:
            return cls(t=t, topic=topic, payload=json.loads(payload))
        except (ValueError, UnicodeDecodeError):
            return cls(t=t, topic=topic, raw=payload.decode("utf-8", errors="replace"))

    def line(self) -> str:
        data: dict[str, Any] = {"t": self.t.strftime("%Y-%m-%dT%H:%M:%SZ"), "topic": self.topic}
        if self.raw is not None:
            data["raw"] = self.raw
        else:
            data["payload"] = self.payload
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def sort_key(self) -> tuple[datetime, int, str, int, int, int, str]:
        """Canonical order of one instant: the director's control messages first (they cause
        the rest), then per agency in the order it acted — a message (by its seq) before what
        the agency observed after sending it — then the full line as a tie-breaker."""
        parts = self.topic.split("/")
        area = parts[3] if len(parts) > 3 else ""
        payload = self.payload if isinstance(self.payload, dict) else {}
        seq = payload.get("seq", 0)
        n = payload.get("n", 0)
        seq = seq if isinstance(seq, int) else 0
        n = n if isinstance(n, int) else 0
        if area == "msg" and len(parts) > 5:
            return (self.t, 1, parts[5], seq, 0, 0, self.line())
        if area == "obs" and len(parts) > 4:
            return (self.t, 1, parts[4], seq, 1, n, self.line())
        group = {"ctl": 0, "presence": 2}.get(area, 3)
        return (self.t, group, self.topic, 0, 0, 0, self.line())


def versions() -> dict[str, str]:
    out = {"python": platform.python_version()}
    for dist in ("hotline-sim", "aiomqtt", "amqtt", "pydantic"):
        try:
            out[dist] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[dist] = "unknown"
    return out


class JournalWriter:
    def __init__(self, path: Path, header: JournalHeader) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._file: IO[str] = path.open("x", encoding="utf-8")  # never overwrite a journal
        self._file.write(header.model_dump_json(exclude_none=True, by_alias=True) + "\n")
        self._file.flush()
        self.count = 0

    def write(self, entry: Entry) -> None:
        self._file.write(entry.line() + "\n")
        self._file.flush()
        self.count += 1

    def close(self) -> None:
        self._file.close()


class JournalError(HotlineError):
    def __init__(self, path: Path, line: int, detail: str) -> None:
        super().__init__(f"{path}:{line}: {detail}")
        self.path = path
        self.line = line
        self.detail = detail


def read_header(path: Path) -> JournalHeader:
    with path.open(encoding="utf-8") as fh:
        first = fh.readline()
    try:
        return JournalHeader.model_validate_json(first)
    except ValueError as exc:
        raise JournalError(path, 1, "not a Hotline journal (its first line is not a journal header)") from exc


def read_entries(path: Path) -> Iterator[Entry]:
    """Entries after the header; a torn last line (crash mid-write) is skipped."""
    with path.open(encoding="utf-8") as fh:
        fh.readline()
        for number, line in enumerate(fh, start=2):
            if not line.endswith("\n"):
                return  # torn final line
            try:
                yield Entry.model_validate_json(line)
            except ValueError as exc:
                raise JournalError(path, number, str(exc)) from exc


def run_dir(base: Path, exercise: str, stamp: str) -> Path:
    """A new run folder ``<exercise>-<stamp>`` (``-2``, ``-3`` … when two runs start in the same
    second): created here, so that no two runs ever share one."""
    base.mkdir(parents=True, exist_ok=True)
    for n in range(1, 1000):
        candidate = base / (f"{exercise}-{stamp}" + (f"-{n}" if n > 1 else ""))
        try:
            candidate.mkdir()
        except FileExistsError:
            continue
        return candidate
    raise HotlineError(f"too many runs of {exercise} at {stamp} in {base}")
