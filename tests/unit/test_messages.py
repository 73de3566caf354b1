"""The envelope and every message body: round trips, canonical bytes, strict decoding."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from sim.model.errors import HotlineError, MalformedMessage
from sim.model.messages import (
    WALK_BACK_POSITIONS,
    CommCheck,
    Envelope,
    Kind,
    Position,
    PreNotify,
    RejectReason,
    RequestInfo,
    Tlp,
    decode_envelope,
    encode,
)

from .factories import T0, body_examples, envelope

ALL_KINDS = sorted(Kind)


def _valid_dict(kind: Kind = Kind.EARLY_WARNING) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(encode(envelope(kind)))
    return data


def _decode_error(data: Any) -> MalformedMessage:
    raw = data if isinstance(data, bytes) else json.dumps(data).encode()
    with pytest.raises(MalformedMessage) as info:
        decode_envelope(raw)
    return info.value


# -- every kind round-trips -------------------------------------------------------------------


def test_factory_has_exactly_one_body_per_kind() -> None:
    examples = body_examples()
    assert set(examples) == set(Kind)
    for kind, body in examples.items():
        assert body.kind is kind


@pytest.mark.parametrize("kind", ALL_KINDS, ids=str)
def test_round_trip_every_kind(kind: Kind) -> None:
    env = envelope(kind, ref="aa-cert-0", arrives_at=T0 + timedelta(minutes=2), severity=3, tlp=Tlp.AMBER_STRICT)
    raw = encode(env)
    decoded = decode_envelope(raw)
    assert decoded == env
    assert decoded.kind is kind
    assert type(decoded.body) is type(env.body)
    # canonical: encoding what was decoded gives the same bytes, from bytes or from text
    assert encode(decoded) == raw
    assert decode_envelope(raw.decode()) == env


def test_encoding_is_canonical_and_compact() -> None:
    env = envelope(CommCheck(check="hello"), incident=None, seq=7, msg_id="aa-cert-7")
    assert encode(env) == (
        b'{"v":1,"id":"aa-cert-7","exercise":"unit-ex","sender":"aa-cert","recipient":"bb-cert",'
        b'"channel":"cert","seq":7,"sent_at":"2026-01-01T00:00:00Z","severity":0,"tlp":"AMBER",'
        b'"marking":"EXERCISE","body":{"kind":"COMM_CHECK","check":"hello"}}'
    )


def test_same_instant_in_another_timezone_encodes_identically() -> None:
    plus_two = timezone(timedelta(hours=2))
    local = envelope(Kind.GOODWILL, sent_at=T0.astimezone(plus_two))
    utc = envelope(Kind.GOODWILL, sent_at=T0)
    assert local.sent_at.tzinfo is UTC
    assert encode(local) == encode(utc)


def test_none_fields_are_left_out_of_the_wire() -> None:
    data = json.loads(encode(envelope(Kind.GOODWILL, incident=None)))
    assert "ref" not in data
    assert "incident" not in data
    assert "arrives_at" not in data


def test_envelope_is_frozen() -> None:
    env = envelope(Kind.GOODWILL)
    with pytest.raises(ValidationError):
        env.severity = 5  # type: ignore[misc]


# -- decoding errors ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [b"", b"not json", b"{", b"[]", b"null", b"42", b'"text"', b"\xff\xfe\x00"],
    ids=["empty", "text", "truncated", "list", "null", "number", "string", "binary"],
)
def test_not_an_envelope_is_malformed(payload: bytes) -> None:
    err = _decode_error(payload)
    assert err.reason is RejectReason.MALFORMED
    assert err.detail
    assert isinstance(err, HotlineError)


def test_unknown_kind_is_reported_as_unknown_kind() -> None:
    data = _valid_dict()
    data["body"] = {"kind": "TELEPATHY", "text": "hi"}
    err = _decode_error(data)
    assert err.reason is RejectReason.UNKNOWN_KIND
    assert "TELEPATHY" in err.detail


def test_missing_kind_is_malformed_not_unknown_kind() -> None:
    data = _valid_dict()
    del data["body"]["kind"]
    assert _decode_error(data).reason is RejectReason.MALFORMED


def test_wrong_field_in_known_kind_is_malformed() -> None:
    data = _valid_dict()
    data["body"]["suspected_malicious"] = "perhaps"
    err = _decode_error(data)
    assert err.reason is RejectReason.MALFORMED
    assert "suspected_malicious" in err.detail


@pytest.mark.parametrize("where", ["envelope", "body"])
def test_extra_fields_are_rejected(where: str) -> None:
    data = _valid_dict()
    target = data if where == "envelope" else data["body"]
    target["colour"] = "red"
    err = _decode_error(data)
    assert err.reason is RejectReason.MALFORMED
    assert "colour" in err.detail


@pytest.mark.parametrize("field", ["sent_at", "arrives_at"])
def test_naive_datetimes_are_rejected(field: str) -> None:
    data = _valid_dict()
    data["sent_at"] = "2026-01-01T00:00:00Z"
    data[field] = "2026-01-01T00:05:00"
    err = _decode_error(data)
    assert err.reason is RejectReason.MALFORMED
    assert field in err.detail


def test_naive_datetime_in_body_is_rejected() -> None:
    data = _valid_dict(Kind.ACK)
    data["body"]["received_at"] = "2026-01-01T00:05:00"
    assert _decode_error(data).reason is RejectReason.MALFORMED


def test_arrival_before_sending_is_rejected() -> None:
    data = _valid_dict()
    data["arrives_at"] = "2025-12-31T23:59:59Z"
    err = _decode_error(data)
    assert err.reason is RejectReason.MALFORMED
    assert "arrives_at is before sent_at" in err.detail
    with pytest.raises(ValidationError, match="arrives_at is before sent_at"):
        envelope(Kind.GOODWILL, arrives_at=T0 - timedelta(seconds=1))


def test_arrival_at_the_sending_instant_is_allowed() -> None:
    assert envelope(Kind.GOODWILL, arrives_at=T0).arrives_at == T0


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("v", 2),
        ("marking", "REAL WORLD"),
        ("seq", 0),
        ("severity", 6),
        ("severity", -1),
        ("sender", "US-CERT"),
        ("recipient", "a b"),
        ("exercise", ""),
        ("id", ""),
        ("id", "x" * 129),
        ("incident", "-starts-with-dash"),
        ("tlp", "PURPLE"),
    ],
)
def test_envelope_field_constraints(field: str, value: Any) -> None:
    data = _valid_dict()
    data[field] = value
    err = _decode_error(data)
    assert err.reason is RejectReason.MALFORMED
    assert field in err.detail


def test_many_errors_are_summarised_with_a_count() -> None:
    data = {"v": 1, "body": {"kind": "GOODWILL"}}
    err = _decode_error(data)
    assert err.reason is RejectReason.MALFORMED
    assert "more)" in err.detail


def test_body_validators() -> None:
    with pytest.raises(ValidationError, match="window_end must be after window_start"):
        PreNotify(activity="x", window_start=T0, window_end=T0, scope="s")
    with pytest.raises(ValidationError):
        RequestInfo(questions=())
    with pytest.raises(ValidationError):
        CommCheck(check="x" * 2001)


def test_walk_back_positions() -> None:
    assert Position.DENY not in WALK_BACK_POSITIONS
    assert Position.INVESTIGATING not in WALK_BACK_POSITIONS
    assert {Position.NOT_STATE_ACTOR, Position.ROUTINE} <= WALK_BACK_POSITIONS


# -- property: untrusted bytes only ever raise MalformedMessage ------------------------------

_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)


def _decodes_or_malformed(payload: bytes) -> None:
    reason: RejectReason | None = None
    try:
        env = decode_envelope(payload)
    except MalformedMessage as exc:
        reason = exc.reason
    else:
        assert isinstance(env, Envelope)
        assert decode_envelope(encode(env)) == env
    assert reason in (None, RejectReason.MALFORMED, RejectReason.UNKNOWN_KIND)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=300))
def test_arbitrary_bytes_only_raise_malformed(payload: bytes) -> None:
    _decodes_or_malformed(payload)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_arbitrary_json_only_raises_malformed(value: Any) -> None:
    _decodes_or_malformed(json.dumps(value).encode())


_ENVELOPE_KEYS = sorted(_valid_dict())


@settings(max_examples=300, deadline=None)
@given(
    kind=st.sampled_from(ALL_KINDS),
    key=st.sampled_from(_ENVELOPE_KEYS),
    body_key=st.text(max_size=12),
    value=_json,
)
def test_mutated_envelopes_only_raise_malformed(kind: Kind, key: str, body_key: str, value: Any) -> None:
    data = _valid_dict(kind)
    if body_key:
        data["body"][body_key] = value
    data[key] = json.loads(json.dumps(value))
    _decodes_or_malformed(json.dumps(data).encode())


def test_datetimes_survive_round_trip_exactly() -> None:
    moment = datetime(2026, 3, 4, 5, 6, 7, 891000, tzinfo=UTC)
    env = envelope(Kind.GOODWILL, sent_at=moment)
    assert decode_envelope(encode(env)).sent_at == moment


@pytest.mark.parametrize(
    ("path", "value"),
    [(("seq",), "5"), (("severity",), 3.0), (("body", "suspected_malicious"), "yes"), (("body", "cross_border"), 1)],
)
def test_wrong_json_types_are_not_coerced(path: tuple[str, ...], value: Any) -> None:
    data = _valid_dict()
    target = data
    for part in path[:-1]:
        target = target[part]
    target[path[-1]] = value
    assert _decode_error(data).reason is RejectReason.MALFORMED
