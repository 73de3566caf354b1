"""The append-only JSONL journal: one header line, then one ``{t, topic, payload}`` per message.

The header carries the whole scenario and agreement, so a journal is self-contained: the
summary, the after-action report and the dashboard's replay need nothing else. Each line is
flushed as it is written, so a journal is readable up to the last message after a crash.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict

from sim.model.agreement import Agreement
from sim.model.messages import UtcDatetime
from sim.model.scenario import Scenario

JOURNAL_VERSION = 1


class JournalHeader(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    journal: Literal["hotline"] = "hotline"
    version: int = JOURNAL_VERSION
    exercise: str
    mode: Literal["fast", "realtime"]
    seed: int
    scenario_sha256: str
    scenario: Scenario
    agreement: Agreement
    versions: dict[str, str]


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    t: UtcDatetime
    topic: str
    #: The payload parsed as JSON, or None when it was not JSON (then ``raw`` has it).
    payload: Any = None
    raw: str | None = None

    @classmethod
    def of(cls, t: datetime, topic: str, payload: bytes) -> Entry:
        try:
            return cls(t=t, topic=topic, payload=json.loads(payload))
        except (ValueError, UnicodeDecodeError):
            return cls(t=t, topic=topic, raw=payload.decode("utf-8", errors="replace"))

    def line(self) -> str:
        data: dict[str, Any] = {"t": self.t.strftime("%Y-%m-%dT%H:%M:%SZ"), "topic": self.topic}
        if self.raw is not None:
            data["raw"] = self.raw
        else:
            data["payload"] = self.payload
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    def sort_key(self) -> tuple[datetime, int, str, int, int, int, str]:
        """Canonical order of one instant: the director's control messages first (they cause
        the rest), then per agency in the order it acted — a message (by its seq) before what
        the agency observed after sending it — then the full line as a tie-breaker."""
        parts = self.topic.split("/")
        area = parts[3] if len(parts) > 3 else ""
        payload = self.payload if isinstance(self.payload, dict) else {}
        seq = payload.get("seq", 0)
        n = payload.get("n", 0)
        seq = seq if isinstance(seq, int) else 0
        n = n if isinstance(n, int) else 0
        if area == "msg" and len(parts) > 5:
            return (self.t, 1, parts[5], seq, 0, 0, self.line())
        if area == "obs" and len(parts) > 4:
            return (self.t, 1, parts[4], seq, 1, n, self.line())
        group = {"ctl": 0, "presence": 2}.get(area, 3)
        return (self.t, group, self.topic, 0, 0, 0, self.line())
