"""Comparing protocols: summarising a run and aggregating runs are pure."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from sim.evaluation.compare import RunSummary, aggregate, markdown_table, rows, summarise, text_table, to_json
from sim.evaluation.journalfile import read_entries, read_header
from sim.evaluation.outcome import fold
from sim.scenario.load import load_scenario
from tests.unit.eval_journal import run_in_memory, write_journal
from tests.unit.factories import SCENARIOS, agreement


def _run(
    protocol: str, seed: int, level: int, answer: float | None = 3600.0, missed: int = 0, lost: int = 0
) -> RunSummary:
    return RunSummary(protocol, seed, level, answer, missed, lost, 0, 10, expectations_ok=level < 4)


def test_aggregate_gives_probability_medians_and_level_counts() -> None:
    runs = [
        _run("a", 1, 1),
        _run("a", 2, 1, answer=None),
        _run("a", 3, 5, missed=2, lost=1),
        _run("a", 4, 2),
        _run("b", 1, 5, answer=7200.0, missed=1),
        _run("b", 2, 4, answer=10800.0, missed=3),
    ]
    a, b = aggregate(runs, ["a", "b"])
    assert (a.protocol, a.runs, b.runs) == ("a", 4, 2)
    assert a.p_level_4 == 0.25
    assert b.p_level_4 == 1.0
    assert a.median_max_level == 1.5
    assert a.levels == {1: 2, 2: 1, 5: 1}
    assert a.median_first_answer_s == 3600.0  # the run without an answer is left out…
    assert a.answered_runs == 3  # …and counted
    assert b.median_first_answer_s == 9000.0
    assert (a.median_missed, a.mean_missed, a.total_lost) == (0.0, 0.5, 1)
    assert a.expectations_held == 3


def test_protocol_order_is_kept_even_without_runs() -> None:
    (a, b) = aggregate([_run("b", 1, 2)], ["a", "b"])
    assert (a.protocol, a.runs, a.p_level_4, a.median_first_answer_s) == ("a", 0, 0.0, None)
    assert b.runs == 1


def test_tables_put_protocols_side_by_side() -> None:
    dists = aggregate(
        [_run("incsea-cyber", 1, 1), _run("bilateral-2013", 1, 5, answer=None)], ["incsea-cyber", "bilateral-2013"]
    )
    table = rows(dists)
    assert table[0] == ["", "incsea-cyber", "bilateral-2013"]
    by_measure = {r[0]: r[1:] for r in table[1:]}
    assert by_measure["P(level ≥ 4)"] == ["0%", "100%"]
    assert by_measure["runs peaking at each level"] == ["L1×1", "L5×1"]
    assert by_measure["median time to first substantive answer"][1] == "never (0/1 answered)"
    md = markdown_table(dists)
    assert md.splitlines()[0] == "|  | incsea-cyber | bilateral-2013 |"
    assert md.splitlines()[1] == "|---|---:|---:|"
    text = text_table(dists)
    assert text.splitlines()[1].startswith("---")
    data = json.loads(to_json("s", [1], dists, []))
    assert [p["protocol"] for p in data["protocols"]] == ["incsea-cyber", "bilateral-2013"]


@pytest.mark.parametrize(
    ("protocol", "peak_at_least", "peak_at_most", "max_level"),
    [
        # BOT-1's PRE_NOTIFY on the CERT link is a level-1 kind there; TD-1 is recognised and stays at 0
        ("incsea-cyber", 0, 1, 1),
        # no notice: TD-1 climbs until cri-leader warns on the leaders' line, level 5 there
        ("bilateral-2013", 3, 5, 5),
    ],
)
def test_the_takedown_is_misread_without_a_notice(
    tmp_path: Path, protocol: str, peak_at_least: int, peak_at_most: int, max_level: int
) -> None:
    """The shipped takedown scenario at its own seed: under incsea-cyber the operator must
    notify and the activity is recognised; under bilateral-2013 (a courtesy notice, skipped at
    this seed) the same activity climbs the ladder. The run's max level is the higher of its
    two incidents' peaks (BOT-1, TD-1), read off the agreement's ladder."""
    loaded = load_scenario(SCENARIOS / "sinkhole-takedown.yaml", protocol)
    agreed = agreement(protocol)
    net = run_in_memory(loaded.scenario, agreed)
    journal = write_journal(net, loaded.scenario, agreed, tmp_path / "j.jsonl", seed=loaded.scenario.seed)
    state, _ = fold(read_header(journal), read_entries(journal))
    summary = summarise(state, protocol, loaded.scenario.seed, expectations_ok=True)
    assert peak_at_least <= state.ladder.peak("TD-1")[0] <= peak_at_most
    assert summary.max_level == max_level
    notices = [m for m in state.messages if m.envelope.kind.value == "PRE_NOTIFY"]
    assert bool(notices) == (protocol == "incsea-cyber")
    assert summary.lost == 0
