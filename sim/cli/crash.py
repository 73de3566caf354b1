"""The last resort: an error nobody meant (a bug) ends the command with one line and exit code 3;
the traceback goes to a file only the user can read, named in that line."""

from __future__ import annotations

import os
import tempfile
import traceback
from datetime import UTC, datetime
from pathlib import Path


def crash_dir() -> Path:
    """``$XDG_STATE_HOME/hotline`` (``~/.local/state/hotline``), else the temporary directory."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "hotline"


def write_crash_log(exc: BaseException) -> Path:
    """The traceback of ``exc`` in a new file (mode 0600); returns its path."""
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    text = "".join(traceback.format_exception(exc))
    for directory in (crash_dir(), Path(tempfile.gettempdir())):
        try:
            directory.mkdir(parents=True, exist_ok=True, mode=0o700)
            fd, name = tempfile.mkstemp(prefix=f"hotline-crash-{stamp}-", suffix=".log", dir=directory)
        except OSError:
            continue
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        return Path(name)
    raise OSError("no writable directory for the crash log")


def one_line(exc: BaseException) -> str:
    first = (str(exc).strip().splitlines() or [""])[0][:200]
    return f"{type(exc).__name__}: {first}" if first else type(exc).__name__
