"""The MSEL export (pure): one row per inject, in time order, with expected actions."""

from __future__ import annotations

import csv
import io

from sim.scenario.load import load_scenario
from sim.scenario.msel import COLUMNS, msel_csv, msel_rows
from tests.unit.factories import ELECTION, SCENARIOS


def test_one_row_per_inject_in_time_order() -> None:
    loaded = load_scenario(ELECTION)
    rows = msel_rows(loaded.scenario, loaded.agreement)
    assert len(rows) == len(loaded.scenario.injects)
    assert [r.number for r in rows][:3] == ["I-0", "I-1", "I-2"]
    assert [r.time for r in rows] == sorted(r.time for r in rows)
    first = rows[0]
    assert (first.time, first.utc, first.sender, first.recipient) == (
        "T+00:30",
        "2026-11-02 12:30Z",
        "us-cert",
        "ru-cert",
    )


def test_expected_action_is_derived_from_the_agreement_unless_written() -> None:
    loaded = load_scenario(ELECTION)
    rows = {r.number: r for r in msel_rows(loaded.scenario, loaded.agreement)}
    assert rows["I-0"].expected == "ru-cert answers COMM_CHECK_REPLY within 1d"
    assert "ACK due within 1h" in rows["I-1"].expected
    assert "move traffic to nrrc" in rows["I-3"].expected
    assert rows["I-3"].sender == "SimCell (network)"
    # the same scenario under INCSEA: the warning must now be answered within 24 hours
    incsea = load_scenario(ELECTION, "incsea-cyber")
    warning = {r.number: r for r in msel_rows(incsea.scenario, incsea.agreement)}["I-5"]
    assert warning.expected == "ru-nrrc answers PROVIDE_INFO within 1d"
    assert rows["I-5"].expected.startswith("ru-nrrc takes note")


def test_authored_expected_action_and_objective_are_kept() -> None:
    loaded = load_scenario(SCENARIOS / "sinkhole-takedown.yaml")
    first = msel_rows(loaded.scenario, loaded.agreement)[0]
    assert first.expected.startswith("ber-cert pre-notifies cri-cert")
    assert first.objective.startswith("O-1: Berylia announces")


def test_csv_has_the_hseep_columns() -> None:
    loaded = load_scenario(ELECTION)
    table = list(csv.reader(io.StringIO(msel_csv(loaded.scenario, loaded.agreement))))
    assert tuple(table[0]) == COLUMNS
    assert table[0][:2] == ["number", "time"]
    assert "expected action" in table[0]
    assert "objective" in table[0]
    assert len(table) == len(loaded.scenario.injects) + 1
    assert all(len(row) == len(COLUMNS) for row in table)
