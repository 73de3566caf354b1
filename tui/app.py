"""The facilitator's dashboard (Textual). It only renders the model and sends commands: the
folding, the time-axis maths, glyphs and filters live in plain modules of :mod:`tui`.

One app, two feeds: live from the broker (:class:`~tui.live.LiveFeed`, with facilitator
commands) or a recorded journal (:class:`~tui.replay.Replayer`, where the same keys steer the
playback). Updates are coalesced: feeds only mark the model changed, and the screen is redrawn
from it at most ``FPS`` times a second, however many entries arrived in between."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from pathlib import Path
from typing import Any, ClassVar

import structlog
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Footer, Input, Static
from textual.worker import Worker, WorkerState

from sim.model.control import CommandResult
from sim.model.durations import format_offset
from sim.model.errors import HotlineError
from sim.model.injects import Inject
from sim.scenario.load import LoadedScenario
from tui.commands import Action, CommandBook, describe, describe_result, pause_or_resume
from tui.filters import FilterError, LogFilter
from tui.live import LiveFeed, Wires
from tui.messages import CommandAnswered
from tui.model import DashboardModel
from tui.panels import ModeInfo, agencies_text, envelope_text, header_text, links_text, obligations_text
from tui.playback import format_speed, next_speed
from tui.replay import SCAN_BYTES, JournalIndex, Replayer
from tui.timeaxis import Window, fit
from tui.timeline import LEGEND
from tui.widgets.header import HeaderBar
from tui.widgets.inject import InjectScreen
from tui.widgets.log import MessageLog
from tui.widgets.modals import ConfirmScreen, EnvelopeScreen
from tui.widgets.panels import Panel
from tui.widgets.timeline import TimelineView

log = structlog.get_logger("hotline.dashboard")

FPS = 10
#: Wall time spent folding journal entries per frame while a replay catches up with its position
#: (the rest of the frame keeps the screen and the keys responsive).
FOLD_SECONDS = 0.05
#: While a replay catches up, the whole dashboard is redrawn this often (the header every frame).
CATCH_UP_REDRAW = 1.0
#: Under a flood of live traffic (more than BUSY entries since the last frame) the whole dashboard
#: is redrawn at most this often, so that taking in the traffic keeps most of the CPU.
BUSY, BUSY_REDRAW = 20, 1.0
FOLD_CHUNK = 500
LIVE_ONLY = frozenset({"inject", "end_exercise"})
REPLAY_ONLY = frozenset({"step", "scrub", "jump"})
#: Below this size the log and the side panels take turns (key v).
COMPACT_WIDTH, COMPACT_HEIGHT = 110, 34


class DashboardApp(App[Any]):
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
        *,
        replayer: Replayer | None = None,
        feed: LiveFeed | None = None,
        background: Callable[[], Awaitable[Any]] | None = None,
        on_quit: Callable[[], None] | None = None,
        exit_after_paint: bool = False,
        screenshot_dir: Path | None = None,
    ) -> None:
        super().__init__()
        #: Quitting while the exercise still runs: ask it to end properly first (tally, journal,
        #: report), then close when it has. A second q closes at once.
        self.on_quit = on_quit
        self._ending = False
        self._exercise_done = background is None
        if (replayer is None) == (feed is None):
            raise ValueError("a dashboard shows either a replay or a live feed")
        self.replayer = replayer
        self.feed = feed
        self.background = background
        self.background_result: Any = None
        self.exit_after_paint = exit_after_paint
        self.screenshot_dir = screenshot_dir or Path.cwd()
        self.book = CommandBook(feed.client if feed is not None else "replay")
        self.window: Window | None = None
        self.following = True
        self.status_text = ""
        self.painted = 0
        self._last_frame = time.monotonic()
        self._full_draw = 0.0
        self._folding = False
        self._seen = 0
        self._busy = False
        self._drawn: tuple[object, ...] = ()
        if feed is not None:
            feed.on_change = self._feed_changed
            feed.on_result = self._feed_result

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
        if self.feed is not None:
            self.run_worker(self._run_feed(), name="feed", group="feed", exit_on_error=False)
        self._frame()

    def on_resize(self) -> None:
        self._resize_layout()

    def _resize_layout(self) -> None:
        compact = self.size.width < COMPACT_WIDTH or self.size.height < COMPACT_HEIGHT
        self.screen.set_class(compact, "compact")

    # -- the feeds --------------------------------------------------------------------------------

    @property
    def model(self) -> DashboardModel | None:
        if self.replayer is not None:
            return self.replayer.model
        assert self.feed is not None
        return self.feed.model

    @property
    def live(self) -> bool:
        return self.feed is not None

    def _feed_changed(self) -> None:
        """Nothing to post: the frame timer redraws when the model's version moved. (A Textual
        message per MQTT message cost more than folding the message itself.)"""

    def _feed_result(self, result: CommandResult) -> None:
        self.post_message(CommandAnswered(result))

    async def _run_feed(self) -> None:
        assert self.feed is not None
        feed = self.feed
        if self.background is not None:
            self.run_worker(self._run_background(), name="exercise", group="exercise", exit_on_error=False)
        await feed.run()

    async def _run_background(self) -> None:
        assert self.feed is not None
        assert self.background is not None
        await self.feed.transport.wait_connected()
        try:
            self.background_result = await self.background()
        finally:
            self._exercise_done = True
            if self._ending:
                self.exit()

    async def action_quit(self) -> None:
        if self._exercise_done or self.on_quit is None or self._ending:
            self.exit()
            return
        self._ending = True
        self._say("ending the exercise… (q again to close at once)")
        self.on_quit()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state is WorkerState.ERROR:
            error = event.worker.error
            what = "broker" if event.worker.name == "feed" else "exercise"
            self._say(f"{what}: {error}", bad=True)
            log.warning("worker_failed", worker=event.worker.name, error=str(error))
            if event.worker.name == "exercise":
                self.background_result = error

    def on_command_answered(self, message: CommandAnswered) -> None:
        result: CommandResult = message.result
        command = self.book.answer(result)
        if command is None:
            return
        self._say(describe_result(result, command), bad=not result.accepted)

    # -- drawing ----------------------------------------------------------------------------------

    def _now(self) -> datetime | None:
        model = self.model
        return None if model is None else model.now

    def _frame(self) -> None:
        wall = time.monotonic()
        elapsed, self._last_frame = wall - self._last_frame, wall
        if self.replayer is not None:
            self.replayer.playback.advance(elapsed)
            # Keep up with ordinary playback within the frame; a backlog goes to _catch_up.
            while not self._folding and not self.replayer.fold(FOLD_CHUNK) and time.monotonic() - wall < 0.02:
                pass
            if not self._folding and (self.replayer.behind > 0 or not self.replayer.index.complete):
                self._folding = True
                self.run_worker(self._catch_up(), group="fold", exit_on_error=True)
        elif self.feed is not None:
            self.feed.tick()
            received = self.feed.stats.received
            self._busy = received - self._seen > BUSY
            self._seen = received
        self._draw()

    async def _catch_up(self) -> None:
        """Fold (and index) in slices, yielding to the screen and the keys between slices, until
        the model shows the playback position and the whole journal is indexed."""
        replayer = self.replayer
        assert replayer is not None
        try:
            while replayer.behind > 0 or not replayer.index.complete:
                deadline = time.monotonic() + FOLD_SECONDS
                while not replayer.fold(FOLD_CHUNK) and time.monotonic() < deadline:
                    pass
                if not replayer.index.complete and time.monotonic() < deadline:
                    replayer.index.scan(SCAN_BYTES)  # index the rest while the screen is up
                await asyncio.sleep(0)  # a turn for input, timers and the screen
        finally:
            self._folding = False

    def _mode(self) -> ModeInfo:
        if self.replayer is not None:
            pb = self.replayer.playback
            behind = self.replayer.behind
            mode = f"replay {format_speed(pb.speed)}" + (f" · loading {behind} entries" if behind else "")
            return ModeInfo("journal", mode, self.replayer.index.path.name, progress=pb.fraction, paused=pb.paused)
        assert self.feed is not None
        feed = self.feed
        clock, status = feed.clock, feed.status
        if status is not None and status.status in ("ended", "aborted"):
            mode, paused = status.status.upper(), True
        elif clock is None:
            mode, paused = "waiting for the clock", True
        elif clock.paused:
            mode, paused = "PAUSED", True
        elif clock.mode == "fast":
            mode, paused = f"fast · round {clock.round}", False
        else:
            mode, paused = f"realtime {format_speed(clock.speed or 1)}", False
        return ModeInfo(
            "broker",
            mode,
            feed.wires.label,
            connection="connected" if feed.connected else "connecting…",
            paused=paused,
        )

    def _draw(self, *, force: bool = False) -> None:
        model = self.model
        now = self._now()
        mode = self._mode()
        title = ""
        if self.feed is not None and self.feed.problem and model is None:
            title = self.feed.problem
        self._w_header.show(header_text(model, mode, now, title))
        if model is None or now is None:
            return
        if self.window is None:
            self.window = fit(model.scenario.start, model.scenario.end)
        if self.following:
            self.window = self.window.follow(now, model.scenario.end)
        # "now" counts at the resolution the screen shows: a timeline column, or a minute.
        resolution = max(60.0, self.window.span.total_seconds() / max(1, self._w_timeline.plot_width))
        tick = int((now - model.scenario.start).total_seconds() // resolution)
        key = (id(model), model.version, tick, self.window, self.size, self.screen.classes)
        if key == self._drawn and not force:
            return
        catching_up = self.replayer is not None and self.replayer.behind > 0
        if catching_up and not force and time.monotonic() - self._full_draw < CATCH_UP_REDRAW:
            return  # folding gets the time; the header shows the progress
        if self._busy and not force and time.monotonic() - self._full_draw < BUSY_REDRAW:
            return
        self._full_draw = time.monotonic()
        self._drawn = key
        self._w_timeline.show(model, self.window, now)
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
        self.painted += 1
        if self.exit_after_paint and (self.replayer is None or self.replayer.behind == 0):
            self.exit_after_paint = False
            self.call_after_refresh(self.exit)

    def _fit_timeline(self, rows: int) -> None:
        """The timeline takes the rows it needs, up to half the screen; the panels get the rest."""
        compact = self.screen.has_class("compact")
        cap = max(6, (self.size.height - 4) // 2 + (0 if compact else 2))
        wanted = min(cap, rows + 2)
        box = self._w_timeline_box
        if box.styles.height is None or box.styles.height.value != wanted:
            box.styles.height = wanted

    def _status_line(self) -> None:
        parts = []
        waiting = self.book.waiting()
        if waiting:
            parts.append("waiting for the director: " + ", ".join(describe(c) for c in waiting[-3:]))
        if self.status_text:
            parts.append(self.status_text)
        if self.feed is not None and self.feed.problem:
            parts.append(self.feed.problem)
        if not parts and self.window is not None:
            start = self.model.scenario.start if self.model else self.window.start
            parts.append(
                f"view T{format_offset(self.window.start - start)} … T{format_offset(self.window.end - start)}"
                + (" · following now" if self.following else " · n: follow now")
            )
        self._w_status.update(" │ ".join(parts))

    def _say(self, text: str, *, bad: bool = False) -> None:
        self.status_text = text
        self._w_status.set_class(bad, "bad")
        self._status_line()

    # -- keys: playback in replay, commands live -------------------------------------------------

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:  # noqa: ARG002
        if action in LIVE_ONLY and not self.live:
            return False
        return not (action in REPLAY_ONLY and self.live)

    def _send(self, action: Action, *, speed: float | None = None, inject: Inject | None = None) -> None:
        assert self.feed is not None
        status = self.feed.status
        if status is not None and status.status in ("ended", "aborted"):
            self._say(f"the exercise has {status.status}: nothing to {action}", bad=True)
            return
        command = self.book.make(action, speed=speed, inject=inject)
        self._say(f"sent {describe(command)} ({command.id})")
        feed = self.feed

        async def publish() -> None:
            await feed.send(command)

        self.run_worker(publish(), group="commands", exit_on_error=False)

    def action_pause(self) -> None:
        if self.replayer is not None:
            self.replayer.playback.toggle()
            self._say("paused" if self.replayer.playback.paused else "playing")
            self._draw(force=True)
            return
        assert self.feed is not None
        self._send(pause_or_resume(self.feed.clock))

    def _speed(self, *, up: bool) -> None:
        if self.replayer is not None:
            pb = self.replayer.playback
            if up:
                pb.faster()
            else:
                pb.slower()
            self._say(f"replay speed {format_speed(pb.speed)}")
            self._draw(force=True)
            return
        assert self.feed is not None
        current = self.feed.clock.speed if self.feed.clock is not None and self.feed.clock.speed else 60.0
        self._send("speed", speed=next_speed(current, up=up))

    def action_faster(self) -> None:
        self._speed(up=True)

    def action_slower(self) -> None:
        self._speed(up=False)

    def action_step(self, direction: int) -> None:
        if self.replayer is not None:
            self.replayer.index.scan()
            self.replayer.playback.step(self.replayer.index.message_times, forward=direction > 0)
            self.replayer.fold()
            self._draw(force=True)

    def action_scrub(self, fraction: float) -> None:
        if self.replayer is not None:
            self.replayer.playback.scrub(fraction)
            self._draw(force=True)

    def action_jump(self, where: str) -> None:
        if self.replayer is not None:
            if where == "start":
                self.replayer.playback.jump_start()
            else:
                self.replayer.playback.jump_end()
            self._draw(force=True)

    def action_scroll_timeline(self, rows: int) -> None:
        timeline = self._w_timeline
        timeline.scroll_to(y=timeline.scroll_offset.y + rows, animate=False)

    def action_pan(self, fraction: float) -> None:
        if self.window is not None:
            self.following = False
            self.window = self.window.pan(fraction)
            self._draw(force=True)

    def action_zoom(self, factor: float) -> None:
        model, now = self.model, self._now()
        if self.window is None or model is None:
            return
        anchor = now if self.following and now is not None else None
        self.window = self.window.zoom(factor, anchor, max_span=(model.scenario.end - model.scenario.start) * 4)
        self._draw(force=True)

    def action_fit(self) -> None:
        if self.model is not None:
            self.window = fit(self.model.scenario.start, self.model.scenario.end)
            self.following = True
            self._draw(force=True)

    def action_follow(self) -> None:
        self.following = not self.following
        self._say("following now" if self.following else "not following now")
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
            self._say(str(exc), bad=True)
            return
        self._w_log.set_filter(log_filter)
        self._say(f"filter: {log_filter}" if log_filter else "filter cleared")
        self.action_close_filter()
        self._draw(force=True)

    def on_message_log_selected(self, message: MessageLog.Selected) -> None:
        model, now = self.model, self._now()
        if model is None or now is None:
            return
        env = message.event.envelope
        self.push_screen(EnvelopeScreen(envelope_text(model, message.event, now), f"{env.kind.value} {env.id}"))

    def action_inject(self) -> None:
        model = self.model
        if not self.live:
            return
        if model is None:
            self._say("no scenario yet: cannot offer injects", bad=True)
            return

        def sent(inject: Inject | None) -> None:
            if inject is not None:
                self._send("inject", inject=inject)

        self.push_screen(InjectScreen(model.scenario, model.agreement), sent)

    def action_end_exercise(self) -> None:
        if not self.live:
            return

        def answer(yes: bool | None) -> None:
            if yes:
                self._send("end")

        self.push_screen(ConfirmScreen("End the exercise for everyone now?"), answer)

    def action_toggle_view(self) -> None:
        """Small terminals: cycle the lower half through log, agencies, obligations, links."""
        views = ("", "view-agencies", "view-obligations", "view-links")
        current = next((n for n, v in enumerate(views) if v and self.screen.has_class(v)), 0)
        self.screen.remove_class(*views[1:])
        nxt = views[(current + 1) % len(views)]
        if nxt:
            self.screen.add_class(nxt)
        self._say(f"lower half: {nxt.removeprefix('view-') or 'messages'} (v: next)")

    def action_screenshot_svg(self) -> None:
        model, now = self.model, self._now()
        stamp = f"T{format_offset(now - model.scenario.start).replace(':', '')}" if model and now else "start"
        name = f"hotline-{model.exercise if model else 'dashboard'}-{stamp}.svg"
        path = self.save_screenshot(name, str(self.screenshot_dir))
        self._say(f"screenshot saved: {path}")


# -- entry points ----------------------------------------------------------------------------------


def exit_after_paint_requested() -> bool:
    """Benchmarks set ``HOTLINE_EXIT_AFTER_PAINT=1`` to time a start up to the first full paint."""
    return os.environ.get("HOTLINE_EXIT_AFTER_PAINT") == "1"


def run_replay(journal: Path, *, speed: float | None = None, at: datetime | None = None, paused: bool = False) -> None:
    replayer = Replayer(JournalIndex(journal), speed=speed, at=at)
    replayer.playback.paused = paused or at is not None
    DashboardApp(replayer=replayer, exit_after_paint=exit_after_paint_requested()).run()


def run_live(
    wires: Wires,
    exercise: str | None,
    *,
    loaded: LoadedScenario | None = None,
    scenario_path: Path | None = None,
    journal: Path | None = None,
    background: Callable[[], Awaitable[Any]] | None = None,
    on_quit: Callable[[], None] | None = None,
    client: str | None = None,
) -> Any:
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
    app = DashboardApp(feed=feed, background=background, on_quit=on_quit, exit_after_paint=exit_after_paint_requested())
    app.run()
    if isinstance(app.background_result, BaseException):
        raise app.background_result
    return app.background_result


async def render_svg(journal: Path, *, at: datetime | None = None, size: tuple[int, int] = (120, 40)) -> str:
    """The dashboard at sim time ``at`` (default: the end) as SVG, drawn without a terminal."""
    replayer = Replayer(JournalIndex(journal), at=at)
    if at is None:
        replayer.playback.jump_end()
    replayer.playback.paused = True
    replayer.fold()
    app = DashboardApp(replayer=replayer)
    async with app.run_test(size=size) as pilot:
        await pilot.pause()
        app._draw(force=True)
        await pilot.pause()
        return app.export_screenshot(title=f"Hotline — {replayer.model.scenario.title}")


def export_svg(journal: Path, out: Path, *, at: datetime | None = None, size: tuple[int, int] = (120, 40)) -> Path:
    """Write the dashboard at sim time ``at`` (default: the end) to ``out`` as SVG."""
    svg = asyncio.run(render_svg(journal, at=at, size=size))
    try:
        out.write_text(svg, encoding="utf-8")
    except OSError as exc:
        raise HotlineError(f"cannot write {out}: {exc.strerror or exc}") from exc
    return out
