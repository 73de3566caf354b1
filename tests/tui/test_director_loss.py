"""The dashboard reacts to the director's loss (issue 11, finding 2): it says so at once, stops
following the clock after a grace period unless the director comes back, and sends nothing to
a director that is not there."""

from __future__ import annotations

from datetime import timedelta

from sim.model.control import ClockState, DirectorPresence, ExerciseStatus
from sim.runtime.transport import BrokerUrl, Connector
from sim.scenario.load import load_scenario
from tui.control.live import LiveController
from tui.live import LiveFeed

from ..conftest import SCENARIOS


async def test_the_dashboard_says_the_director_is_gone_and_stops_after_the_grace_period() -> None:
    loaded = load_scenario(SCENARIOS / "election-interference.yaml")
    sc = loaded.scenario
    feed = LiveFeed(Connector(BrokerUrl("127.0.0.1", 1)), "gone", "facilitator", loaded=loaded)
    controller: LiveController[None] = LiveController(feed)
    topics = feed.topics
    status = ExerciseStatus(
        exercise="gone",
        scenario=sc.id,
        title=sc.title,
        sha256=loaded.sha256,
        protocol=loaded.agreement.id,
        seed=1,
        status="running",
        start=sc.start,
        end=sc.end,
        agencies=("us-cert",),
    )
    clock = ClockState(mode="realtime", round=0, now=sc.start, start=sc.start, end=sc.end, speed=3600, wall=sc.start)
    await feed.handle(topics.exercise_status, status.model_dump_json().encode(), False)
    await feed.handle(topics.clock, clock.model_dump_json().encode(), False)
    await feed.handle(topics.director, DirectorPresence(online=True, session=1).model_dump_json().encode(), True)
    assert "DIRECTOR" not in controller.mode().mode

    # the broker delivers the director's Will
    await feed.handle(topics.director, DirectorPresence(online=False, session=1).model_dump_json().encode(), False)
    assert controller.mode().mode.startswith("DIRECTOR LOST")
    assert not feed.director_gone
    # it comes back within the grace period: all is well again
    await feed.handle(topics.director, DirectorPresence(online=True, session=2).model_dump_json().encode(), False)
    assert "DIRECTOR" not in controller.mode().mode

    # gone again, and the grace period passes: the dashboard stops following the clock
    feed.director_grace = 0.0
    await feed.handle(topics.director, DirectorPresence(online=False, session=2).model_dump_json().encode(), False)
    assert feed.director_gone
    assert controller.mode().mode.startswith("DIRECTOR GONE")
    assert feed.model is not None
    before = feed.model.now
    feed.tick(sc.start + timedelta(hours=5))
    assert feed.model.now == before, "the clock stopped with the director"
