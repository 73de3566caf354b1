"""The director's recorder: every journal line goes through here — written to the journal
file, folded into the live :class:`~sim.evaluation.outcome.ExerciseState`, and shown to whoever
watches (``on_entry``: the console timeline, the dashboard).

Fast mode buffers a round's entries and :meth:`Recorder.flush` writes them in canonical order
(:meth:`~sim.model.journal.Entry.sort_key`), which is what makes its journal byte-identical
from run to run; realtime writes each entry as it comes.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sim.evaluation.outcome import Event, ExerciseState
from sim.model.journal import Entry, JournalHeader
from sim.runtime.journal import JournalWriter

EntryCallback = Callable[[ExerciseState, Entry, Event | None], None]


class Recorder:
    def __init__(self, path: Path, state: ExerciseState, on_entry: EntryCallback | None = None) -> None:
        self.path = path
        self.state = state
        self.on_entry = on_entry
        #: Entries written to the journal so far.
        self.count = 0
        self._journal: JournalWriter | None = None
        self._buffer: list[Entry] = []

    def open(self, header: JournalHeader) -> None:
        self._journal = JournalWriter(self.path, header)

    def write(self, entry: Entry) -> None:
        """Write one entry now (nothing before the journal is open)."""
        if self._journal is None:
            return
        self._journal.write(entry)
        self.count += 1
        event = self.state.apply(entry)
        if self.on_entry is not None:
            self.on_entry(self.state, entry, event)

    def buffer(self, entry: Entry) -> None:
        """Keep an entry for the next :meth:`flush`."""
        self._buffer.append(entry)

    def flush(self) -> None:
        """Write the buffered entries in canonical order."""
        buffered, self._buffer = self._buffer, []
        for entry in sorted(buffered, key=Entry.sort_key):
            self.write(entry)

    def close(self) -> None:
        if self._journal is not None:
            self._journal.close()
