"""What an automated agency is and knows, and the draws every reaction makes.

:class:`Knowledge` holds who the agency is (its place in the roster), how it behaves (its
policy and its own RNG) and what it remembers (its view of each incident, the answers it has
scheduled, the notices it received and its own operations). The reactions in the sibling
modules read and update it; :meth:`Knowledge.state` is what survives a restart.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sim.core.automation.drafts import AutomatonState, IncidentView, Notice
from sim.core.roster import Roster
from sim.model.messages import Kind
from sim.model.policy import Disposition, Policy

#: Answers given quickly (within ``ack_delay``); never carried on a fallback channel.
QUICK_ANSWERS = frozenset({Kind.ACK, Kind.COMM_CHECK_REPLY})


@dataclass
class Knowledge:
    roster: Roster
    me: str
    policy: Policy
    rng: random.Random
    incidents: dict[str, IncidentView] = field(default_factory=dict)
    #: Obligations for which an answer is scheduled and not yet sent.
    pending: set[str] = field(default_factory=set)
    #: Pre-notifications received from other states.
    notices: list[Notice] = field(default_factory=list)
    #: Our own planned operations (announced or not).
    operations: list[Notice] = field(default_factory=list)

    # -- what survives a restart ----------------------------------------------------------------

    def state(self) -> AutomatonState:
        return AutomatonState(
            policy=self.policy,
            incidents=self.incidents,
            pending=sorted(self.pending),
            notices=self.notices,
            operations=self.operations,
        )

    def restore(self, state: AutomatonState) -> None:
        self.policy = state.policy
        self.incidents = dict(state.incidents)
        self.pending = set(state.pending)
        self.notices = list(state.notices)
        self.operations = list(state.operations)

    # -- look-ups -------------------------------------------------------------------------------

    def view(self, incident: str) -> IncidentView:
        """Our view of ``incident``, opened empty the first time we hear of it."""
        if incident not in self.incidents:
            self.incidents[incident] = IncidentView(id=incident)
        return self.incidents[incident]

    def home(self) -> str:
        return self.roster.state_of(self.me)

    def domestic(self, agency: str) -> bool:
        return self.roster.state_of(agency) == self.home()

    def note_partner(self, view: IncidentView, agency: str) -> None:
        """A domestic agency we exchanged messages with about the incident."""
        if agency not in view.partners:
            view.partners.append(agency)

    def counterpart(self, state: str | None) -> tuple[str, str] | None:
        """Our lowest-tier foreign channel towards ``state`` and the agency at its far end."""
        if state is None:
            return None
        for channel in self.roster.foreign_channels(self.me):
            agency = self.roster.counterpart(self.me, channel.id, state)
            if agency is not None:
                return channel.id, agency
        return None

    def raising_kind(self, channel: str) -> Kind | None:
        """The kind we raise a matter with on ``channel``: its escalation kind, except that only
        a cooperative agency asks for consultations (the others warn, where they may)."""
        kind = self.roster.channel(channel).escalation_kind
        if kind is Kind.CONSULT_REQUEST and self.policy.disposition is not Disposition.COOPERATIVE:
            allowed = self.roster.channel(channel).kinds
            return Kind.WARNING if Kind.WARNING in allowed else kind
        return kind

    # -- draws ----------------------------------------------------------------------------------

    def draw(self, span: tuple[timedelta, timedelta]) -> timedelta:
        low, high = span
        seconds = self.rng.uniform(low.total_seconds(), high.total_seconds())
        return timedelta(minutes=max(1, round(seconds / 60)))  # whole minutes: fewer rounds

    def honour(self, now: datetime, due: datetime, span: tuple[timedelta, timedelta]) -> timedelta | None:
        """Delay for an answer owed by ``due``: in time with probability ``reliability``,
        otherwise late (with probability ``late_answers``) or never."""
        reliable = self.rng.random() < self.policy.reliability
        late_draw = self.rng.random()
        delay = self.draw(span)
        window = due - now - timedelta(minutes=1)
        if reliable:
            return max(timedelta(minutes=1), min(delay, window))
        if late_draw < self.policy.late_answers:
            return max(delay, window + timedelta(minutes=1) + delay)
        return None
