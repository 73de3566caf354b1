"""Channel conditions and each message's fate: deterministic per seed, rates honoured, faults
applied and reverted field by field."""

from __future__ import annotations

from collections import Counter
from datetime import timedelta

import pytest

from sim.core.linktable import Decision, LinkTable, decide
from sim.core.rng import stream
from sim.model.injects import LinkFault
from sim.model.links import Condition, Fate, LinkKey, LinkRow

from .factories import minutes, roster

CERT = LinkKey.of("cert", "aa-cert", "bb-cert")
NRRC = LinkKey.of("nrrc", "aa-nrrc", "bb-nrrc")
UP = Condition(up=True, latency=minutes(2))
DRAWS = 20_000


def _fault(**data: object) -> LinkFault:
    return LinkFault.model_validate({"channel": "cert", **data})


def _fates(condition: Condition, seed: int = 1, n: int = DRAWS) -> Counter[Fate]:
    rng = stream(seed, "links", "aa-cert")
    return Counter(decide(condition, rng).fate for _ in range(n))


# -- rng streams ---------------------------------------------------------------------------------


def test_stream_is_deterministic_and_independent_per_label() -> None:
    first = [stream(7, "links", "aa-cert").random() for _ in range(3)]
    again = [stream(7, "links", "aa-cert").random() for _ in range(3)]
    assert first == again
    assert stream(7, "links", "bb-cert").random() != stream(7, "links", "aa-cert").random()
    assert stream(8, "links", "aa-cert").random() != stream(7, "links", "aa-cert").random()
    assert stream(7, "policy", "aa-cert").random() != stream(7, "links", "aa-cert").random()


# -- decide ----------------------------------------------------------------------------------------


def test_decide_is_deterministic_for_a_seed() -> None:
    lossy = Condition(up=True, latency=minutes(2), loss=0.3, duplicate=0.3)
    rng_a, rng_b = stream(42, "links", "x"), stream(42, "links", "x")
    seq_a = [decide(lossy, rng_a) for _ in range(200)]
    seq_b = [decide(lossy, rng_b) for _ in range(200)]
    assert seq_a == seq_b
    assert len({d.fate for d in seq_a}) == 3  # a mix of fates, not a constant
    other = stream(43, "links", "x")
    assert [decide(lossy, other) for _ in range(200)] != seq_a


def test_every_decision_draws_twice_so_fates_do_not_shift() -> None:
    """A down link consumes the same draws as an up one: the fates after an outage are the
    ones the same seed gives without it."""
    rng_a, rng_b = stream(5, "l"), stream(5, "l")
    lossy = Condition(up=True, latency=minutes(2), loss=0.5)
    decide(Condition(up=False, latency=minutes(2)), rng_a)
    decide(UP, rng_b)
    assert [decide(lossy, rng_a) for _ in range(50)] == [decide(lossy, rng_b) for _ in range(50)]


def test_refused_when_down_whatever_the_rates() -> None:
    down = Condition(up=False, latency=minutes(7), loss=1.0, duplicate=1.0)
    assert _fates(down, n=100) == Counter({Fate.REFUSED: 100})
    assert decide(down, stream(1, "x")) == Decision(Fate.REFUSED, minutes(7))


def test_clean_link_always_delivers_once_with_its_latency() -> None:
    decision = decide(UP, stream(1, "x"))
    assert decision == Decision(Fate.DELIVERED, minutes(2))
    assert decision.copies == 1
    assert _fates(UP, n=500) == Counter({Fate.DELIVERED: 500})


def test_copies_per_fate() -> None:
    assert [Decision(f, minutes(1)).copies for f in Fate] == [1, 2, 0, 0]
    assert list(Fate) == [Fate.DELIVERED, Fate.DUPLICATED, Fate.LOST, Fate.REFUSED]


@pytest.mark.parametrize("loss", [0.1, 0.5, 0.9])
def test_loss_rate_is_roughly_honoured(loss: float) -> None:
    fates = _fates(Condition(up=True, latency=minutes(2), loss=loss))
    assert fates[Fate.LOST] / DRAWS == pytest.approx(loss, abs=0.02)
    assert fates[Fate.DUPLICATED] == 0


@pytest.mark.parametrize("duplicate", [0.05, 0.3])
def test_duplication_rate_is_roughly_honoured(duplicate: float) -> None:
    fates = _fates(Condition(up=True, latency=minutes(2), duplicate=duplicate))
    assert fates[Fate.DUPLICATED] / DRAWS == pytest.approx(duplicate, abs=0.02)
    assert fates[Fate.LOST] == 0


def test_loss_and_duplication_combine() -> None:
    fates = _fates(Condition(up=True, latency=minutes(2), loss=0.2, duplicate=0.5))
    assert fates[Fate.LOST] / DRAWS == pytest.approx(0.2, abs=0.02)
    # a lost message is not also duplicated: 0.8 x 0.5
    assert fates[Fate.DUPLICATED] / DRAWS == pytest.approx(0.4, abs=0.02)


def test_rates_of_zero_and_one_are_exact() -> None:
    assert _fates(Condition(up=True, latency=minutes(1), loss=1.0), n=1000) == Counter({Fate.LOST: 1000})
    assert _fates(Condition(up=True, latency=minutes(1), duplicate=1.0), n=1000) == Counter({Fate.DUPLICATED: 1000})


# -- the link table ---------------------------------------------------------------------------------


def _table() -> LinkTable:
    return LinkTable(roster().latency)


def test_table_starts_with_every_link_up_at_its_latency() -> None:
    table = _table()
    assert table.get(CERT) == UP
    assert table.get(NRRC) == Condition(up=True, latency=minutes(15))
    assert table.get(LinkKey.of("cert", "aa-cert", "zz")) is None


def test_keys_for_a_fault() -> None:
    table = _table()
    assert table.keys_for(_fault(fault="down")) == [CERT]
    assert table.keys_for(_fault(fault="down", between=["bb-cert", "aa-cert"])) == [CERT]  # either order
    assert table.keys_for(_fault(fault="down", between=["aa-cert", "bb-nrrc"])) == []
    domestic = LinkFault.model_validate({"channel": "domestic", "fault": "down"})
    assert len(table.keys_for(domestic)) == 6  # three domestic links per state


@pytest.mark.parametrize(
    ("fault", "changed"),
    [
        (_fault(fault="down"), Condition(up=False, latency=minutes(2))),
        (_fault(fault="latency", latency="1h"), Condition(up=True, latency=timedelta(hours=1))),
        (_fault(fault="loss", rate=0.25), Condition(up=True, latency=minutes(2), loss=0.25)),
        (_fault(fault="duplicate", rate=0.5), Condition(up=True, latency=minutes(2), duplicate=0.5)),
    ],
    ids=["down", "latency", "loss", "duplicate"],
)
def test_apply_and_revert_one_fault(fault: LinkFault, changed: Condition) -> None:
    table = _table()
    fault_id = table.apply(fault)
    assert fault_id is not None
    assert table.get(CERT) == changed
    assert table.get(NRRC) == Condition(up=True, latency=minutes(15))  # untouched
    assert table.end(fault_id)
    assert table.get(CERT) == UP
    assert not table.end(fault_id), "a fault ends once"


def test_revert_restores_only_the_faults_own_field() -> None:
    table = _table()
    outage = _fault(fault="down", **{"for": "8h"})
    outage_id = table.apply(outage)
    assert outage_id is not None
    table.apply(_fault(fault="latency", latency="30m"))
    table.apply(_fault(fault="loss", rate=0.1))
    table.end(outage_id)
    assert table.get(CERT) == Condition(up=True, latency=minutes(30), loss=0.1)

    slow_id = table.apply(_fault(fault="latency", latency="1h"))
    assert slow_id is not None
    assert table.get(CERT) == Condition(up=True, latency=minutes(60), loss=0.1)
    table.apply(_fault(fault="down"))
    table.end(slow_id)  # the 30-minute latency fault, laid down earlier, holds again
    assert table.get(CERT) == Condition(up=False, latency=minutes(30), loss=0.1)


def test_up_fault_brings_a_link_back() -> None:
    table = _table()
    table.apply(_fault(fault="down"))
    table.apply(_fault(fault="up"))
    assert table.get(CERT) == UP


def test_overlapping_outages_end_with_the_link_up() -> None:
    table = _table()
    short = _fault(fault="down", **{"for": "2h"})
    long = _fault(fault="down", **{"for": "8h"})
    short_id = table.apply(short)  # t = 0
    long_id = table.apply(long)  # t = 1h, down until 9h
    assert short_id is not None
    assert long_id is not None
    table.end(short_id)  # t = 2h: the long outage still holds
    assert table.get(CERT) == Condition(up=False, latency=minutes(2))
    table.end(long_id)  # t = 9h: every outage is over
    assert table.get(CERT) == UP


def test_rows_round_trip() -> None:
    table = _table()
    table.apply(_fault(fault="loss", rate=0.3))
    rows = table.rows()
    assert rows == sorted(rows, key=lambda r: (r.channel, r.a, r.b))
    cert_row = next(r for r in rows if r.key == CERT)
    assert cert_row == LinkRow(channel="cert", a="aa-cert", b="bb-cert", up=True, latency=minutes(2), loss=0.3)
    again = LinkTable.from_rows([LinkRow.model_validate_json(r.model_dump_json()) for r in rows])
    assert again.rows() == rows
    assert again.get(CERT) == Condition(up=True, latency=minutes(2), loss=0.3)
