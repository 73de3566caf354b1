"""The dashboard on a real broker (embedded amqtt): it follows a fast exercise to the same
final state as the director's journal, publishes facilitator commands as ``sim.model.control.Command``
on ``ctl/cmd/<client>``, and shows the ``CommandResult`` it gets back."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from pathlib import Path

import pytest
from textual.widgets import Input, Select, TextArea

from sim.evaluation.console import summary
from sim.model.control import ClockState, Command, CommandResult, ExerciseStatus
from sim.model.messages import Kind
from sim.model.topics import Topics
from sim.runtime.clock import wall_now
from sim.runtime.director import Director as RealDirector
from sim.runtime.exercise import RunResult, run_exercise, run_fast
from sim.runtime.transport import BrokerUrl, Connector, Transport
from sim.scenario.load import LoadedScenario, load_scenario
from tui.app import DashboardApp
from tui.control.live import LiveController
from tui.live import LiveFeed
from tui.widgets.inject import InjectScreen
from tui.widgets.modals import ConfirmScreen
from tui.widgets.timeline import TimelineView

from ..conftest import SCENARIOS
from .helpers import until

pytestmark = pytest.mark.integration
SIZE = (120, 40)


def _election() -> LoadedScenario:
    return load_scenario(SCENARIOS / "election-interference.yaml")


class Director:
    """Stands in for the director's command side: records commands, publishes results."""

    def __init__(self, url: BrokerUrl, exercise: str) -> None:
        self.topics = Topics(exercise)
        self.commands: list[Command] = []
        self.arrived = asyncio.Event()
        self.transport = Transport(url, "test-director", [self.topics.cmd_all], clean_session=True)
        self.task: asyncio.Task[None] | None = None

    async def _on(self, topic: str, payload: bytes, retained: bool) -> None:
        self.commands.append(Command.model_validate_json(payload))
        self.arrived.set()

    async def __aenter__(self) -> Director:
        self.task = asyncio.create_task(self.transport.run(self._on))
        await self.transport.wait_connected(10)
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.transport.close()
        assert self.task is not None
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)

    async def next_command(self, count: int) -> Command:
        """The ``count``-th command received (1-based), waiting for it."""
        while len(self.commands) < count:
            self.arrived.clear()
            await asyncio.wait_for(self.arrived.wait(), 10)
        return self.commands[count - 1]

    async def answer(self, command: Command, client: str, *, accepted: bool, reason: str = "") -> None:
        result = CommandResult(
            id=command.id, client=client, action=command.action, accepted=accepted, reason=reason, at=wall_now()
        )
        await self.transport.publish(self.topics.result(client), result.model_dump_json().encode())

    async def clock(self, state: ClockState) -> None:
        await self.transport.publish(self.topics.clock, state.model_dump_json().encode(), retain=True)


def _status(app: DashboardApp) -> str:
    return str(app.query_one("#status").render())


async def test_the_dashboard_sends_commands_and_shows_the_answers(amqtt_url: BrokerUrl) -> None:
    loaded = _election()
    exercise = "dash-cmd"
    feed = LiveFeed(Connector(amqtt_url), exercise, "dash-t", loaded=loaded)
    controller: LiveController[None] = LiveController(feed)
    app = DashboardApp(controller)
    async with Director(amqtt_url, exercise) as director, app.run_test(size=SIZE) as pilot:
        sc = loaded.scenario
        await director.clock(
            ClockState(mode="realtime", round=0, now=sc.start, start=sc.start, end=sc.end, speed=3600, wall=wall_now())
        )
        await until(pilot, lambda: feed.connected and feed.clock is not None)
        assert "realtime ×3600" in str(app.query_one("#header").render())

        await pilot.press("space")
        pause = await director.next_command(1)
        assert (pause.id, pause.action) == ("dash-t-1", "pause")
        assert "waiting for the director: pause" in _status(app)
        await director.answer(pause, "dash-t", accepted=True)
        await until(pilot, lambda: "✓ pause accepted" in _status(app))

        await pilot.press("plus")
        faster = await director.next_command(2)
        assert (faster.action, faster.speed) == ("speed", 7200)
        await director.answer(faster, "dash-t", accepted=False, reason="speed limit")
        await until(pilot, lambda: "✗ speed ×7200 refused: speed limit" in _status(app))
        await pilot.press("minus")
        assert (await director.next_command(3)).speed == 1200

        # A paused clock turns space into resume; the header says PAUSED.
        await director.clock(
            ClockState(mode="realtime", round=0, now=sc.start, start=sc.start, end=sc.end, speed=3600, paused=True)
        )
        await until(pilot, lambda: feed.clock is not None and feed.clock.paused)
        await until(pilot, lambda: "PAUSED" in str(app.query_one("#header").render()))
        await pilot.press("space")
        assert (await director.next_command(4)).action == "resume"

        await pilot.press("E")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("n")
        await pilot.press("E", "y")
        end = await director.next_command(5)
        assert end.action == "end"
        assert director.commands[4:] == [end]  # "n" sent nothing

        # Once the director says the exercise ended, commands are not sent at all.
        ended = ExerciseStatus(
            exercise=exercise, scenario=sc.id, title=sc.title, sha256=loaded.sha256, protocol="bilateral-2013",
            seed=sc.seed, status="ended", start=sc.start, end=sc.end, agencies=tuple(a.id for a in sc.agencies),
        )  # fmt: skip
        await director.transport.publish(director.topics.exercise_status, ended.model_dump_json().encode())
        await until(pilot, lambda: feed.status is not None and feed.status.status == "ended")
        await pilot.press("space")
        assert "the exercise has ended" in _status(app)
        await pilot.press("plus")
        assert len(controller.book.sent) == 5


async def test_the_inject_form_validates_before_sending(amqtt_url: BrokerUrl) -> None:
    loaded = _election()
    exercise = "dash-inject"
    feed = LiveFeed(Connector(amqtt_url), exercise, "dash-i", loaded=loaded)
    app = DashboardApp(LiveController(feed))
    async with Director(amqtt_url, exercise) as director, app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: feed.connected)
        # One of the scenario's own injects.
        await pilot.press("i")
        assert isinstance(app.screen, InjectScreen)
        form = app.screen
        form.query_one("#choice", Select).value = "5"
        await pilot.pause()
        assert "I-5" in str(form.query_one("#chosen").render())
        await pilot.press("ctrl+s")
        scripted = await director.next_command(1)
        assert scripted.action == "inject"
        assert scripted.inject == loaded.scenario.injects[5]

        # Escape cancels the form: nothing sent.
        await pilot.press("i")
        assert isinstance(app.screen, InjectScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, InjectScreen)

        # A free message: nothing is sent while the form is wrong.
        await pilot.press("i")
        form = app.screen
        assert isinstance(form, InjectScreen)
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, InjectScreen)
        assert "choose an agency" in str(form.query_one("#sender-error").render())
        assert "choose a kind" in str(form.query_one("#kind-error").render())
        assert "need attention" in str(form.query_one("#errors").render())
        form.query_one("#sender", Select).value = "us-nrrc"
        form.query_one("#recipient", Select).value = "ru-nrrc"
        form.query_one("#kind", Select).value = "WARNING"
        await pilot.pause()
        assert "basis" in form.query_one("#body", TextArea).text  # the template
        form.query_one("#severity", Input).value = "7"
        await pilot.press("ctrl+s")
        assert isinstance(app.screen, InjectScreen)
        assert "0 to 5" in str(form.query_one("#severity-error").render())
        assert "must name the incident" in str(form.query_one("#incident-error").render())
        form.query_one("#incident", Input).value = "EI-1"
        form.query_one("#severity", Input).value = "4"
        form.query_one("#body", TextArea).text = "demand: stop the intrusion\nbasis: forensic evidence"
        form.query_one("#note", Input).value = "facilitator raises the stakes"
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not isinstance(app.screen, InjectScreen))
        free = await director.next_command(2)
        assert len(director.commands) == 2  # the refused attempts sent nothing
        assert free.inject is not None
        assert free.inject.message is not None
        msg = free.inject.message
        assert (msg.from_, msg.to, msg.kind, msg.incident) == ("us-nrrc", "ru-nrrc", Kind.WARNING, "EI-1")
        assert msg.severity == 4
        assert msg.body == {"demand": "stop the intrusion", "basis": "forensic evidence"}
        assert free.inject.note == "facilitator raises the stakes"
        assert free.inject.at == timedelta(0)


async def test_the_live_dashboard_ends_where_the_journal_does(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    loaded = _election()
    exercise = "dash-live"
    feed = LiveFeed(Connector(amqtt_url), exercise, "dash-l", loaded=loaded)
    journal = tmp_path / "journal.jsonl"

    async def exercise_run() -> RunResult:
        return await run_fast(loaded, broker=amqtt_url, journal_path=journal, exercise=exercise)

    controller = LiveController(feed, background=exercise_run)
    app = DashboardApp(controller)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: controller.background_result is not None, timeout=40)
        result = controller.background_result
        assert isinstance(result, RunResult), result
        model = feed.model
        assert model is not None
        expected = result.state

        def caught_up() -> bool:
            return (
                feed.status is not None
                and feed.status.status == "ended"
                and len(model.state.messages) == len(expected.messages)
                and {k: o.status for k, o in model.state.obligations.items()}
                == {k: o.status for k, o in expected.obligations.items()}
            )

        await until(pilot, caught_up, timeout=20)
        assert summary(model.state) == summary(expected)
        assert model.state.ladder.levels == expected.ladder.levels == {"EI-1": 0, "EI-2": 1}
        assert {i: model.state.ladder.peak(i)[0] for i in model.state.incidents} == {"EI-1": 4, "EI-2": 1}
        assert len(model.state.fates) == len(expected.fates)
        await pilot.pause()
        app.redraw()
        rows = app.query_one(TimelineView).rows_text()
        assert any(r.startswith("EI-1 L0") for r in rows)
        assert "ENDED" in str(app.query_one("#header").render())


async def test_a_late_dashboard_catches_up_from_the_journal(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    loaded = _election()
    journal = tmp_path / "journal.jsonl"
    result = await run_fast(loaded, broker=amqtt_url, journal_path=journal, exercise="dash-late")
    feed = LiveFeed.from_journal(Connector(amqtt_url), journal, "dash-late")
    assert feed.exercise == "dash-late"
    app = DashboardApp(LiveController(feed))
    async with app.run_test(size=SIZE) as pilot:
        # The retained status, clock, links and presence arrive live too; each line counts once.
        await until(pilot, lambda: feed.connected and feed.status is not None and feed.status.status == "ended")
        await until(pilot, lambda: feed.stats.received >= 4)
        model = feed.model
        assert model is not None
        assert summary(model.state) == summary(result.state)
        assert len(model.state.messages) == len(result.state.messages)
        assert len(model.state.observations) == len(result.state.observations)


async def test_a_late_dashboard_finds_the_journal_the_director_announces(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    """Given only the exercise id, a dashboard on the director's machine catches up from the journal
    path the director keeps retained on ``ctl/journal``."""
    loaded = _election()
    journal = tmp_path / "journal.jsonl"
    result = await run_fast(loaded, broker=amqtt_url, journal_path=journal, exercise="dash-found")
    feed = LiveFeed(Connector(amqtt_url), "dash-found", "dash-found")  # no scenario, no journal given
    app = DashboardApp(LiveController(feed))
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: feed.model is not None and feed.journal is not None, timeout=20)
        model = feed.model
        assert model is not None
        assert feed.journal == journal.resolve()
        await until(pilot, lambda: len(model.state.messages) == len(result.state.messages), timeout=20)
        assert summary(model.state) == summary(result.state)


async def test_a_reused_exercise_id_starts_the_dashboard_afresh() -> None:
    """A new run under the same exercise id (status back to "starting") clears what the dashboard
    showed of the last one."""
    loaded = _election()
    sc = loaded.scenario
    feed = LiveFeed(Connector(BrokerUrl("127.0.0.1", 1)), "again", "again", loaded=loaded)
    topics = feed.topics

    def status(state: str) -> bytes:
        return (
            ExerciseStatus(
                exercise="again",
                scenario=sc.id,
                title=sc.title,
                sha256=loaded.sha256,
                protocol=loaded.agreement.id,
                seed=1,
                status=state,
                start=sc.start,
                end=sc.end,
                agencies=("us-cert",),
            )
            .model_dump_json()
            .encode()
        )

    await feed.handle(topics.exercise_status, status("running"), False)
    envelope = (SCENARIOS.parent / "tests/tui/fixtures/election-interference.jsonl").read_text().splitlines()
    first_msg = next(line for line in envelope if "/msg/" in line)
    entry = json.loads(first_msg)
    await feed.handle(
        entry["topic"].replace("election-interference", "again"),
        json.dumps(entry["payload"]).replace("election-interference", "again").encode(),
        False,
    )
    assert feed.model is not None
    assert len(feed.model.state.messages) == 1
    await feed.handle(topics.exercise_status, status("ended"), False)
    await feed.handle(topics.exercise_status, status("starting"), False)
    assert feed.model is not None
    assert feed.model.state.messages == [], "a new run starts from a clean slate"


async def test_quitting_the_dashboard_ends_the_exercise_properly(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    loaded = load_scenario(SCENARIOS.parent / "tests/integration/scenarios/drill.yaml")
    directors: list[RealDirector] = []
    feed = LiveFeed(Connector(amqtt_url), "dash-quit", "facilitator", loaded=loaded)

    async def realtime() -> RunResult:
        return await run_exercise(
            loaded,
            mode="realtime",
            speed=600,
            broker=amqtt_url,
            exercise="dash-quit",
            journal_path=tmp_path / "journal.jsonl",
            on_director=directors.append,
        )

    def end() -> None:
        for director in directors:
            director.request_end("ended from the dashboard")

    controller = LiveController(feed, background=realtime, on_quit=end)
    app = DashboardApp(controller)
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: feed.status is not None and feed.status.status == "running", timeout=20)
        await pilot.press("q")  # the exercise still runs: it is asked to end, then the app closes
        await until(pilot, lambda: controller.background_result is not None, timeout=20)
    result = controller.background_result
    assert isinstance(result, RunResult)
    assert result.state.status is not None
    assert result.state.status.ended_early is not None
    assert result.state.status.ended_early.startswith("ended from the dashboard at T+")
    assert result.state.tally is not None
    assert result.state.tally.missing == ()
