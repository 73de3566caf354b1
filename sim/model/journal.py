"""The append-only JSONL journal: one header line, then one ``{t, topic, payload}`` per message.

The header carries the whole scenario and agreement, so a journal is self-contained: the
summary, the after-action report and the dashboard's replay need nothing else. Each line is
flushed as it is written, so a journal is readable up to the last message after a crash.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import BaseModel, ConfigDict, Field

from sim.model.admission import Inadmissible, JsonValue, Junk, parse_json
from sim.model.agreement import Agreement
from sim.model.messages import UtcDatetime
from sim.model.scenario import Scenario

JOURNAL_VERSION = 1
#: Longest topic recorded (topics under the exercise prefix are a few dozen characters).
MAX_TOPIC: Final = 400


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
    topic: Annotated[str, Field(max_length=MAX_TOPIC)]
    #: The payload as JSON (admitted: finite numbers, well-formed text, bounded nesting).
    payload: JsonValue = None
    #: The payload's JSON text, unparsed: how a replay hands a line on to be validated once
    #: (and how journals before admission recorded what was not JSON). Never written.
    raw: str | None = None
    #: A payload that was not admitted: described, boundedly, instead of recorded.
    junk: Junk | None = None

    @classmethod
    def of(cls, t: datetime, topic: str, payload: bytes) -> Entry:
        """What came in on ``topic`` as a journal entry: its JSON, or — if it is not admissible
        JSON — a bounded :class:`~sim.model.admission.Junk` record of it."""
        try:
            return cls(t=t, topic=topic[:MAX_TOPIC], payload=parse_json(payload))
        except Inadmissible as exc:
            return cls(t=t, topic=topic[:MAX_TOPIC], junk=exc.junk)

    @classmethod
    def refused(cls, t: datetime, topic: str, junk: Junk) -> Entry:
        return cls(t=t, topic=topic[:MAX_TOPIC], junk=junk)

    def line(self) -> str:
        data: dict[str, Any] = {"t": self.t.strftime("%Y-%m-%dT%H:%M:%SZ"), "topic": self.topic}
        if self.junk is not None:
            data["junk"] = self.junk.model_dump(mode="json")
        elif self.raw is not None:
            data["payload"] = parse_json(self.raw.encode())
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
