"""The escalation ladder of each incident, derived from the messages alone (pure).

Levels 0-5 (ROUTINE … LEADER CRISIS by default). The agreement's ``ladder`` section says which
traffic raises an incident to which level and which traffic walks it back; domestic traffic
moves nothing unless a rule names the domestic channel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sim.model.agreement import Agreement, Lower, Raise
from sim.model.messages import Envelope, IncidentUpdate, Kind, ProvideInfo


@dataclass(frozen=True)
class LevelChange:
    incident: str
    at: datetime
    level: int
    previous: int
    message_id: str
    reason: str


@dataclass
class Ladder:
    agreement: Agreement
    levels: dict[str, int] = field(default_factory=dict)
    history: dict[str, list[LevelChange]] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)

    def name(self, level: int) -> str:
        return self.agreement.ladder.names[level]

    def level(self, incident: str) -> int:
        return self.levels.get(incident, 0)

    def peak(self, incident: str) -> tuple[int, datetime | None]:
        """Highest level reached and when it was first reached."""
        best, when = 0, None
        for change in self.history.get(incident, []):
            if change.level > best:
                best, when = change.level, change.at
        return best, when

    def __post_init__(self) -> None:
        # The lowering rules by kind: most traffic lowers nothing, and is told so at once.
        self._lowering: dict[Kind, list[Lower]] = {}
        for rule in self.agreement.ladder.lower:
            for kind in rule.kinds:
                self._lowering.setdefault(kind, []).append(rule)

    def observe(self, env: Envelope, at: datetime) -> LevelChange | None:
        """Feed one message (as sent on the wire); returns the change it caused, if any."""
        if env.incident is None or env.id in self._seen:
            return None
        self._seen.add(env.id)
        current = self.levels.get(env.incident, 0)
        self.history.setdefault(env.incident, [])
        self.levels.setdefault(env.incident, 0)
        lowered = self._lower(env, current)
        if lowered is not None:
            new, reason = lowered
        else:
            new, reason = current, ""
            for rule in self.agreement.ladder.raise_:
                if rule.level > new and self._raises(rule, env):
                    new, reason = rule.level, _describe_raise(rule, env)
        if new == current:
            return None
        change = LevelChange(env.incident, at, new, current, env.id, reason)
        self.levels[env.incident] = new
        self.history[env.incident].append(change)
        return change

    def _channel_ok(self, channels: tuple[str, ...] | None, env: Envelope) -> bool:
        if channels is not None:
            return env.channel in channels
        channel = self.agreement.channel(env.channel)
        return channel is not None and channel.scope == "bilateral"

    def _raises(self, rule: Raise, env: Envelope) -> bool:
        if isinstance(env.body, IncidentUpdate) and env.body.final:
            return False
        if not self._channel_ok(rule.channels, env):
            return False
        if rule.kinds is not None and env.kind not in rule.kinds:
            return False
        if env.kind in rule.except_kinds:
            return False
        return rule.min_severity is None or env.severity >= rule.min_severity

    def _lower(self, env: Envelope, current: int) -> tuple[int, str] | None:
        for rule in self._lowering.get(env.kind, ()):
            if not self._lowers(rule, env):
                continue
            new = rule.to if rule.to is not None else max(0, current - (rule.by or 0))
            if new < current:
                return new, _describe_lower(env)
            return current, ""
        return None

    def _lowers(self, rule: Lower, env: Envelope) -> bool:
        if env.kind not in rule.kinds or not self._channel_ok(rule.channels, env):
            return False
        if rule.positions is not None:
            return isinstance(env.body, ProvideInfo) and env.body.position in rule.positions
        return True


def _describe_raise(rule: Raise, env: Envelope) -> str:
    if rule.min_severity is not None and rule.kinds is None:
        return f"severity {env.severity} on {env.channel} ({env.kind.value} {env.sender}→{env.recipient})"
    return f"{env.kind.value} {env.sender}→{env.recipient} on {env.channel}"


def _describe_lower(env: Envelope) -> str:
    detail = f" ({env.body.position.value})" if isinstance(env.body, ProvideInfo) else ""
    return f"{env.kind.value}{detail} {env.sender}→{env.recipient} on {env.channel}"
