"""Rejected input, observed at a bounded rate (pure).

Every payload a node rejects is accounted for, but a flood in must not become a flood out:
per sender, the first few rejections are observed (``obs/<agency>``) and answered with a
``PROTOCOL_ERROR``; after that the sender's budget refills slowly (in sim time) and what is not
observed one by one is counted per reason. The next observation of that reason from that
sender carries the count (``suppressed``), and at the end of the exercise whatever is still
counted is observed in one record per sender and reason. So the observations of rejections,
each standing for ``1 + suppressed``, add up to every rejection."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sim.core.ratelimit import Budget
from sim.model.messages import RejectReason

#: Observed (and answered) one by one: this many at once per sender, then one per 10 sim minutes.
BURST, PER_SECOND = 5, 1 / 600


@dataclass
class Rejections:
    budget: Budget = field(default_factory=lambda: Budget(burst=BURST, per_second=PER_SECOND))
    pending: Counter[tuple[str, RejectReason]] = field(default_factory=Counter)

    def take(self, sender: str, reason: RejectReason, t: datetime) -> int | None:
        """A rejection of ``sender``'s input: None if it is only counted; otherwise it is to be
        observed, standing for itself and the returned number of earlier ones of its reason."""
        if not self.budget.allow(sender, t.timestamp()):
            self.pending[(sender, reason)] += 1
            return None
        return self.pending.pop((sender, reason), 0)

    def flush(self) -> list[tuple[str, RejectReason, int]]:
        """What is still only counted, per sender and reason (and forget it)."""
        out = [(sender, reason, n) for (sender, reason), n in sorted(self.pending.items())]
        self.pending.clear()
        return out
