"""The admission step (sim.model.admission, sim.model.inbound): every inbound byte, one place.

Whatever comes in — a surrogate, nesting a thousand deep, a number that is not one, megabytes —
is either admitted as the model of its topic or refused with a reason and a bounded description;
nothing else ever escapes, and what is journalled is always strict UTF-8 JSON."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.admission import HEAD_BYTES, MAX_BYTES, Inadmissible, Refusal, parse_json
from sim.model.control import ClockState
from sim.model.errors import MalformedMessage
from sim.model.inbound import admit_on
from sim.model.journal import Entry
from sim.model.messages import EarlyWarning, RejectReason, decode_envelope, encode
from sim.model.topics import Topics
from tests.unit.factories import T0, envelope

TOPICS = Topics("unit-ex")
T = datetime(2026, 1, 1, tzinfo=UTC)


def _strict(text: str) -> Any:
    def refuse(name: str) -> Any:
        raise AssertionError(f"{name} written")

    text.encode("utf-8")  # never a lone surrogate
    return json.loads(text, parse_constant=refuse)


# -- the findings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b'{"a":"\xed\xa0\x80"}', b'{"a":"\\ud800"}', b'{"\\udc00":1}', b'["x\\ud83d"]'],
    ids=["encoded", "escaped", "in-a-key", "half-a-pair"],
)
def test_a_surrogate_is_refused_and_never_journalled(payload: bytes) -> None:
    """Finding 1: ``json.loads`` accepts these; the journal's UTF-8 write then killed the director."""
    with pytest.raises(Inadmissible) as caught:
        parse_json(payload)
    assert caught.value.reason is Refusal.MALFORMED
    with pytest.raises(MalformedMessage):
        decode_envelope(payload)
    entry = Entry.of(T, TOPICS.msg("bb-cert", "aa-cert"), payload)
    assert entry.junk is not None
    assert entry.payload is None
    _strict(entry.line())


def test_an_escaped_pair_is_text() -> None:
    assert parse_json(b'["\\ud83d\\ude00"]') == ["😀"]


@pytest.mark.parametrize("payload", [b"[" * 1000 + b"]" * 1000, b'{"a":' * 5000 + b"1" + b"}" * 5000])
def test_deep_nesting_is_refused_without_recursing(payload: bytes) -> None:
    """Finding 1: nested ~1,000 deep it was a RecursionError in the director."""
    for parse in (parse_json, lambda p: admit_on(TOPICS.parse(TOPICS.presence("aa-cert")), p)):  # type: ignore[arg-type]
        with pytest.raises(Inadmissible) as caught:
            parse(payload)
        assert caught.value.reason is Refusal.TOO_DEEP


def test_brackets_inside_strings_are_not_nesting() -> None:
    assert parse_json(b'{"a":"' + b"[" * 100 + b'"}') == {"a": "[" * 100}


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b'{"n":NaN}', Refusal.NOT_FINITE),
        (b'{"n":-Infinity}', Refusal.NOT_FINITE),
        (b'{"n":1e999}', Refusal.NOT_FINITE),
        (b'{"n":' + b"9" * 30 + b"}", Refusal.MALFORMED),
    ],
)
def test_numbers_that_are_not_finite_or_not_exact_are_refused(payload: bytes, reason: Refusal) -> None:
    """Finding 8: journal lines could hold NaN and Infinity (and integers no reader agrees on)."""
    with pytest.raises(Inadmissible) as caught:
        parse_json(payload)
    assert caught.value.reason is reason
    entry = Entry.of(T, TOPICS.obs("aa-cert"), payload)
    assert entry.junk is not None
    _strict(entry.line())


def test_a_huge_message_is_refused_before_it_is_parsed() -> None:
    """Finding 8: a valid 9.4 MB EARLY_WARNING (an unbounded indicator list) sat in memory and in
    a state file rewritten after every message."""
    huge = envelope(
        EarlyWarning(
            summary="s", aware_at=T0, suspected_malicious=True, cross_border=True, indicators=("203.0.113.1",) * 32
        )
    )
    data = json.loads(encode(huge))
    data["body"]["indicators"] = ["x" * 1000] * 9400
    payload = json.dumps(data).encode()
    assert len(payload) > 9_000_000
    with pytest.raises(MalformedMessage) as caught:
        decode_envelope(payload)
    assert caught.value.reason is RejectReason.TOO_LARGE
    # and within the size limit, the list itself is bounded by the model
    data["body"]["indicators"] = ["x"] * 33
    with pytest.raises(MalformedMessage):
        decode_envelope(json.dumps(data).encode())


def test_a_refusal_describes_the_payload_boundedly() -> None:
    payload = b"\x00\xff" + b"A" * (MAX_BYTES * 4)
    entry = Entry.of(T, TOPICS.msg("bb-cert", "aa-cert"), payload)
    assert entry.junk is not None
    assert entry.junk.reason is Refusal.TOO_LARGE
    assert entry.junk.size == len(payload)
    assert entry.junk.head.startswith("\\x00\\xff")
    assert len(entry.junk.head) <= 4 * HEAD_BYTES
    assert len(entry.line()) < 600


def test_a_model_with_a_float_refuses_what_is_not_finite() -> None:
    clock = ClockState(mode="realtime", round=0, now=T, start=T, end=T, speed=60.0)
    payload = clock.model_dump_json().replace("60.0", "NaN").encode()
    with pytest.raises(Inadmissible) as caught:
        admit_on(TOPICS.parse(TOPICS.clock), payload)  # type: ignore[arg-type]
    assert caught.value.reason is Refusal.NOT_FINITE


def test_a_topic_nothing_is_published_on_is_refused() -> None:
    for topic in (f"{TOPICS.root}/ctl/nothing", f"{TOPICS.root}/msg/bb-cert/AA CERT", f"{TOPICS.root}/ctl/cmd/x/y"):
        parsed = TOPICS.parse(topic)
        assert parsed is not None
        with pytest.raises(Inadmissible):
            admit_on(parsed, b"{}")


def test_what_is_admitted_is_the_model_of_its_topic() -> None:
    env = envelope(EarlyWarning(summary="s", aware_at=T0, suspected_malicious=True, cross_border=True))
    parsed = TOPICS.parse(TOPICS.msg("bb-cert", "aa-cert"))
    assert parsed is not None
    assert admit_on(parsed, encode(env)) == env


# -- fuzz: nothing but a refusal ever escapes -----------------------------------------------------

_surrogates = st.integers(0xD800, 0xDFFF).map(lambda c: f"\\u{c:04x}")
_text = st.text(max_size=12) | _surrogates.map(lambda s: f"x{s}y")
_numbers = st.integers(-(2**70), 2**70) | st.floats() | st.sampled_from(["NaN", "Infinity", "-Infinity", "1e999"])


def _json_text(value: Any) -> str:
    if isinstance(value, str) and value in ("NaN", "Infinity", "-Infinity", "1e999"):
        return value
    if isinstance(value, str):
        return '"' + value.replace('"', "") + '"'
    if isinstance(value, float):
        return repr(value) if value == value and abs(value) != float("inf") else "NaN"
    if isinstance(value, list):
        return "[" + ",".join(_json_text(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ",".join(f"{_json_text(k)}:{_json_text(v)}" for k, v in value.items()) + "}"
    return json.dumps(value)


_values = st.recursive(
    st.none() | st.booleans() | _numbers | _text,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(_text, inner, max_size=3),
    max_leaves=10,
)
_payloads = st.one_of(
    st.binary(max_size=300),
    _values.map(lambda v: _json_text(v).encode()),
    st.integers(30, 3000).map(lambda n: b"[" * n + b"]" * n),
    st.integers(30, 3000).map(lambda n: b'{"a":' * n + b"0" + b"}" * n),
)


@settings(max_examples=400, deadline=None)
@given(_payloads, st.sampled_from(["msg/bb-cert/aa-cert", "obs/aa-cert", "presence/aa-cert", "ctl/ready/aa-cert"]))
def test_fuzz_admission_refuses_or_admits_and_journals_strict_json(payload: bytes, where: str) -> None:
    parsed = TOPICS.parse(f"{TOPICS.root}/{where}")
    assert parsed is not None
    refusal = None
    try:
        admit_on(parsed, payload)
    except Inadmissible as exc:
        refusal = exc.junk
    if refusal is not None:
        assert refusal.size == len(payload)
        assert len(refusal.model_dump_json()) < 1000
    _strict(Entry.of(T, f"{TOPICS.root}/{where}", payload).line())
