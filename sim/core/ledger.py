"""What a node put on the wire and took off it (pure): copies per peer, which fast mode's
rounds use to know nothing is in flight, and the ids of protocol messages per peer, which the
end-of-run delivery tally compares.

Message identity is ``(sender, id)``: a receiver keeps the ids per sender, counted once each
and only after screening (the right exercise, recipient and sender, an id in the sender's
namespace), so a replay or a redelivery can never stand in for a message that was lost.
``PROTOCOL_ERROR`` replies are not protocol traffic and are not in the sets."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from sim.model.messages import Envelope, Kind


@dataclass
class Ledger:
    sent_to: Counter[str] = field(default_factory=Counter)
    received_from: Counter[str] = field(default_factory=Counter)
    sent_ids: dict[str, set[str]] = field(default_factory=dict)
    received_ids: dict[str, set[str]] = field(default_factory=dict)

    def sent(self, env: Envelope, copies: int) -> None:
        self.sent_to[env.recipient] += copies
        if copies and env.kind is not Kind.PROTOCOL_ERROR:
            self.sent_ids.setdefault(env.recipient, set()).add(env.id)

    def received(self, env: Envelope, sender: str) -> None:
        """A screened message from ``sender`` came off the wire (a copy, or the first)."""
        self.received_from[sender] += 1
        if env.kind is not Kind.PROTOCOL_ERROR:
            self.received_ids.setdefault(sender, set()).add(env.id)

    def account(self, *, final: bool) -> dict[str, Any]:
        """A round report's fields: the copies (fast mode's in flight) and, in the final report,
        the ids sent to each recipient and received from each sender."""
        fields: dict[str, Any] = {
            "sent_to": dict(sorted(self.sent_to.items())),
            "received_from": dict(sorted(self.received_from.items())),
        }
        if final:
            fields |= {"sent_ids": _sorted(self.sent_ids), "received_ids": _sorted(self.received_ids)}
        return fields

    def state(self) -> dict[str, Any]:
        """The saved state's fields (see :meth:`restore`)."""
        return {
            "sent_to": dict(self.sent_to),
            "received_from": dict(self.received_from),
            "sent_ids": {peer: list(ids) for peer, ids in _sorted(self.sent_ids).items()},
            "received_ids": {peer: list(ids) for peer, ids in _sorted(self.received_ids).items()},
        }

    def restore(
        self,
        sent_to: dict[str, int],
        received_from: dict[str, int],
        sent_ids: dict[str, list[str]],
        received_ids: dict[str, list[str]],
    ) -> None:
        self.sent_to, self.received_from = Counter(sent_to), Counter(received_from)
        self.sent_ids = {peer: set(ids) for peer, ids in sent_ids.items()}
        self.received_ids = {peer: set(ids) for peer, ids in received_ids.items()}


def _sorted(ids: dict[str, set[str]]) -> dict[str, tuple[str, ...]]:
    return {peer: tuple(sorted(ids[peer], key=_natural)) for peer in sorted(ids)}


def _natural(message_id: str) -> tuple[str, int, str]:
    """``us-cert-10`` after ``us-cert-9``."""
    head, _, tail = message_id.rpartition("-")
    return (head, int(tail), "") if tail.isdigit() else (message_id, 0, message_id)
