"""Snapshots of the dashboard over the fixture journal at fixed terminal sizes: the end of the
run at 120×40 and 80×24, and mid-run (the CERT link down, an obligation overdue) at 120×40.
Update with ``pytest tests/tui --snapshot-update`` after a deliberate change, and look at the
diff report before committing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from tui.app import DashboardApp
from tui.control.replay import ReplayController
from tui.replay import JournalIndex, Replayer

from .helpers import JOURNAL


def _app(at_hours: float | None) -> DashboardApp:
    replayer = Replayer(JournalIndex(JOURNAL))
    if at_hours is None:
        replayer.playback.jump_end()
    else:
        replayer.playback.seek(replayer.playback.start + timedelta(hours=at_hours))
    replayer.playback.paused = True
    replayer.fold()
    return DashboardApp(ReplayController(replayer))


@pytest.mark.parametrize("size", [(120, 40), (80, 24)], ids=["120x40", "80x24"])
def test_end_of_run(snap_compare: Any, size: tuple[int, int]) -> None:
    assert snap_compare(_app(None), terminal_size=size)


def test_cert_link_down(snap_compare: Any) -> None:
    assert snap_compare(_app(23.0), terminal_size=(120, 40))


def test_obligations_at_80x24(snap_compare: Any) -> None:
    assert snap_compare(_app(23.0), terminal_size=(80, 24), press=["v", "v"])
