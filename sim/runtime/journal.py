"""The append-only JSONL journal: one header line, then one ``{t, topic, payload}`` per message.

The header carries the whole scenario and agreement, so a journal is self-contained: the
summary, the after-action report and the dashboard's replay need nothing else. Each line is
flushed as it is written, so a journal is readable up to the last message after a crash.
"""

from __future__ import annotations

import platform
from importlib import metadata
from pathlib import Path
from typing import IO

from sim.model.errors import HotlineError
from sim.model.journal import Entry, JournalHeader


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
