"""The agreement: what a protocol file (``scenarios/protocols/*.yaml``) says.

An agreement names the channels (and their tier), which message kinds may travel on each
channel between which roles, what each kind obliges the recipient (and the sender) to send
and by when, what the waiting side does when that deadline passes (retry, then escalate to
the fallback channel), and how traffic moves the escalation ladder. It is data only; the
state machine that applies it lives in :mod:`sim.core.protocol`.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.model.durations import Duration, PositiveDuration
from sim.model.messages import Ident, Kind, Position

LEVEL_COUNT = 6


Level = Annotated[int, Field(ge=0, le=LEVEL_COUNT - 1)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Channel(_Spec):
    id: Ident
    name: str
    #: 0 is the domestic chain; 1 the technical link; higher tiers are more political.
    tier: Annotated[int, Field(ge=0, le=9)]
    scope: Literal["bilateral", "domestic"] = "bilateral"
    #: The roles at the two ends (order does not matter); absent means any role.
    roles: tuple[Ident, Ident] | None = None
    kinds: tuple[Kind, ...] = Field(min_length=1)
    #: Where traffic goes when this channel is down, or a counterpart stays silent on it.
    fallback: Ident | None = None
    #: Link every pair of agencies with matching roles at this latency unless the scenario
    #: lists links of this channel itself.
    default_latency: PositiveDuration | None = None
    #: What an agency sitting on this channel sends its counterpart when a matter is
    #: escalated to it (e.g. the NRRC's formal inquiry is a REQUEST_INFO).
    escalation_kind: Kind | None = None
    basis: str = ""


class Answer(_Spec):
    """The recipient of the kind owes one of ``kinds`` (with ``ref`` = that message)."""

    kinds: tuple[Kind, ...] = Field(min_length=1)
    within: PositiveDuration
    #: Shorter deadline when the request is flagged urgent (REQUEST_INFO.urgent).
    urgent_within: PositiveDuration | None = None
    basis: str = ""


class FollowUp(_Spec):
    """The sender of the kind owes one of ``kinds`` on the same incident to the same party."""

    kinds: tuple[Kind, ...] = Field(min_length=1)
    within: PositiveDuration
    basis: str = ""


class OnMissed(_Spec):
    retry: Annotated[int, Field(ge=0, le=10)] = 0
    #: How long to wait for an answer to each retry; defaults to the original deadline.
    retry_within: PositiveDuration | None = None
    then: Literal["escalate", "nothing"] = "nothing"


class Rule(_Spec):
    answer: Answer | None = None
    follow_up: FollowUp | None = None
    on_missed: OnMissed = OnMissed()
    #: For PRE_NOTIFY: how long before the activity window the notice must be sent.
    min_lead: Duration | None = None
    basis: str = ""


class Raise(_Spec):
    level: Level
    kinds: tuple[Kind, ...] | None = None
    except_kinds: tuple[Kind, ...] = ()
    channels: tuple[Ident, ...] | None = None
    min_severity: Annotated[int, Field(ge=0, le=5)] | None = None
    basis: str = ""


class Lower(_Spec):
    kinds: tuple[Kind, ...] = Field(min_length=1)
    positions: tuple[Position, ...] | None = None
    channels: tuple[Ident, ...] | None = None
    #: Either go down to a level, or step down by some levels.
    to: Level | None = None
    by: Annotated[int, Field(ge=1, le=5)] | None = None
    basis: str = ""

    @model_validator(mode="after")
    def _one_of(self) -> Lower:
        if (self.to is None) == (self.by is None):
            raise ValueError("give exactly one of 'to' (a level) or 'by' (a number of steps)")
        return self


DEFAULT_LEVEL_NAMES = (
    "ROUTINE",
    "TECHNICAL CONCERN",
    "FORMAL INQUIRY",
    "CONSULTATION",
    "POLITICAL WARNING",
    "LEADER CRISIS",
)


class LadderSpec(_Spec):
    names: tuple[str, str, str, str, str, str] = DEFAULT_LEVEL_NAMES
    raise_: tuple[Raise, ...] = Field(default=(), alias="raise")
    lower: tuple[Lower, ...] = ()

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Agreement(_Spec):
    id: Ident
    title: str
    summary: str = ""
    channels: tuple[Channel, ...] = Field(min_length=1)
    rules: dict[Kind, Rule] = Field(default_factory=dict)
    ladder: LadderSpec = LadderSpec()

    @model_validator(mode="after")
    def _consistent(self) -> Agreement:
        ids = [c.id for c in self.channels]
        dupes = {c for c in ids if ids.count(c) > 1}
        if dupes:
            raise ValueError(f"channel ids must be unique: {sorted(dupes)}")
        for channel in self.channels:
            if channel.fallback is not None and channel.fallback not in ids:
                raise ValueError(f"channel {channel.id!r} falls back to unknown channel {channel.fallback!r}")
        rules: list[Raise | Lower] = [*self.ladder.raise_, *self.ladder.lower]
        for rule in rules:
            for cid in rule.channels or ():
                if cid not in ids:
                    raise ValueError(f"ladder rule names unknown channel {cid!r}")
        if not any(c.scope == "domestic" for c in self.channels):
            raise ValueError("an agreement needs a domestic channel (scope: domestic)")
        return self

    # -- lookups -------------------------------------------------------------------------

    def channel(self, channel_id: str) -> Channel | None:
        for channel in self.channels:
            if channel.id == channel_id:
                return channel
        return None

    @property
    def domestic(self) -> Channel:
        return next(c for c in self.channels if c.scope == "domestic")

    def rule(self, kind: Kind) -> Rule | None:
        return self.rules.get(kind)

    def answer_kinds(self) -> frozenset[Kind]:
        """Kinds that only make sense as an answer to an earlier message (they need ``ref``)."""
        kinds = {Kind.ACK, Kind.COMM_CHECK_REPLY, Kind.PROVIDE_INFO, Kind.ASSIST_REPLY, Kind.CONSULT_REPLY}
        for rule in self.rules.values():
            if rule.answer is not None:
                kinds.update(rule.answer.kinds)
        return frozenset(kinds)

    def answer_deadline(self, kind: Kind, *, urgent: bool) -> timedelta | None:
        rule = self.rules.get(kind)
        if rule is None or rule.answer is None:
            return None
        if urgent and rule.answer.urgent_within is not None:
            return rule.answer.urgent_within
        return rule.answer.within
