"""Shipped scenarios do not depend on their seed by accident: every expectation holds at three
other seeds too, unless the scenario says it is about chance (``seeds: fixed``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.runtime.transport import BrokerUrl
from sim.scenario.load import load_scenario, shipped_scenarios
from tests.integration.helpers import run_scenario

pytestmark = pytest.mark.integration

OTHER_SEEDS = (1, 2, 3)  # added to the scenario's own seed


@pytest.mark.timeout(120)
@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
async def test_unmarked_expectations_hold_at_other_seeds(path: Path, amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    base = load_scenario(path).scenario.seed
    sensitive: list[str] = []
    for offset in OTHER_SEEDS:
        seed = base + offset
        result = await run_scenario(
            path, amqtt_url, tmp_path, seed=seed, exercise=f"seeds-{seed}", name=f"{seed}.jsonl"
        )
        for index, verdict in enumerate(result.verdicts):
            if not verdict.ok and verdict.expectation.seeds != "fixed":
                sensitive.append(f"expect[{index}] at seed {seed}: {verdict.claim}: {verdict.found}")
    assert not sensitive, "seed-sensitive (hold, or say `seeds: fixed`):\n" + "\n".join(sensitive)


def test_fixed_seed_expectations_are_few() -> None:
    """`seeds: fixed` is for checks about chance, not a way out: at most one per scenario."""
    for path in shipped_scenarios():
        fixed = [e for e in load_scenario(path).scenario.expect if e.seeds == "fixed"]
        assert len(fixed) <= 1, path.stem
