"""Time-axis maths: columns, zoom, pan, follow-now and tick labels."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tui.timeaxis import MIN_SPAN, View, Window, fit, offset_label, tick_step, ticks

T0 = datetime(2026, 11, 2, 12, tzinfo=UTC)
H = timedelta(hours=1)


def test_columns_cover_the_window_left_closed() -> None:
    w = Window(T0, 10 * H)
    assert w.column(T0, 100) == 0
    assert w.column(T0 + 5 * H, 100) == 50
    assert w.column(T0 + 10 * H - timedelta(seconds=1), 100) == 99
    assert w.column(T0 + 10 * H, 100) is None
    assert w.column(T0 - timedelta(seconds=1), 100) is None
    assert w.column_start(50, 100) == T0 + 5 * H


def test_zoom_keeps_the_anchor_in_place_and_respects_limits() -> None:
    w = Window(T0, 10 * H)
    anchor = T0 + 8 * H
    z = w.zoom(0.5, anchor)
    assert z.span == 5 * H
    assert (anchor - z.start) / z.span == pytest.approx(0.8)
    assert Window(T0, 20 * 60 * timedelta(seconds=1)).zoom(0.1).span == MIN_SPAN
    assert w.zoom(100, max_span=30 * H).span == 30 * H


def test_pan_and_follow() -> None:
    w = Window(T0, 10 * H)
    assert w.pan(-0.5).start == T0 - 5 * H
    assert w.follow(T0 + 3 * H) is w
    moved = w.follow(T0 + 20 * H)
    assert moved.start == T0 + 20 * H - 9 * H
    # A window that already shows the end of the exercise does not run away from "now".
    whole = fit(T0, T0 + 72 * H)
    assert whole.follow(T0 + 72 * H - timedelta(minutes=1), T0 + 72 * H) is whole


def test_tick_steps_and_labels() -> None:
    w = fit(T0, T0 + 72 * H)
    assert tick_step(w, 100) == 12 * H
    labels = [label for _, label in ticks(w, 100, T0)]
    assert labels == ["T+0m", "T+12h", "T+1d", "T+1d12h", "T+2d", "T+2d12h"]
    assert offset_label(timedelta(hours=2, minutes=30)) == "T+2:30"
    assert offset_label(timedelta(minutes=-30)) == "T-30m"
    narrow = Window(T0, 2 * H)
    assert tick_step(narrow, 100) == timedelta(minutes=15)


def test_the_view_fits_follows_and_keeps_the_facilitators_choice() -> None:
    end = T0 + 72 * H
    view = View()
    assert view.at(T0, end, T0 + H) == fit(T0, end)
    view.zoom(0.5, T0, end, T0 + 10 * H)  # about "now" while following
    assert view.window == fit(T0, end).zoom(0.5, T0 + 10 * H)
    assert view.at(T0, end, T0 + 60 * H).start == T0 + 60 * H - 36 * H * 0.9  # follows now
    view.pan(-0.5)
    assert not view.following
    panned = view.window
    assert view.at(T0, end, T0 + 70 * H) == panned  # stays where the facilitator put it
    view.zoom(1000, T0, end, None)
    assert view.window is not None
    assert view.window.span == 4 * (end - T0)
    view.fit(T0, end)
    assert view.window == fit(T0, end)
    assert view.following
