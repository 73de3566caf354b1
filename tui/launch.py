"""Opening the dashboard: the one place that decides whether it shows a live exercise
(:class:`~tui.control.live.LiveController`) or a recorded journal
(:class:`~tui.control.replay.ReplayController`), and the SVG export of a journal, drawn
headless at a fixed terminal size."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

from sim.model.errors import HotlineError
from sim.scenario.load import LoadedScenario
from tui.app import DashboardApp
from tui.control.live import LiveController
from tui.control.replay import ReplayController
from tui.live import LiveFeed, Wires
from tui.replay import JournalIndex, Replayer

T = TypeVar("T")


def exit_after_paint_requested() -> bool:
    """Benchmarks set ``HOTLINE_EXIT_AFTER_PAINT=1`` to time a start up to the first full paint."""
    return os.environ.get("HOTLINE_EXIT_AFTER_PAINT") == "1"


def run_replay(journal: Path, *, speed: float | None = None, at: datetime | None = None, paused: bool = False) -> None:
    replayer = Replayer(JournalIndex(journal), speed=speed, at=at)
    replayer.playback.paused = paused or at is not None
    DashboardApp(ReplayController(replayer), exit_after_paint=exit_after_paint_requested()).run()


def run_live(
    wires: Wires,
    exercise: str | None,
    *,
    loaded: LoadedScenario | None = None,
    scenario_path: Path | None = None,
    journal: Path | None = None,
    background: Callable[[], Awaitable[T]] | None = None,
    on_quit: Callable[[], None] | None = None,
    client: str | None = None,
) -> T | None:
    """Open the dashboard on a live exercise (blocks until the facilitator quits).

    ``loaded``: the scenario, when the caller has it (otherwise it is found from the director's
    retained ``ctl/exercise``). ``journal``: the exercise's journal so far, for a dashboard that
    joins late (the exercise id and scenario come from its header). ``background``: a coroutine
    function started once the dashboard is subscribed — e.g. the exercise itself, so the dashboard
    misses none of it. Returns its result (None if the facilitator quit before it finished: it
    is then cancelled); re-raises its exception after the dashboard closed."""
    name = client or "facilitator"  # the ACL lets the facilitator account write ctl/cmd/facilitator
    if journal is not None:
        feed = LiveFeed.from_journal(wires, journal, name)
    elif exercise is not None:
        feed = LiveFeed(wires, exercise, name, loaded=loaded, scenario_path=scenario_path)
    else:
        raise ValueError("run_live needs an exercise id or a journal")
    controller: LiveController[T] = LiveController(feed, background=background, on_quit=on_quit)
    DashboardApp(controller, exit_after_paint=exit_after_paint_requested()).run()
    result = controller.background_result
    if isinstance(result, BaseException):
        raise result
    return result


async def render_svg(journal: Path, *, at: datetime | None = None, size: tuple[int, int] = (120, 40)) -> str:
    """The dashboard at sim time ``at`` (default: the end) as SVG, drawn without a terminal."""
    replayer = Replayer(JournalIndex(journal), at=at)
    if at is None:
        replayer.playback.jump_end()
    replayer.playback.paused = True
    replayer.fold()
    app = DashboardApp(ReplayController(replayer), export_title=f"Hotline — {replayer.model.scenario.title}")
    svg = await app.run_async(headless=True, size=size)
    if svg is None:
        raise HotlineError(f"the dashboard of {journal} closed before it was drawn")
    return svg


def export_svg(journal: Path, out: Path, *, at: datetime | None = None, size: tuple[int, int] = (120, 40)) -> Path:
    """Write the dashboard at sim time ``at`` (default: the end) to ``out`` as SVG."""
    svg = asyncio.run(render_svg(journal, at=at, size=size))
    try:
        out.write_text(svg, encoding="utf-8")
    except OSError as exc:
        raise HotlineError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return out
