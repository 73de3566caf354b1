"""The agreed protocol as a pure state machine, in the style of h11.

One :class:`Engine` per agency. Events go in (a message received, a message sent, a send
refused by a down link, time advanced) and actions come out (accept or reject, obligation
opened / met / missed, retry, escalate, fall back). It never sleeps, never reads a clock and
never touches MQTT; its whole state is a :class:`Book` that serialises to JSON.

Two sides of every answer rule are tracked:

* the **owner** (the recipient) holds an :class:`Obligation`: answer by ``due_at``;
* the **waiting** side (the sender) holds an :class:`Awaiting`: if no answer has arrived by
  ``check_at`` (the deadline plus the round trip on the link), retry as often as the
  agreement says, then escalate to the channel's fallback.
"""

from __future__ import annotations

import enum
from datetime import datetime, timedelta
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from sim.model.admission import Count
from sim.model.messages import Kind

#: Ids and names in obligations (message ids, agency ids, incident ids, ``<id>#answer``).
Name = Annotated[str, Field(max_length=300)]
Names = Annotated[list[Name], Field(max_length=1000)]
Kinds = Annotated[tuple[Kind, ...], Field(max_length=32)]


class Status(enum.StrEnum):
    OPEN = "open"
    MET = "met"
    MISSED = "missed"
    CANCELLED = "cancelled"


class Obligation(BaseModel):
    """Something ``owner`` must send ``counterparty`` by ``due_at``."""

    model_config = ConfigDict(extra="forbid")

    id: Name
    rule: Literal["answer", "follow_up"]
    owner: Name
    counterparty: Name
    incident: Name | None = None
    trigger: Name
    trigger_kind: Kind
    kinds: Kinds
    channel: Name
    opened_at: datetime
    due_at: datetime
    status: Status = Status.OPEN
    closed_at: datetime | None = None
    met_by: Name | None = None
    #: Retransmissions of the trigger; an answer to any of them meets the obligation.
    aliases: Names = Field(default_factory=list)

    def answers_to(self, ref: str | None) -> bool:
        return ref is not None and (ref == self.trigger or ref in self.aliases)


class Awaiting(BaseModel):
    """The waiting side of an answer rule: ``counterparty`` owes us one of ``kinds``."""

    model_config = ConfigDict(extra="forbid")

    id: Name
    waiting: Name
    counterparty: Name
    incident: Name | None = None
    trigger: Name
    trigger_kind: Kind
    kinds: Kinds
    channel: Name
    opened_at: datetime
    within: timedelta
    #: Allowance for the message to get there and the answer to come back.
    round_trip: timedelta
    check_at: datetime
    retries: Count = 0
    status: Status = Status.OPEN
    closed_at: datetime | None = None
    met_by: Name | None = None
    sent_ids: Names = Field(default_factory=list)


class Sent(BaseModel):
    model_config = ConfigDict(extra="forbid")

    recipient: str
    kind: Kind
    incident: str | None = None
    channel: str


class Book(BaseModel):
    """Everything the engine knows; small, JSON-serialisable, reloadable after a crash."""

    model_config = ConfigDict(extra="forbid")

    obligations: dict[str, Obligation] = Field(default_factory=dict)
    expectations: dict[str, Awaiting] = Field(default_factory=dict)
    sent: dict[str, Sent] = Field(default_factory=dict)
    #: ids received, with the sender, for duplicate detection and ``ref`` checks.
    received: dict[str, str] = Field(default_factory=dict)
