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


#: The longest header line read (it holds the whole scenario and agreement), and entry line.
MAX_HEADER_BYTES = 16 * 1024 * 1024
MAX_LINE_BYTES = 8 * 1024 * 1024


def read_header(path: Path) -> JournalHeader:
    with path.open("rb") as fh:
        first = fh.readline(MAX_HEADER_BYTES + 1)
    try:
        return JournalHeader.model_validate_json(first if len(first) <= MAX_HEADER_BYTES else b"")
    except ValueError as exc:
        raise JournalError(path, 1, "not a Hotline journal (its first line is not a journal header)") from exc


def read_entries(path: Path) -> Iterator[Entry]:
    """Entries after the header; a torn last line (crash mid-write) is skipped. Each line is
    admitted like everything else read: bounded, strict UTF-8 JSON of the journal's shape."""
    with path.open("rb") as fh:
        fh.readline(MAX_HEADER_BYTES + 1)
        number = 1
        while line := fh.readline(MAX_LINE_BYTES + 1):
            number += 1
            if len(line) > MAX_LINE_BYTES:
                raise JournalError(path, number, f"a line longer than {MAX_LINE_BYTES // 1024 // 1024} MB")
            if not line.endswith(b"\n"):
                return  # torn final line
            try:
                yield Entry.model_validate_json(line)
            except ValueError as exc:
                raise JournalError(path, number, _first(exc)) from exc


def _first(exc: ValueError) -> str:
    return str(exc).splitlines()[1 if len(str(exc).splitlines()) > 1 else 0].strip()[:200]
