"""What an agency reports about itself on ``obs/<agency>``: obligations opened, met and
missed, retries and escalations, rejections, duplicates, each message's fate on its link.

The journal records these next to the messages, and the summary, the after-action report and
the dashboard are computed from both."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from sim.model.admission import Count
from sim.model.links import Fate
from sim.model.messages import Ident, Kind, MessageId, RejectReason, UtcDatetime
from sim.model.obligations import Awaiting, Obligation, Status

Detail = Annotated[str, Field(max_length=1000)]


class _Obs(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    agency: Ident
    at: UtcDatetime
    #: The agency's last message seq when this was observed, and a running number of its
    #: observations: together they put the journal of one instant in the order things happened.
    seq: Count = 0
    n: Count = 0


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
    expectation: Detail
    attempt: Count
    message: MessageId  # id of the retransmission


class EscalationObs(_Obs):
    event: Literal["escalate"] = "escalate"
    expectation: Detail | None = None
    original: Detail
    channel: Ident | None
    why: Literal["no_answer", "link_down", "no_route"]
    incident: Detail | None = None


class RejectedObs(_Obs):
    event: Literal["rejected"] = "rejected"
    reason: RejectReason
    detail: Detail
    offending_id: MessageId | None = None
    topic: Annotated[str, Field(max_length=400)]
    published_as: Annotated[str, Field(max_length=100)]
    #: Rejections of the same sender's input not observed one by one since the last one that
    #: was (a flood is observed at a bounded rate; the counts add up).
    suppressed: Count = 0


class DuplicateObs(_Obs):
    event: Literal["duplicate"] = "duplicate"
    message: MessageId
    sender: Ident


class LinkObs(_Obs):
    event: Literal["link"] = "link"
    fate: Fate
    message: MessageId
    channel: Ident
    recipient: Ident
    kind: Kind
    incident: Detail | None = None


class ViolationObs(_Obs):
    event: Literal["violation"] = "violation"
    message: MessageId
    rule: Detail
    detail: Detail


class BlockedObs(_Obs):
    """Our own automation or script tried to send something the agreement forbids."""

    event: Literal["blocked"] = "blocked"
    kind: Kind
    recipient: Ident
    reason: RejectReason
    detail: Detail
    incident: Detail | None = None


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
