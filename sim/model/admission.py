"""The one admission step for every inbound byte (pure).

Whatever comes off the broker or out of a journal line passes here before anything else looks
at it — the director, every node, the dashboard and ``hotline report`` alike:

1. **size**: at most :data:`MAX_BYTES` (a message is a few hundred bytes; a journal line a little
   more);
2. **nesting**: JSON at most :data:`MAX_DEPTH` levels deep (messages need five);
3. **UTF-8**, strictly: no encoded surrogates (``ED A0 80``), no lone ``\\ud800`` escapes;
4. **JSON** with **finite, bounded numbers** (no ``NaN``/``Infinity``, nothing past ±2⁵³);
5. **the model of what travels there**: every field, its type, its length and the size of every
   list bounded by the models of :mod:`sim.model` (which forbid unknown fields).

What fails is :class:`Inadmissible`: a reason (:class:`Refusal`), a one-line detail, and a
*bounded* description of the payload (:class:`Junk`: size, first bytes, SHA-256) — never the
payload itself, so junk can be journalled and logged without being reflected.

Time fields are sanity-checked against the exercise by :func:`time_problem` (it needs the
exercise's window, so it runs where the window is known).

Signatures (issue 13) slot in after step 5: an admitted envelope is checked against its sender's
key before its identity ``(sender, id)`` is trusted.
"""

from __future__ import annotations

import enum
import hashlib
import json
import math
import re
from datetime import datetime, timedelta
from itertools import accumulate
from typing import Annotated, Any, Final, TypeVar

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from sim.model.errors import HotlineError

#: Largest payload admitted. Messages are bounded far below this by their models.
MAX_BYTES: Final = 64 * 1024
#: Deepest JSON nesting admitted (an envelope with a relayed body is five deep).
MAX_DEPTH: Final = 32
#: Largest integer magnitude admitted anywhere (what a double holds exactly).
MAX_INT: Final = 2**53
#: Bytes of a refused payload kept to describe it.
HEAD_BYTES: Final = 48

T = TypeVar("T")


class Refusal(enum.StrEnum):
    """Why a payload was not admitted (the same words as the protocol's reject reasons)."""

    TOO_LARGE = "TOO_LARGE"
    TOO_DEEP = "TOO_DEEP"
    NOT_FINITE = "NOT_FINITE"
    MALFORMED = "MALFORMED"
    UNKNOWN_KIND = "UNKNOWN_KIND"
    BAD_TIME = "BAD_TIME"


class Junk(BaseModel):
    """A bounded description of a payload that was not admitted: journalled and logged instead of
    the payload itself."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: Refusal
    detail: Annotated[str, Field(max_length=300)]
    size: Annotated[int, Field(ge=0)]
    #: The first bytes, printable ASCII with everything else escaped (``\\xNN``).
    head: Annotated[str, Field(max_length=4 * HEAD_BYTES)]
    sha256: Annotated[str, Field(pattern=r"^[0-9a-f]{64}$")]

    @classmethod
    def of(cls, payload: bytes, reason: Refusal, detail: str) -> Junk:
        return cls(
            reason=reason,
            detail=detail[:300],
            size=len(payload),
            head=printable(payload[:HEAD_BYTES]),
            sha256=hashlib.sha256(payload).hexdigest(),
        )


class Inadmissible(HotlineError):
    """A payload refused by the admission step; :attr:`junk` describes it (boundedly)."""

    def __init__(self, payload: bytes, reason: Refusal, detail: str) -> None:
        self.junk = Junk.of(payload, reason, detail)
        #: The payload itself, for whoever handles the refusal now (never to be kept or echoed).
        self.payload = payload
        super().__init__(f"{reason.value}: {self.junk.detail}")

    @property
    def reason(self) -> Refusal:
        return self.junk.reason

    @property
    def detail(self) -> str:
        return self.junk.detail


def printable(data: bytes) -> str:
    """``data`` as printable ASCII: bytes outside 0x20–0x7e (and the backslash) escaped."""
    return "".join(chr(b) if 0x20 <= b < 0x7F and b != 0x5C else f"\\x{b:02x}" for b in data)


# -- the byte-level checks --------------------------------------------------------------------

_BRACKETS = re.compile(rb'[\[\]{}]|"(?:[^"\\]|\\.)*"', re.DOTALL)
_DELTA = {ord("["): 1, ord("{"): 1, ord("]"): -1, ord("}"): -1}


def too_deep(payload: bytes, limit: int = MAX_DEPTH) -> bool:
    """Whether ``payload``'s JSON nests deeper than ``limit`` (brackets inside strings do not
    count). Linear; most payloads have fewer brackets than the limit and need no scan."""
    if payload.count(b"[") + payload.count(b"{") <= limit:
        return False
    steps = (_DELTA.get(m.group()[0], 0) for m in _BRACKETS.finditer(payload))
    return max(accumulate(steps, initial=0)) > limit


def check_bytes(payload: bytes, *, max_bytes: int = MAX_BYTES) -> None:
    """Steps 1–3: size, nesting, strict UTF-8 (lone ``\\u`` surrogate escapes are refused by the
    JSON parser in :func:`admit`). Raises :class:`Inadmissible`."""
    if len(payload) > max_bytes:
        raise Inadmissible(payload, Refusal.TOO_LARGE, f"{len(payload)} bytes (at most {max_bytes})")
    if too_deep(payload):
        raise Inadmissible(payload, Refusal.TOO_DEEP, f"nested deeper than {MAX_DEPTH} levels")
    try:
        payload.decode("utf-8")  # strict: encoded surrogates (ED A0 80 …) are errors too
    except UnicodeDecodeError as exc:
        raise Inadmissible(payload, Refusal.MALFORMED, f"not UTF-8 at byte {exc.start}: {exc.reason}") from exc


# -- the model step ---------------------------------------------------------------------------


def check_json(value: Any) -> Any:
    """JSON data with finite, bounded numbers and well-formed text (no lone surrogates, in keys
    or values), as ``json.loads`` or the JSON parser made it; raises ValueError otherwise."""
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            _encodable(item)
        elif isinstance(item, bool) or item is None:
            continue
        elif isinstance(item, int):
            if abs(item) > MAX_INT:
                raise ValueError(f"number {str(item)[:20]}… out of range (±2^53)")
        elif isinstance(item, float):
            if not math.isfinite(item):
                raise ValueError(f"number {item} is not finite")
        elif isinstance(item, list):
            stack.extend(item)
        elif isinstance(item, dict):
            for key in item:
                _encodable(key)
            stack.extend(item.values())
        else:
            raise ValueError(f"{type(item).__name__} is not JSON")
    return value


def _encodable(text: str) -> None:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as exc:
        raise ValueError(f"a lone UTF-16 surrogate at character {exc.start}") from exc


def _no_constants(name: str) -> Any:
    raise ValueError(f"{name} is not a finite number")


def parse_json(payload: bytes, *, max_bytes: int = MAX_BYTES) -> Any:
    """Steps 1–4 for a payload whose shape is checked elsewhere (a journal entry's payload):
    the byte checks, then JSON with finite, bounded numbers and well-formed text. Raises
    :class:`Inadmissible`."""
    check_bytes(payload, max_bytes=max_bytes)
    try:
        return check_json(json.loads(payload, parse_constant=_no_constants))
    except ValueError as exc:
        text = str(exc)
        reason = Refusal.NOT_FINITE if "finite" in text else Refusal.MALFORMED
        raise Inadmissible(payload, reason, text.splitlines()[0][:200]) from exc


#: Any JSON value, with finite and bounded numbers: what fields typed ``Any`` accept.
JsonValue = Annotated[Any, AfterValidator(check_json)]
#: Every count and sequence number: non-negative and exact in a double.
Count = Annotated[int, Field(ge=0, le=MAX_INT)]


def admit(adapter: TypeAdapter[T], payload: bytes, *, max_bytes: int = MAX_BYTES) -> T:
    """The whole admission step: the byte checks, then ``adapter``'s model (strict JSON; models
    forbid unknown fields, ``NaN`` and ``Infinity``). Raises :class:`Inadmissible`."""
    check_bytes(payload, max_bytes=max_bytes)
    try:
        return adapter.validate_json(payload, strict=True)
    except ValidationError as exc:
        reason, detail = _explain(exc)
        if reason is Refusal.MALFORMED:
            _refuse_numbers(payload)  # a non-finite or huge number is the news, if there is one
        raise Inadmissible(payload, reason, detail) from exc


def _refuse_numbers(payload: bytes) -> None:
    try:
        parse_json(payload)
    except Inadmissible as exc:
        if exc.reason is Refusal.NOT_FINITE:
            raise


def _explain(exc: ValidationError, limit: int = 3) -> tuple[Refusal, str]:
    errors = exc.errors()
    reason = Refusal.MALFORMED
    if any(err["type"] == "union_tag_invalid" for err in errors):
        reason = Refusal.UNKNOWN_KIND
    elif any(err["type"] == "finite_number" or "not finite" in err["msg"] for err in errors):
        reason = Refusal.NOT_FINITE
    parts = []
    # An unknown kind is the news; missing fields of an unknown kind are not.
    for err in sorted(errors, key=lambda e: e["type"] != "union_tag_invalid")[:limit]:
        where = ".".join(str(p) for p in err["loc"]) or "<payload>"
        if err["type"] == "union_tag_invalid":
            parts.append(f"{where}.kind: unknown kind {str(err.get('ctx', {}).get('tag'))[:40]!r}")
            continue
        parts.append(f"{where[:80]}: {err['msg'][:120]}")
    more = len(errors) - limit
    if more > 0:
        parts.append(f"(+{more} more)")
    return reason, "; ".join(parts)


# -- time -------------------------------------------------------------------------------------

#: The longest a message may claim to spend on a link.
MAX_TRANSIT: Final = timedelta(days=7)
#: How far outside the exercise a message may claim to have been sent (a realtime node's clock
#: runs on past the end until the director's end reaches it; at ×100000, a wall second is a day).
SENT_SLACK: Final = timedelta(days=30)
#: How far outside the exercise a time inside a message body may lie (a pre-notified window,
#: an awareness time before the exercise began).
BODY_SLACK: Final = timedelta(days=366)


def time_problem(
    sent_at: datetime, arrives_at: datetime | None, body_times: list[datetime], start: datetime, end: datetime
) -> str | None:
    """Why a message's times are not sane for an exercise running from ``start`` to ``end``
    (None: they are): sent within a month of the exercise, at most :data:`MAX_TRANSIT` on the
    link, and every time in its body within a year of the exercise. (Sane is not believed: the
    journal fold takes when a message was sent from when the director saw it.)"""
    if not start - SENT_SLACK <= sent_at <= end + SENT_SLACK:
        return f"sent_at {sent_at:%Y-%m-%dT%H:%M:%SZ} is far outside the exercise ({start:%Y-%m-%d} – {end:%Y-%m-%d})"
    if arrives_at is not None and arrives_at - sent_at > MAX_TRANSIT:
        return f"arrives_at {arrives_at:%Y-%m-%dT%H:%M:%SZ} is more than {MAX_TRANSIT.days} days after sent_at"
    for moment in body_times:
        if not start - BODY_SLACK <= moment <= end + BODY_SLACK:
            return f"a time in the body ({moment:%Y-%m-%d}) is more than a year outside the exercise"
    return None
