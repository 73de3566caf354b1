"""Replay benchmark: how long ``hotline replay`` takes from start to the first full paint of a
100,000-entry journal, how long until the whole journal is folded (``--at end``), and the
peak memory of each — median of N runs, each a fresh process in a 120×40 pseudo-terminal.

The baseline, measured in the same run, is the same command on the 113-entry election journal:
Python start-up, imports and Textual's first frame, which no journal size can go below.

    python bench/dashboard_replay.py [--runs 5] [--entries 100000]
"""

from __future__ import annotations

import argparse
import fcntl
import os
import pty
import statistics
import struct
import subprocess
import sys
import tempfile
import termios
import threading
import time
from pathlib import Path

from dashboard_journal import write_journal

REPO = Path(__file__).resolve().parent.parent
SMALL = REPO / "tests" / "tui" / "fixtures" / "election-interference.jsonl"


def run_once(journal: Path, *extra: str) -> tuple[float, float]:
    """(seconds from spawn to exit after the first full paint, peak RSS in MB)."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    env = dict(os.environ, HOTLINE_EXIT_AFTER_PAINT="1", TERM="xterm-256color", COLUMNS="120", LINES="40")

    def drain() -> None:
        while True:
            try:
                if not os.read(master, 65536):
                    return
            except OSError:
                return

    reader = threading.Thread(target=drain, daemon=True)
    reader.start()
    started = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, "-m", "sim", "replay", str(journal), *extra],
        stdin=slave,
        stdout=slave,
        stderr=slave,
        env=env,
        start_new_session=True,
    )
    _, status, usage = os.wait4(proc.pid, 0)
    elapsed = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    os.close(slave)
    os.close(master)
    reader.join(timeout=5)
    if proc.returncode != 0:
        raise SystemExit(f"hotline replay {journal} {' '.join(extra)} exited with {proc.returncode}")
    return elapsed, usage.ru_maxrss / 1024


def measure(label: str, journal: Path, runs: int, *extra: str) -> tuple[float, float]:
    times, peaks = [], []
    for _ in range(runs):
        seconds, peak = run_once(journal, *extra)
        times.append(seconds)
        peaks.append(peak)
    median, worst = statistics.median(times), max(peaks)
    print(f"{label:<44} {median:6.2f} s median ({min(times):.2f}–{max(times):.2f})   peak {worst:6.0f} MB")
    return median, worst


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--entries", type=int, default=100_000)
    parser.add_argument("--journal", type=Path, help="Use this journal instead of a synthetic one.")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="hotline-bench-") as tmp:
        journal = args.journal
        if journal is None:
            journal = Path(tmp) / "journal.jsonl"
            count = write_journal(journal, args.entries)
            print(f"synthetic journal: {count} entries, {journal.stat().st_size / 1e6:.1f} MB")
        base, base_mem = measure("baseline: 113-entry journal, first paint", SMALL, args.runs)
        first, first_mem = measure("first full paint (replay from the start)", journal, args.runs)
        full, full_mem = measure("whole journal folded, painted at the end", journal, args.runs, "--at", "end")
        print()
        print(f"first paint: {first:.2f} s (target ≤ 2 s; baseline {base:.2f} s) · peak {first_mem:.0f} MB")
        print(f"everything folded: {full:.2f} s · peak {full_mem:.0f} MB (target ≤ 300 MB; baseline {base_mem:.0f} MB)")


if __name__ == "__main__":
    main()
