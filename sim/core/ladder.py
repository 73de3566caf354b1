"""The escalation ladder of each incident, derived from the messages alone (pure).

Levels 0-5 (ROUTINE … LEADER CRISIS by default). The agreement's ``ladder`` section says which
traffic raises an incident to which level and which traffic walks it back; domestic traffic
moves nothing unless a rule names the domestic channel.

An incident may involve more than two states, and the escalation between Germany and Poland is
not that between Germany and Estonia: the ladder is kept per incident *and pair of states*.
A message moves the pair of its sender's and recipient's states (a domestic message, moved
only by a rule naming a domestic channel, moves every pair its state is in). The incident's
level is its highest pair's, so a stand-down between one pair leaves the incident where
another pair still is; with two states there is one pair and the two read the same.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sim.model.agreement import Agreement, Lower, Raise
from sim.model.messages import Envelope, IncidentUpdate, Kind, ProvideInfo

#: Two states, in sorted order (the same state twice: a matter still inside one state).
Pair = tuple[str, str]
#: The state of an agency the ladder was not told about.
UNKNOWN_STATE = "?"


def pair_of(a: str, b: str) -> Pair:
    """The pair of two states, in a canonical order."""
    x, y = sorted((a, b))
    return x, y


def pair_label(pair: Pair) -> str:
    """``de–ee`` (one state: ``de``)."""
    return pair[0] if pair[0] == pair[1] else f"{pair[0]}–{pair[1]}"


@dataclass(frozen=True)
class LevelChange:
    incident: str
    at: datetime
    level: int
    previous: int
    message_id: str
    reason: str
    #: The pair of states whose level moved (for an incident's own change: the pair that moved it).
    pair: Pair | None = None


@dataclass(frozen=True)
class Step:
    """What one message did: the pairs it moved, and the incident's change (if its level moved)."""

    pairs: tuple[LevelChange, ...] = ()
    change: LevelChange | None = None


@dataclass
class Ladder:
    agreement: Agreement
    #: The state of each agency (agencies not listed count as one unknown state).
    states: Mapping[str, str] = field(default_factory=dict)
    #: Each incident's level: its highest pair's.
    levels: dict[str, int] = field(default_factory=dict)
    #: Each incident's changes of level (of its highest pair), in order.
    history: dict[str, list[LevelChange]] = field(default_factory=dict)
    #: Each incident's pairs and their levels, in the order they first moved.
    pair_levels: dict[str, dict[Pair, int]] = field(default_factory=dict)
    #: Each pair's changes of level, by incident and pair.
    pair_history: dict[tuple[str, Pair], list[LevelChange]] = field(default_factory=dict)
    _seen: set[str] = field(default_factory=set)

    def name(self, level: int) -> str:
        return self.agreement.ladder.names[level]

    def level(self, incident: str, between: Pair | None = None) -> int:
        """The incident's level (``between``: that pair's)."""
        if between is not None:
            return self.pair_levels.get(incident, {}).get(pair_of(*between), 0)
        return self.levels.get(incident, 0)

    def pairs(self, incident: str) -> list[Pair]:
        """The pairs of states the incident has moved, in the order they first moved."""
        return list(self.pair_levels.get(incident, {}))

    def changes(self, incident: str, between: Pair | None = None) -> list[LevelChange]:
        """The incident's changes of level (``between``: that pair's)."""
        if between is not None:
            return self.pair_history.get((incident, pair_of(*between)), [])
        return self.history.get(incident, [])

    def top_pair(self, incident: str) -> Pair | None:
        """The pair at the incident's level now (the first to get there), if any is above 0."""
        levels = self.pair_levels.get(incident, {})
        best = max(levels.values(), default=0)
        return next((p for p, lvl in levels.items() if lvl == best), None) if best > 0 else None

    def peak(self, incident: str, between: Pair | None = None) -> tuple[int, datetime | None]:
        """Highest level reached and when it was first reached."""
        best, when = 0, None
        for change in self.changes(incident, between):
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
        """Feed one message (as sent on the wire); returns the incident's change, if any."""
        return self.step(env, at).change

    def step(self, env: Envelope, at: datetime) -> Step:
        """Feed one message (as sent on the wire): the pairs it moved and the incident's change."""
        if env.incident is None or env.id in self._seen:
            return Step()
        self._seen.add(env.id)
        incident = env.incident
        self.history.setdefault(incident, [])
        self.levels.setdefault(incident, 0)
        levels = self.pair_levels.setdefault(incident, {})
        moved = []
        for pair in self._pairs_of(env, levels):
            change = self._move(env, at, pair, levels.get(pair, 0))
            if change is not None:
                levels[pair] = change.level
                self.pair_history.setdefault((incident, pair), []).append(change)
                moved.append(change)
        return Step(tuple(moved), self._incident_change(incident, moved))

    def _pairs_of(self, env: Envelope, levels: dict[Pair, int]) -> list[Pair]:
        home = self.states.get(env.sender, UNKNOWN_STATE)
        other = self.states.get(env.recipient, UNKNOWN_STATE)
        if home != other:
            return [pair_of(home, other)]
        # Inside one state: every pair of the incident that state is in (itself, if none yet).
        return [p for p in levels if home in p] or [(home, home)]

    def _move(self, env: Envelope, at: datetime, pair: Pair, current: int) -> LevelChange | None:
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
        assert env.incident is not None
        return LevelChange(env.incident, at, new, current, env.id, reason, pair)

    def _incident_change(self, incident: str, moved: list[LevelChange]) -> LevelChange | None:
        """The incident's level is its highest pair's: did the message move that?"""
        current = self.levels[incident]
        new = max(self.pair_levels[incident].values(), default=0)
        if new == current or not moved:
            return None
        cause = max(moved, key=lambda c: c.level) if new > current else min(moved, key=lambda c: c.level)
        change = LevelChange(incident, cause.at, new, current, cause.message_id, cause.reason, cause.pair)
        self.levels[incident] = new
        self.history[incident].append(change)
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
