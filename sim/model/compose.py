"""Building message bodies from loose data (scripted injects, live injects, policy drafts)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter

from sim.model.messages import Body, Kind

_BODY: TypeAdapter[Body] = TypeAdapter(Body)
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)

#: Time fields an author need not write: they default to the moment the message is sent.
_TIME_DEFAULTS = {
    Kind.ACK: ("received_at",),
    Kind.EARLY_WARNING: ("aware_at",),
}


def body_from(kind: Kind, fields: dict[str, Any], *, now: datetime = _EPOCH) -> Body:
    """Validate ``fields`` as the body of ``kind`` (raises pydantic ValidationError)."""
    data = dict(fields)
    data.pop("kind", None)
    for name in _TIME_DEFAULTS.get(kind, ()):
        data.setdefault(name, now)
    if kind is Kind.EARLY_WARNING:
        data.setdefault("suspected_malicious", True)
        data.setdefault("cross_border", True)
    return _BODY.validate_python({"kind": kind.value, **data})
