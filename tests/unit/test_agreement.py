"""The shipped agreements load, and every deadline in them names the practice it comes from."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.model.agreement import Agreement
from sim.model.messages import Kind
from sim.scenario.errors import InputFileError, NotFound
from sim.scenario.load import find_agreement, load_agreement

from .factories import PROTOCOLS, SHIPPED_PROTOCOLS, agreement

DEADLINE_KEYS = ("within", "urgent_within", "min_lead", "default_latency")


def _deadline_lines(name: str, keys: tuple[str, ...]) -> list[tuple[int, str]]:
    """(line number, text) of every line that sets one of ``keys`` — as a block key or in a
    flow mapping — in the raw protocol file."""
    pattern = re.compile(r"(?:^\s*|[{,]\s*)(" + "|".join(keys) + r")\s*:")
    text = (PROTOCOLS / f"{name}.yaml").read_text(encoding="utf-8")
    return [(n, line) for n, line in enumerate(text.splitlines(), start=1) if pattern.search(line.split("#")[0])]


@pytest.mark.parametrize("name", SHIPPED_PROTOCOLS)
def test_shipped_protocol_loads(name: str) -> None:
    loaded = load_agreement(PROTOCOLS / f"{name}.yaml")
    assert loaded.id == name
    assert loaded.domestic.scope == "domestic"
    assert find_agreement(name) == PROTOCOLS / f"{name}.yaml"


@pytest.mark.parametrize("name", SHIPPED_PROTOCOLS)
def test_every_deadline_line_names_its_source(name: str) -> None:
    lines = _deadline_lines(name, DEADLINE_KEYS)
    assert lines, "the pattern found no deadlines at all"
    for number, line in lines:
        _, _, comment = line.partition("#")
        assert comment.strip(), f"{name}.yaml:{number}: deadline without a comment naming its practice: {line.strip()}"
        assert len(comment.split()) >= 3, f"{name}.yaml:{number}: the comment is too short to name a practice"


def test_deadline_line_count_matches_the_parsed_agreements() -> None:
    """The raw-text scan sees every deadline the parser sees (so no deadline escapes the check)."""
    for name in SHIPPED_PROTOCOLS:
        data: dict[str, Any] = yaml.safe_load((PROTOCOLS / f"{name}.yaml").read_text(encoding="utf-8"))
        parsed = sum(1 for c in data["channels"] if "default_latency" in c)
        for rule in (data.get("rules") or {}).values():
            parsed += sum(1 for key in ("within", "urgent_within") if key in (rule.get("answer") or {}))
            parsed += 1 if "within" in (rule.get("follow_up") or {}) else 0
            parsed += 1 if "min_lead" in rule else 0
        assert len(_deadline_lines(name, DEADLINE_KEYS)) == parsed, name


@pytest.mark.parametrize("name", SHIPPED_PROTOCOLS)
def test_every_retry_deadline_names_its_source(name: str) -> None:
    """``retry_within`` is a deadline too (how long to wait for an answer to a retry)."""
    for number, line in _deadline_lines(name, ("retry_within",)):
        assert "#" in line, f"{name}.yaml:{number}: {line.strip()}"


def test_bilateral_2013_deadlines() -> None:
    a = agreement("bilateral-2013")
    assert a.answer_deadline(Kind.EARLY_WARNING, urgent=False) == timedelta(hours=1)
    assert a.answer_deadline(Kind.REQUEST_INFO, urgent=False) == timedelta(hours=48)
    assert a.answer_deadline(Kind.REQUEST_INFO, urgent=True) == timedelta(hours=24)
    assert a.answer_deadline(Kind.EARLY_WARNING, urgent=True) == timedelta(hours=1)  # no urgent variant
    assert a.answer_deadline(Kind.GOODWILL, urgent=False) is None
    assert a.answer_deadline(Kind.STAND_DOWN, urgent=False) is None  # follow-up only
    rule = a.rule(Kind.EARLY_WARNING)
    assert rule is not None
    assert rule.follow_up is not None
    assert rule.follow_up.within == timedelta(hours=72)
    assert (rule.on_missed.retry, rule.on_missed.then) == (1, "escalate")


def test_incsea_is_stricter_than_bilateral() -> None:
    strict, loose = agreement("incsea-cyber"), agreement("bilateral-2013")
    for kind in (Kind.EARLY_WARNING, Kind.REQUEST_INFO, Kind.COMM_CHECK, Kind.CONSULT_REQUEST):
        tight = strict.answer_deadline(kind, urgent=False)
        slack = loose.answer_deadline(kind, urgent=False)
        assert tight is not None
        assert slack is not None
        assert tight <= slack, kind
    pre_notify = strict.rule(Kind.PRE_NOTIFY)
    assert pre_notify is not None
    assert pre_notify.min_lead == timedelta(days=3)
    assert strict.rule(Kind.WARNING) is not None
    assert loose.rule(Kind.WARNING) is None


def test_none_has_no_rules_and_no_fallbacks() -> None:
    a = agreement("none")
    assert a.rules == {}
    assert all(c.fallback is None for c in a.channels)
    assert [c.id for c in a.channels] == ["domestic", "diplomatic"]


def test_fallback_chain_of_bilateral() -> None:
    a = agreement("bilateral-2013")
    chain = []
    channel = a.channel("cert")
    while channel is not None:
        chain.append(channel.id)
        channel = a.channel(channel.fallback) if channel.fallback else None
    assert chain == ["cert", "nrrc", "leaders"]


def test_answer_kinds() -> None:
    kinds = agreement("incsea-cyber").answer_kinds()
    assert {Kind.ACK, Kind.COMM_CHECK_REPLY, Kind.PROVIDE_INFO, Kind.ASSIST_REPLY, Kind.CONSULT_REPLY} <= kinds
    assert Kind.INCIDENT_UPDATE not in kinds  # a follow-up, not an answer: needs no ref
    assert Kind.EARLY_WARNING not in kinds


def test_find_agreement_unknown() -> None:
    with pytest.raises(NotFound) as info:
        find_agreement("nope")
    # the error lists every shipped protocol (the three the issue requires, and any others)
    assert info.value.known == sorted(p.stem for p in PROTOCOLS.glob("*.yaml"))
    assert set(SHIPPED_PROTOCOLS) <= set(info.value.known)


def _write_variant(tmp_path: Path, old: str, new: str) -> Path:
    text = (PROTOCOLS / "bilateral-2013.yaml").read_text(encoding="utf-8")
    assert text.count(old) == 1
    path = tmp_path / "variant.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_find_agreement_by_path(tmp_path: Path) -> None:
    path = _write_variant(tmp_path, "id: bilateral-2013", "id: my-variant")
    assert find_agreement(str(path)) == path
    assert load_agreement(path).id == "my-variant"


@pytest.mark.parametrize(
    ("old", "new", "message"),
    [
        ("    fallback: nrrc\n", "    fallback: pigeon\n", "channel 'cert' falls back to unknown channel 'pigeon'"),
        ("  - id: nrrc\n", "  - id: cert\n", "channel ids must be unique: ['cert']"),
        (
            'channels: [nrrc], basis: "formal',
            'channels: [fax], basis: "formal',
            "ladder rule names unknown channel 'fax'",
        ),
        ("    scope: domestic\n", "", "an agreement needs a domestic channel"),
        ("{kinds: [STAND_DOWN], to: 0,", "{kinds: [STAND_DOWN], to: 0, by: 1,", "give exactly one of 'to'"),
        ("      within: 1h    #", "      within: 1 hour    #", "'1 hour' is not a duration"),
    ],
)
def test_agreement_errors(tmp_path: Path, old: str, new: str, message: str) -> None:
    path = _write_variant(tmp_path, old, new)
    with pytest.raises(InputFileError) as info:
        load_agreement(path)
    assert any(message in e.message for e in info.value.errors), [str(e) for e in info.value.errors]
    assert all(e.file == path and e.line is not None for e in info.value.errors)


def test_agreement_models_are_frozen() -> None:
    a: Agreement = agreement("bilateral-2013")
    with pytest.raises(ValueError, match="frozen"):
        a.id = "changed"  # type: ignore[misc]
