"""A token bucket per key (pure): how often something may be answered, at most.

Used where one participant's input makes another send something — a ``PROTOCOL_ERROR`` to the
sender of junk, an observation of each rejection, the director's answer to a command that is
not one — so that a flood in is never a flood out. The caller supplies the time (sim seconds in a
node, which keeps fast mode deterministic; wall seconds in the director)."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Budget:
    #: How many at once, and how many more per second after that.
    burst: float = 5.0
    per_second: float = 1 / 60
    _tokens: dict[str, float] = field(default_factory=dict)
    _at: dict[str, float] = field(default_factory=dict)

    def allow(self, key: str, now: float) -> bool:
        """Whether ``key`` may have one more now (and take it)."""
        last = self._at.get(key, now)
        tokens = min(self.burst, self._tokens.get(key, self.burst) + max(0.0, now - last) * self.per_second)
        self._at[key] = now
        if tokens < 1:
            self._tokens[key] = tokens
            return False
        self._tokens[key] = tokens - 1
        return True

    def state(self) -> dict[str, tuple[float, float]]:
        return {key: (self._tokens[key], self._at[key]) for key in sorted(self._tokens)}

    def restore(self, state: dict[str, tuple[float, float]]) -> None:
        self._tokens = {key: tokens for key, (tokens, _) in state.items()}
        self._at = {key: at for key, (_, at) in state.items()}
