"""The append-only JSONL journal: one header line, then one ``{t, topic, payload}`` per message.

The header carries the whole scenario and agreement, so a journal is self-contained: the
summary, the after-action report and the dashboard's replay need nothing else. Each line is
flushed as it is written, so a journal is readable up to the last message after a crash.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

from sim.model.errors import HotlineError
from sim.model.journal import Entry, JournalHeader


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
