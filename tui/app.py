"""The facilitator's dashboard (Textual). It only renders the model and passes keys on: the
folding, the time-axis maths, glyphs and filters live in plain modules of :mod:`tui`.

What it shows and what its steering keys mean come from its :class:`~tui.control.Controller`:
a live exercise (:class:`~tui.control.live.LiveController`) or a recorded journal
(:class:`~tui.control.replay.ReplayController`); :mod:`tui.launch` picks one. Updates are
coalesced: sources only move the model, and the screen is redrawn from it at most ``FPS`` times
a second, however many entries arrived in between."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Coroutine
from datetime import datetime
from pathlib import Path
from typing import ClassVar

import structlog
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from sim.model.durations import format_offset
from sim.model.injects import Inject
from tui.control import SOURCE_ACTIONS, Controller
from tui.filters import FilterError, LogFilter
from tui.model import DashboardModel
from tui.panels import agencies_text, envelope_text, header_text, links_text, obligations_text
from tui.timeaxis import View, Window
from tui.timeline import LEGEND
from tui.widgets.header import HeaderBar
from tui.widgets.inject import InjectScreen
from tui.widgets.log import MessageLog
from tui.widgets.modals import ConfirmScreen, EnvelopeScreen
from tui.widgets.panels import Panel
from tui.widgets.timeline import TimelineView

log = structlog.get_logger("hotline.dashboard")

FPS = 10
#: Below this size the log and the side panels take turns (key v).
COMPACT_WIDTH, COMPACT_HEIGHT = 110, 34
#: Rounds of letting every widget settle before an export is taken.
SETTLE_ROUNDS = 2


class DashboardApp(App[str]):
    """The dashboard over one controller. ``exit_after_paint``: close after the first full paint
    of a settled model (benchmarks time start-up so). ``export_title``: then return the screen
    as SVG with this title instead (see :func:`tui.launch.render_svg`)."""

    CSS_PATH = "dashboard.tcss"
    TITLE = "Hotline"
    ENABLE_COMMAND_PALETTE = False
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("space", "pause", "Pause/resume"),
        Binding("plus,equals_sign", "faster", "Faster", key_display="+"),
        Binding("minus", "slower", "Slower", key_display="-"),
        Binding("full_stop", "step(1)", "Step", key_display="."),
        Binding("comma", "step(-1)", "Back", show=False),
        Binding("right_square_bracket", "scrub(0.02)", "Scrub", key_display="[ ]"),
        Binding("left_square_bracket", "scrub(-0.02)", "Scrub back", show=False),
        Binding("home", "jump('start')", "Start", show=False),
        Binding("end", "jump('end')", "End", show=False),
        Binding("shift+up", "scroll_timeline(-1)", "Timeline up", show=False),
        Binding("shift+down", "scroll_timeline(1)", "Timeline down", show=False),
        Binding("left", "pan(-0.25)", "Pan", show=False),
        Binding("right", "pan(0.25)", "Pan", show=False),
        Binding("z", "zoom(0.5)", "Zoom"),
        Binding("Z,x", "zoom(2)", "Zoom out", show=False),
        Binding("a", "fit", "All", show=False),
        Binding("n", "follow", "Follow now", show=False),
        Binding("f", "filter", "Filter"),
        Binding("i", "inject", "Inject"),
        Binding("E", "end_exercise", "End exercise", key_display="E"),
        Binding("v", "toggle_view", "Panels", show=False),
        Binding("p", "screenshot_svg", "Screenshot"),
        Binding("escape", "close_filter", "Close filter", show=False),
        Binding("q", "quit", "Quit"),
    ]

    def __init__(
        self,
        controller: Controller,
        *,
        exit_after_paint: bool = False,
        export_title: str | None = None,
        screenshot_dir: Path | None = None,
    ) -> None:
        super().__init__()
        self.controller = controller
        self.exit_after_paint = exit_after_paint or export_title is not None
        self.export_title = export_title
        self.screenshot_dir = screenshot_dir or Path.cwd()
        self.view = View()
        self.status_text = ""
        self.painted = 0
        self._last_frame = time.monotonic()
        self._full_draw = 0.0
        self._drawn: tuple[object, ...] = ()

    # -- layout ----------------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        yield HeaderBar(id="header")
        box = Vertical(TimelineView(id="timeline"), id="timeline-box")
        box.border_title = "Escalation timeline"
        box.border_subtitle = LEGEND
        yield box
        with Horizontal(id="lower"):
            yield MessageLog(id="log")
            with Vertical(id="side"):
                yield Panel("Agencies", id="agencies")
                yield Panel("Pending obligations", id="obligations")
                yield Panel("Links", id="links")
        yield Input(placeholder="filter: EI-1 us-cert kind:ACK fate:overdue (enter: apply, esc: close)", id="filter")
        yield Static("", id="status")
        yield Footer()

    def on_mount(self) -> None:
        # The frames draw into the main screen even while a modal screen is on top of it.
        main = self.screen
        self._w_header = main.query_one(HeaderBar)
        self._w_timeline = main.query_one(TimelineView)
        self._w_timeline_box = main.query_one("#timeline-box")
        self._w_log = main.query_one(MessageLog)
        self._w_agencies = main.query_one("#agencies", Panel)
        self._w_obligations = main.query_one("#obligations", Panel)
        self._w_links = main.query_one("#links", Panel)
        self._w_status = main.query_one("#status", Static)
        self._w_filter = main.query_one("#filter", Input)
        self._resize_layout()
        self._w_log.focus()
        self.set_interval(1 / FPS, self._frame)
        self.controller.attach(self)
        self._frame()

    def on_resize(self) -> None:
        self._resize_layout()

    def _resize_layout(self) -> None:
        compact = self.size.width < COMPACT_WIDTH or self.size.height < COMPACT_HEIGHT
        self.screen.set_class(compact, "compact")

    # -- what the controller may ask (tui.control.Host) ------------------------------------------

    def say(self, text: str, *, bad: bool = False) -> None:
        self.status_text = text
        self._w_status.set_class(bad, "bad")
        self._status_line()

    def redraw(self) -> None:
        self._draw(force=True)

    def start(self, work: Coroutine[object, object, None], *, name: str, exit_on_error: bool = False) -> None:
        self.run_worker(work, name=name, group=name, exit_on_error=exit_on_error)

    def close(self) -> None:
        self.exit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            self.say(f"{event.worker.name}: {error}", bad=True)
            log.warning("worker_failed", worker=event.worker.name, error=str(error))

    # -- drawing ---------------------------------------------------------------------------------

    @property
    def model(self) -> DashboardModel | None:
        return self.controller.model

    def _frame(self) -> None:
        wall = time.monotonic()
        elapsed, self._last_frame = wall - self._last_frame, wall
        self.controller.tick(elapsed)
        self._draw()

    def _draw(self, *, force: bool = False) -> None:
        model, now, problem = self.controller.model, self.controller.now, self.controller.problem
        title = problem if problem and model is None else ""
        self._w_header.show(header_text(model, self.controller.mode(), now, title))
        if model is None or now is None:
            return
        window = self.view.at(model.scenario.start, model.scenario.end, now)
        # "now" counts at the resolution the screen shows: a timeline column, or a minute.
        resolution = max(60.0, window.span.total_seconds() / max(1, self._w_timeline.plot_width))
        tick = int((now - model.scenario.start).total_seconds() // resolution)
        key = (id(model), model.version, tick, window, self.size, self.screen.classes)
        if not force and (key == self._drawn or self._throttled()):
            return
        self._full_draw = time.monotonic()
        self._drawn = key
        self._paint(model, window, now)
        self.painted += 1
        if self.exit_after_paint and self.controller.settled:
            self.exit_after_paint = False
            self.call_after_refresh(self._painted)

    def _throttled(self) -> bool:
        """While the source is busy (catching up, a flood of traffic), only the header moves."""
        every = self.controller.redraw_every()
        return every > 0 and time.monotonic() - self._full_draw < every

    def _paint(self, model: DashboardModel, window: Window, now: datetime) -> None:
        self._w_timeline.show(model, window, now)
        self._fit_timeline(self._w_timeline.content_rows)
        self._w_log.show(model, now)
        groups = model.agency_groups(now)
        online = sum(1 for g in groups for a in g.agencies if a.online)
        total = sum(len(g.agencies) for g in groups)
        self._w_agencies.show(agencies_text(groups), f"{online}/{total} online")
        pending = model.pending(now)
        overdue = sum(1 for p in pending if p.overdue)
        self._w_obligations.show(obligations_text(pending), f"{len(pending)} owed · {overdue} overdue")
        self._w_links.show(links_text(model))
        self._status_line()

    def _painted(self) -> None:
        """The first settled paint is on screen: close, or export it."""
        if self.export_title is None:
            self.exit()
            return
        self.run_worker(self._export(self.export_title), name="export", exit_on_error=True)

    async def _export(self, title: str) -> None:
        """Close with the screen as SVG, once every widget has settled (the footer, for one,
        lays out its keys a few refreshes after the first paint)."""
        for _ in range(SETTLE_ROUNDS):
            await self._settled()
        self._draw(force=True)
        await self._settled()
        self.exit(self.export_screenshot(title=title))

    async def _settled(self) -> None:
        """Until every widget on screen has handled what was sent to it and been redrawn."""
        waits = []
        for node in (self, *self.screen.walk_children(with_self=True)):
            done = asyncio.Event()
            if node.call_after_refresh(done.set):
                waits.append(done.wait())
        await asyncio.gather(*waits)

    def _fit_timeline(self, rows: int) -> None:
        """The timeline takes the rows it needs, up to half the screen; the panels get the rest."""
        compact = self.screen.has_class("compact")
        cap = max(6, (self.size.height - 4) // 2 + (0 if compact else 2))
        wanted = min(cap, rows + 2)
        box = self._w_timeline_box
        if box.styles.height is None or box.styles.height.value != wanted:
            box.styles.height = wanted

    def _status_line(self) -> None:
        parts = [part for part in (self.controller.waiting(), self.status_text, self.controller.problem) if part]
        window = self.view.window
        if not parts and window is not None:
            start = self.model.scenario.start if self.model else window.start
            parts.append(
                f"view T{format_offset(window.start - start)} … T{format_offset(window.end - start)}"
                + (" · following now" if self.view.following else " · n: follow now")
            )
        self._w_status.update(" │ ".join(parts))

    # -- keys the source steers: playback in replay, commands live -------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:  # noqa: ARG002 - Textual's signature
        return action not in SOURCE_ACTIONS or action in self.controller.actions

    async def action_quit(self) -> None:
        if self.controller.quit():
            self.exit()

    def action_pause(self) -> None:
        self.controller.pause()

    def action_faster(self) -> None:
        self.controller.speed(up=True)

    def action_slower(self) -> None:
        self.controller.speed(up=False)

    def action_step(self, direction: int) -> None:
        self.controller.step(direction)

    def action_scrub(self, fraction: float) -> None:
        self.controller.scrub(fraction)

    def action_jump(self, where: str) -> None:
        self.controller.jump(where)

    def action_inject(self) -> None:
        model = self.model
        if "inject" not in self.controller.actions:
            return
        if model is None:
            self.say("no scenario yet: cannot offer injects", bad=True)
            return

        def sent(inject: Inject | None) -> None:
            if inject is not None:
                self.controller.inject(inject)

        self.push_screen(InjectScreen(model.scenario, model.agreement), sent)

    def action_end_exercise(self) -> None:
        if "end_exercise" not in self.controller.actions:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self.controller.end()

        self.push_screen(ConfirmScreen("End the exercise for everyone now?"), answer)

    # -- keys of the view: the same for every source ---------------------------------------------

    def action_scroll_timeline(self, rows: int) -> None:
        timeline = self._w_timeline
        timeline.scroll_to(y=timeline.scroll_offset.y + rows, animate=False)

    def action_pan(self, fraction: float) -> None:
        if self.view.window is not None:
            self.view.pan(fraction)
            self._draw(force=True)

    def action_zoom(self, factor: float) -> None:
        model = self.model
        if self.view.window is not None and model is not None:
            self.view.zoom(factor, model.scenario.start, model.scenario.end, self.controller.now)
            self._draw(force=True)

    def action_fit(self) -> None:
        if self.model is not None:
            self.view.fit(self.model.scenario.start, self.model.scenario.end)
            self._draw(force=True)

    def action_follow(self) -> None:
        self.view.following = not self.view.following
        self.say("following now" if self.view.following else "not following now")
        self._draw(force=True)

    def action_filter(self) -> None:
        box = self._w_filter
        box.add_class("shown")
        box.value = str(self._w_log.filter)
        box.focus()

    def action_close_filter(self) -> None:
        box = self._w_filter
        if box.has_class("shown"):
            box.remove_class("shown")
            self._w_log.focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        if event.input.id != "filter":
            return
        try:
            log_filter = LogFilter.parse(event.value)
        except FilterError as exc:
            self.say(str(exc), bad=True)
            return
        self._w_log.set_filter(log_filter)
        self.say(f"filter: {log_filter}" if log_filter else "filter cleared")
        self.action_close_filter()
        self._draw(force=True)

    def on_message_log_selected(self, message: MessageLog.Selected) -> None:
        model, now = self.model, self.controller.now
        if model is None or now is None:
            return
        env = message.event.envelope
        self.push_screen(EnvelopeScreen(envelope_text(model, message.event, now), f"{env.kind.value} {env.id}"))

    def action_toggle_view(self) -> None:
        """Small terminals: cycle the lower half through log, agencies, obligations, links."""
        views = ("", "view-agencies", "view-obligations", "view-links")
        current = next((n for n, v in enumerate(views) if v and self.screen.has_class(v)), 0)
        self.screen.remove_class(*views[1:])
        nxt = views[(current + 1) % len(views)]
        if nxt:
            self.screen.add_class(nxt)
        self.say(f"lower half: {nxt.removeprefix('view-') or 'messages'} (v: next)")

    def action_screenshot_svg(self) -> None:
        model, now = self.model, self.controller.now
        stamp = f"T{format_offset(now - model.scenario.start).replace(':', '')}" if model and now else "start"
        name = f"hotline-{model.exercise if model else 'dashboard'}-{stamp}.svg"
        path = self.save_screenshot(name, str(self.screenshot_dir))
        self.say(f"screenshot saved: {path}")
