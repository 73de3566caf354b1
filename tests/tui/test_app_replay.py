"""Pilot tests of the dashboard over the fixture journal: every key binding in replay, the
message log, the envelope view, filters, export and screenshots."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from tui.app import DashboardApp
from tui.control.replay import ReplayController
from tui.launch import render_svg
from tui.replay import JournalIndex, Replayer
from tui.timeline import layout
from tui.widgets.inject import InjectScreen
from tui.widgets.log import MessageLog
from tui.widgets.modals import EnvelopeScreen
from tui.widgets.timeline import TimelineView

from .helpers import JOURNAL, until

SIZE = (120, 40)


def _replayer(app: DashboardApp) -> Replayer:
    assert isinstance(app.controller, ReplayController)
    return app.controller.replayer


def _app(tmp_path: Path, *, at_end: bool = False) -> DashboardApp:
    replayer = Replayer(JournalIndex(JOURNAL))
    replayer.playback.paused = True
    if at_end:
        replayer.playback.jump_end()
    return DashboardApp(ReplayController(replayer), screenshot_dir=tmp_path)


async def test_space_plus_minus_control_the_playback(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        replayer = _replayer(app)
        pb = replayer.playback
        speed = pb.speed
        await pilot.press("plus")
        assert pb.speed == 7200 == speed * 2
        await pilot.press("minus", "minus")
        assert pb.speed == 1200
        await pilot.press("space")
        assert not pb.paused
        start = pb.position
        await until(pilot, lambda: pb.position > start and replayer.behind == 0)
        await pilot.press("space")
        assert pb.paused
        held = pb.position
        await pilot.pause()
        assert pb.position == held


async def test_step_scrub_and_jumps(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        rp = _replayer(app)
        start = rp.playback.start
        await pilot.press("full_stop")
        assert rp.playback.position == start + timedelta(minutes=30)
        assert rp.index.message_times[0] == (start + timedelta(minutes=30)).timestamp()
        assert len(rp.model.messages()) == 1
        await pilot.press("full_stop")
        assert rp.playback.position == start + timedelta(hours=1, minutes=52)
        await pilot.press("comma")
        assert rp.playback.position == start + timedelta(minutes=30)
        await pilot.press("right_square_bracket")
        assert rp.playback.position == start + timedelta(minutes=30) + (rp.playback.end - start) * 0.02
        await pilot.press("left_square_bracket", "left_square_bracket")
        assert rp.playback.position == start + timedelta(minutes=30) - (rp.playback.end - start) * 0.02 or (
            rp.playback.position == start
        )
        await pilot.press("end")
        await until(pilot, lambda: rp.behind == 0 and len(rp.model.messages()) == 19)
        assert rp.playback.position == rp.playback.end
        await pilot.press("home")
        await until(pilot, lambda: rp.behind == 0)
        assert rp.playback.position == start
        assert rp.model.messages() == []


async def test_pan_zoom_fit_follow_and_scroll(tmp_path: Path) -> None:
    app = _app(tmp_path, at_end=True)
    async with app.run_test(size=SIZE) as pilot:
        replayer = _replayer(app)
        # wait until the journal is folded to the end: until then, following "now" moves the view
        await until(pilot, lambda: app.view.window is not None and replayer.behind == 0 and replayer.index.complete)
        await pilot.pause()
        assert app.view.window is not None
        whole = app.view.window
        await pilot.press("z")
        assert app.view.window.span == whole.span / 2
        await pilot.press("x")
        assert app.view.window.span == whole.span
        await pilot.press("Z")
        assert app.view.window.span == whole.span * 2
        await pilot.press("a")
        assert app.view.window == whole
        assert app.view.following
        await pilot.press("left")
        assert app.view.window.start == whole.start - whole.span / 4
        assert not app.view.following
        await pilot.press("right", "right")
        assert app.view.window.start == whole.start + whole.span / 4
        await pilot.press("n")
        assert app.view.following
        await pilot.press("n")
        assert not app.view.following
        timeline = app.query_one(TimelineView)
        await pilot.resize_terminal(120, 24)
        await pilot.pause()
        await pilot.press("shift+down")
        assert timeline.scroll_offset.y == 1
        await pilot.press("shift+up")
        assert timeline.scroll_offset.y == 0


async def test_the_timeline_widget_shows_the_rows_of_layout(tmp_path: Path) -> None:
    """The widget builds its rows lazily, but they are :func:`tui.timeline.layout`'s rows."""
    app = _app(tmp_path, at_end=True)
    async with app.run_test(size=SIZE) as pilot:
        replayer = _replayer(app)
        await until(pilot, lambda: replayer.behind == 0 and replayer.index.complete)
        await pilot.pause()
        timeline = app.query_one(TimelineView)
        assert timeline.model is not None
        assert timeline.window is not None
        assert timeline.now is not None
        rows = layout(timeline.model, timeline.window, timeline.plot_width, timeline.now)
        label = timeline.label_width
        assert timeline.rows_text() == [f"{r.label:<{label}.{label - 1}}{r.text}" for r in rows[2:]]
        assert [timeline.render_line(y).text.strip() for y in (0, 1)] == [r.text.strip() for r in rows[:2]]
        assert len(rows) == 13


async def test_filter_then_envelope(tmp_path: Path) -> None:
    app = _app(tmp_path, at_end=True)
    async with app.run_test(size=SIZE) as pilot:
        log = app.query_one(MessageLog)
        await until(pilot, lambda: len(log.rows) == 19)
        await pilot.press("f")
        box = app.query_one("#filter")
        assert box.has_class("shown")
        assert box.has_focus
        await pilot.press(*"kind:ACK", "enter")
        assert not box.has_class("shown")
        assert len(log.rows) == 2
        assert log.has_focus
        await pilot.press("up", "enter")
        assert isinstance(app.screen, EnvelopeScreen)
        shown = str(app.screen.query_one("#envelope").render())
        assert "ACK ru-cert-1" in shown
        assert '"ref": "us-cert-2"' in shown
        await pilot.press("escape")
        assert not isinstance(app.screen, EnvelopeScreen)
        await pilot.press("f", *"colour:red", "enter")
        assert "unknown field" in str(app.query_one("#status").render())
        await pilot.press("escape")
        assert not box.has_class("shown")
        await pilot.press("f", "ctrl+u", "enter")
        assert len(log.rows) == 19


async def test_view_toggle_screenshot_and_quit(tmp_path: Path) -> None:
    app = _app(tmp_path, at_end=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        assert app.screen.has_class("compact")
        side = app.query_one("#side")
        assert not side.display
        await pilot.press("v")
        assert side.display
        assert not app.query_one(MessageLog).display
        assert app.query_one("#agencies").display
        assert not app.query_one("#links").display
        await pilot.press("v", "v")
        assert app.query_one("#links").display
        assert not app.query_one("#agencies").display
        await pilot.press("v")
        assert not side.display
        assert app.query_one(MessageLog).display
        await pilot.press("p")
        shots = sorted(str(p) for p in app.screenshot_dir.iterdir() if p.suffix == ".svg")
        assert len(shots) == 1
        assert "hotline-election-interference-T+72" in shots[0]
        await pilot.press("q")
    assert app.return_code == 0


async def test_live_only_keys_do_nothing_in_replay(tmp_path: Path) -> None:
    app = _app(tmp_path)
    async with app.run_test(size=SIZE) as pilot:
        await pilot.press("i", "E")
        assert not isinstance(app.screen, InjectScreen)
        assert app.screen is app.screen_stack[0]
        assert app.check_action("inject", ()) is False
        assert app.check_action("end_exercise", ()) is False
        assert app.check_action("step", ()) is True


@pytest.mark.parametrize("size", [(120, 40), (80, 24)])
async def test_export_draws_the_whole_run(size: tuple[int, int]) -> None:
    svg = await render_svg(JOURNAL, size=size)
    assert svg.startswith("<svg")
    for text in ("Escalation", "EI-1", "CONSULTATION" if size[0] > 100 else "ru-nrrc", "us-nrrc"):
        assert text.replace(" ", "&#160;") in svg or text in svg, text
