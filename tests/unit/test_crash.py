"""Finding 10: a crash exited 1 ("an expectation failed") with a raw traceback. It exits 3, says
so in one line, and leaves the traceback in a file only the user can read."""

from __future__ import annotations

import stat
import sys
from pathlib import Path

import pytest

import sim.cli
import sim.cli.run
import sim.runtime.logs


def test_a_crash_exits_3_with_one_line_and_the_traceback_in_a_file(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    def broken() -> list[Path]:
        raise RuntimeError("boom: a bug nobody meant")

    monkeypatch.setattr(sim.cli.run, "shipped_scenarios", broken)
    monkeypatch.setattr(sim.runtime.logs, "configure", lambda *_a, **_k: None)  # logging stays as the tests set it
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path))
    monkeypatch.setattr(sys, "argv", ["hotline", "scenarios"])
    with pytest.raises(SystemExit) as ended:
        sim.cli.main()
    assert ended.value.code == 3
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1, err
    assert "RuntimeError: boom" in err
    assert "Traceback" not in err
    (log,) = (tmp_path / "hotline").glob("hotline-crash-*.log")
    assert str(log) in err
    assert "Traceback" in log.read_text()
    assert "boom: a bug nobody meant" in log.read_text()
    assert stat.S_IMODE(log.stat().st_mode) == 0o600
