"""Shared pieces of the dashboard tests: the fixture journal (recorded with
``hotline run election-interference --fast``; ``test_fixture`` checks it still is) folded into
a model, and condition waits."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

from textual.pilot import Pilot

from sim.evaluation.journalfile import read_entries, read_header
from tui.model import DashboardModel

FIXTURES = Path(__file__).resolve().parent / "fixtures"
JOURNAL = FIXTURES / "election-interference.jsonl"

R = TypeVar("R")


def folded(journal: Path = JOURNAL) -> DashboardModel:
    header = read_header(journal)
    model = DashboardModel(header.scenario, header.agreement, header.exercise)
    for entry in read_entries(journal):
        model.apply(entry)
    return model


async def until(pilot: Pilot[R], condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Let the app run until ``condition`` holds (no fixed sleeps); fail after ``timeout``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s")
        await pilot.pause()
