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

from sim.core.protocol.actions import (
    Accepted,
    Action,
    AwaitingChanged,
    Duplicate,
    Escalate,
    Fallback,
    ObligationChanged,
    Rejected,
    Retry,
    Violation,
)
from sim.core.protocol.engine import INCIDENT_KINDS, Engine

__all__ = [
    "INCIDENT_KINDS",
    "Accepted",
    "Action",
    "AwaitingChanged",
    "Duplicate",
    "Engine",
    "Escalate",
    "Fallback",
    "ObligationChanged",
    "Rejected",
    "Retry",
    "Violation",
]
