"""Who can reach whom: the scenario's agencies and links, resolved under one agreement."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import combinations

from sim.model.agreement import Agreement, Channel
from sim.model.links import LinkKey
from sim.model.messages import Kind
from sim.model.scenario import Agency, Scenario


@dataclass(frozen=True)
class Roster:
    agreement: Agreement
    agencies: dict[str, Agency]
    latency: dict[LinkKey, timedelta]
    #: Links of the scenario that this agreement has no channel for (``--protocol``).
    dropped: tuple[str, ...] = field(default=())
    #: When the exercise runs (start, end): the times a message claims are checked against it.
    window: tuple[datetime, datetime] | None = None

    @classmethod
    def build(cls, scenario: Scenario, agreement: Agreement) -> Roster:
        agencies = {a.id: a for a in scenario.agencies}
        latency: dict[LinkKey, timedelta] = {}
        dropped: list[str] = []
        for link in scenario.links:
            if agreement.channel(link.channel) is None:
                dropped.append(f"{link.channel}:{link.between[0]}~{link.between[1]}")
                continue
            latency[LinkKey.of(link.channel, *link.between)] = link.latency
        # A channel with a default latency links every fitting pair the scenario did not list
        # itself (a listed link sets that pair's latency, it does not remove the others).
        for channel in agreement.channels:
            if channel.default_latency is None:
                continue
            for x, y in combinations(sorted(agencies), 2):
                key = LinkKey.of(channel.id, x, y)
                if key not in latency and _fits(channel, agencies[x], agencies[y]):
                    latency[key] = channel.default_latency
        window = (scenario.start, scenario.end)
        return cls(agreement, agencies, dict(sorted(latency.items())), tuple(dropped), window)

    def links_of(self, agency: str) -> list[LinkKey]:
        return [key for key in self.latency if key.joins(agency)]

    def has_link(self, channel: str, x: str, y: str) -> bool:
        return LinkKey.of(channel, x, y) in self.latency

    def channel(self, channel_id: str) -> Channel:
        channel = self.agreement.channel(channel_id)
        if channel is None:
            raise KeyError(channel_id)
        return channel

    def route(self, sender: str, recipient: str, kind: Kind) -> LinkKey | None:
        """The lowest-tier link between the two that may carry ``kind``."""
        options = [
            key
            for key in self.links_of(sender)
            if key.other(sender) == recipient and kind in self.channel(key.channel).kinds
        ]
        options.sort(key=lambda k: (self.channel(k.channel).tier, k.channel))
        return options[0] if options else None

    def state_of(self, agency: str) -> str:
        return self.agencies[agency].state

    def counterpart(self, agency: str, channel: str, state: str) -> str | None:
        """The agency of ``state`` that ``agency`` reaches on ``channel``."""
        for key in self.links_of(agency):
            other = key.other(agency)
            if key.channel == channel and self.state_of(other) == state:
                return other
        return None

    def relay_for(self, agency: str, channel: str, state: str) -> str | None:
        """An agency of ``agency``'s own state that sits on ``channel`` towards ``state``."""
        home = self.state_of(agency)
        for candidate in sorted(self.agencies):
            if self.state_of(candidate) != home:
                continue
            if self.counterpart(candidate, channel, state) is not None:
                return candidate
        return None

    def foreign_channels(self, agency: str) -> list[Channel]:
        """Bilateral channels ``agency`` sits on, lowest tier first."""
        ids = {key.channel for key in self.links_of(agency)}
        channels = [self.channel(c) for c in ids if self.channel(c).scope == "bilateral"]
        return sorted(channels, key=lambda c: (c.tier, c.id))

    def superior(self, agency: str) -> str | None:
        """The next agency up the domestic chain: the one of the same state whose best
        bilateral channel has the next higher tier."""
        mine = self._top_tier(agency)
        home = self.state_of(agency)
        best: tuple[int, str] | None = None
        for other in sorted(self.agencies):
            if other == agency or self.state_of(other) != home:
                continue
            if not self.has_link(self.agreement.domestic.id, agency, other):
                continue
            tier = self._top_tier(other)
            if tier > mine and (best is None or tier < best[0]):
                best = (tier, other)
        return best[1] if best else None

    def _top_tier(self, agency: str) -> int:
        channels = self.foreign_channels(agency)
        return max((c.tier for c in channels), default=0)


def _fits(channel: Channel, x: Agency, y: Agency) -> bool:
    same_state = x.state == y.state
    if channel.scope == "domestic" and not same_state:
        return False
    if channel.scope == "bilateral" and same_state:
        return False
    return channel.roles is None or sorted(channel.roles) == sorted((x.role, y.role))
