"""What an agency reports about itself on ``obs/<agency>``: obligations opened, met and
missed, retries and escalations, rejections, duplicates, each message's fate on its link.

The journal records these next to the messages, and the summary, the after-action report and
the dashboard are computed from both."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from sim.model.links import Fate
from sim.model.messages import Ident, Kind, RejectReason, UtcDatetime
from sim.model.obligations import Awaiting, Obligation, Status


class _Obs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: Ident
    at: UtcDatetime
    #: The agency's last message seq when this was observed, and a running number of its
    #: observations: together they put the journal of one instant in the order things happened.
    seq: int = 0
    n: int = 0


class ObligationObs(_Obs):
    event: Literal["obligation"] = "obligation"
    status: Status
    obligation: Obligation


class AwaitingObs(_Obs):
    event: Literal["expectation"] = "expectation"
    status: Status
    late: bool = False
    expectation: Awaiting


class RetryObs(_Obs):
    event: Literal["retry"] = "retry"
    expectation: str
    attempt: int
    message: str  # id of the retransmission


class EscalationObs(_Obs):
    event: Literal["escalate"] = "escalate"
    expectation: str | None = None
    original: str
    channel: str | None
    why: Literal["no_answer", "link_down", "no_route"]
    incident: str | None = None


class RejectedObs(_Obs):
    event: Literal["rejected"] = "rejected"
    reason: RejectReason
    detail: str
    offending_id: str | None = None
    topic: str
    published_as: str


class DuplicateObs(_Obs):
    event: Literal["duplicate"] = "duplicate"
    message: str
    sender: str


class LinkObs(_Obs):
    event: Literal["link"] = "link"
    fate: Fate
    message: str
    channel: str
    recipient: str
    kind: Kind
    incident: str | None = None


class ViolationObs(_Obs):
    event: Literal["violation"] = "violation"
    message: str
    rule: str
    detail: str


class BlockedObs(_Obs):
    """Our own automation or script tried to send something the agreement forbids."""

    event: Literal["blocked"] = "blocked"
    kind: Kind
    recipient: str
    reason: RejectReason
    detail: str
    incident: str | None = None


Observation = Annotated[
    ObligationObs
    | AwaitingObs
    | RetryObs
    | EscalationObs
    | RejectedObs
    | DuplicateObs
    | LinkObs
    | ViolationObs
    | BlockedObs,
    Field(discriminator="event"),
]
OBSERVATION: TypeAdapter[Observation] = TypeAdapter(Observation)


def encode_obs(obs: BaseModel) -> bytes:
    return obs.model_dump_json(exclude_none=True).encode()
