"""The dashboard tests' journal is what ``hotline run election-interference --fast`` records
today: a fast run on the embedded broker gives the committed file byte for byte. When a change
to the simulator moves the journal, this test says so; regenerate the fixture with

    hotline run election-interference --fast --headless --out /tmp/fx
    cp /tmp/fx/election-interference-*/journal.jsonl tests/tui/fixtures/election-interference.jsonl

and update the tests (and snapshots, ``--snapshot-update``) that read it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.runtime.exercise import run_fast
from sim.runtime.transport import BrokerUrl
from sim.scenario.load import find_scenario, load_scenario

from .helpers import JOURNAL

pytestmark = pytest.mark.integration


def _without_versions(journal: Path) -> list[str]:
    """The journal's lines, its header without the package versions it was written with (those
    follow the environment, not the simulator)."""
    header, *entries = journal.read_text(encoding="utf-8").splitlines()
    fields = json.loads(header)
    fields.pop("versions")
    return [json.dumps(fields, sort_keys=True), *entries]


async def test_the_fixture_journal_is_a_fresh_fast_run(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    loaded = load_scenario(find_scenario("election-interference"))
    fresh = tmp_path / "journal.jsonl"
    await run_fast(loaded, broker=amqtt_url, journal_path=fresh, exercise="election-interference")
    assert _without_versions(fresh) == _without_versions(JOURNAL), "the fixture journal drifted: regenerate it"
