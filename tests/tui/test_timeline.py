"""The timeline's rows: axis, level bands with names, glyphs at the right columns, the now
cursor — checked as text, since the characters alone must tell levels and fates apart."""

from __future__ import annotations

from datetime import timedelta

from tui.model import GLYPHS, DisplayFate
from tui.timeaxis import Window, fit
from tui.timeline import NOW_CHAR, OBLIGATION_CHAR, layout

from .helpers import folded


def test_layout_of_the_whole_run() -> None:
    model = folded()
    window = fit(model.scenario.start, model.scenario.end)
    rows = layout(model, window, 144)  # 30 sim minutes per column
    labels = [r.label for r in rows]
    assert labels[2:] == [
        "EI-1 L0", "us-cert", "us-nrrc", "ru-cert", "ru-nrrc",
        "EI-2 L1", "us-cert", "ru-cert",
        "no incident", "us-cert", "ru-cert",
    ]  # fmt: skip
    assert "T+12h" in rows[0].text
    assert "T+1d" in rows[0].text
    band = rows[2]
    assert "3 CONSULTATION" in band.text
    assert "4 POLITICAL WARNING" in band.text
    assert "0 ROUTINE" in band.text
    at_warning = window.column(model.scenario.start + timedelta(hours=31), 144)
    assert at_warning is not None
    assert band.style_at(at_warning) == "level4"


def test_glyphs_sit_at_their_sim_time() -> None:
    model = folded()
    window = fit(model.scenario.start, model.scenario.end)
    rows = {(r.incident, r.label): r for r in layout(model, window, 144)}
    us_cert = rows[("EI-1", "us-cert")]
    early_warning = window.column(model.scenario.start + timedelta(hours=1, minutes=52), 144)
    assert early_warning is not None
    assert us_cert.text[early_warning] == GLYPHS[DisplayFate.OVERDUE]
    assert us_cert.style_at(early_warning) == "fate-overdue"
    nrrc = rows[("EI-1", "us-nrrc")]
    inquiry = window.column(model.scenario.start + timedelta(hours=9, minutes=46), 144)
    assert inquiry is not None
    assert nrrc.text[inquiry] == GLYPHS[DisplayFate.ACKED]
    # ru-nrrc owed the answer to the inquiry for hours: a dotted span, then its answer.
    ru_nrrc = rows[("EI-1", "ru-nrrc")]
    assert OBLIGATION_CHAR * 5 in ru_nrrc.text
    assert GLYPHS[DisplayFate.SENT] in ru_nrrc.text


def test_now_cursor_and_future_are_blank() -> None:
    model = folded()
    now = model.scenario.start + timedelta(hours=12)
    window = Window(model.scenario.start, timedelta(hours=24))
    rows = layout(model, window, 96, now=now)
    now_col = window.column(now, 96)
    assert now_col is not None
    assert rows[1].text[now_col] == "▼"
    lanes = [r for r in rows if r.kind == "lane"]
    assert all(r.text[now_col + 1 :].strip() == "" for r in lanes)
    assert any(r.text[now_col] == NOW_CHAR for r in lanes)
    band = rows[2]
    assert band.text[now_col + 1 :].strip() == ""
    assert band.style_at(now_col + 1) == "future"
