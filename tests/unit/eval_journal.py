"""A real journal without a broker: node cores and the director's timeline wired in memory
(tests.unit.factories.Network), written in the journal format the director writes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sim.core.roster import Roster
from sim.model.agreement import Agreement
from sim.model.journal import Entry, JournalHeader
from sim.model.scenario import Scenario
from sim.runtime.journal import JournalWriter
from tests.unit.factories import EXERCISE, Network, agreement


def run_in_memory(scenario: Scenario, protocol: Agreement | None = None, seed: int | None = None) -> Network:
    agreed = protocol or agreement(scenario.protocol)
    roster = Roster.build(scenario, agreed)
    policies = {a: scenario.policy_for(a) for a in roster.agencies}
    net = Network.build(roster, seed=scenario.seed if seed is None else seed, policies=policies, scenario_=scenario)
    assert net.timeline is not None
    net.deliver([net.timeline.links_state(scenario.start)], scenario.start)
    net.run(scenario.end)
    return net


def write_journal(net: Network, scenario: Scenario, agreed: Agreement, path: Path, seed: int = 0) -> Path:
    header = JournalHeader(
        exercise=EXERCISE,
        mode="fast",
        seed=seed,
        scenario_sha256="0" * 64,
        scenario=scenario,
        agreement=agreed,
        versions={"python": "test"},
    )
    writer = JournalWriter(path, header)
    entries = [Entry.of(t, p.topic, p.payload) for t, p in net.wire]
    for entry in sorted(entries, key=Entry.sort_key):
        writer.write(entry)
    writer.close()
    return path


def journal_of(data: dict[str, Any], tmp: Path, protocol: str | None = None) -> Path:
    scenario = Scenario.model_validate(data)
    agreed = agreement(protocol or scenario.protocol)
    net = run_in_memory(scenario, agreed)
    return write_journal(net, scenario, agreed, tmp / "journal.jsonl", seed=scenario.seed)
