"""Every shipped scenario meets its own expectations in fast mode (scenarios are golden tests)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.runtime.transport import BrokerUrl
from sim.scenario.load import shipped_scenarios
from tests.integration.helpers import run_scenario

pytestmark = pytest.mark.integration


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
async def test_shipped_scenario_meets_its_expectations(path: Path, amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    result = await run_scenario(path, amqtt_url, tmp_path)
    failed = [f"{v.claim}: {v.found}" for v in result.verdicts if not v.ok]
    assert not failed
    assert result.verdicts, "a shipped scenario states what a facilitator should see"
