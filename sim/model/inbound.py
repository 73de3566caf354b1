"""What each topic of an exercise carries, and the admission of a payload published there (pure).

Every receiver — director, node, dashboard, the journal fold behind ``hotline report`` — routes a
message by its topic (:meth:`~sim.model.topics.Topics.parse`) and admits its payload here, against
the model of that topic, before it looks at anything in it. What is not admitted raises
:class:`~sim.model.admission.Inadmissible` with a bounded description of the payload.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from pydantic import TypeAdapter

from sim.model.admission import MAX_BYTES, Inadmissible, Refusal, admit
from sim.model.control import (
    INJECT_ORDER,
    ClockState,
    Command,
    CommandResult,
    DeliveryTally,
    DirectorPresence,
    ExerciseStatus,
    JournalPointer,
    LinksState,
    Presence,
    RoundReport,
)
from sim.model.messages import Envelope, is_ident
from sim.model.observations import OBSERVATION
from sim.model.topics import Parsed

#: A final round report lists the id of every message an agency sent and received.
MAX_REPORT_BYTES: Final = 4 * 1024 * 1024


@dataclass(frozen=True)
class Carries:
    adapter: TypeAdapter[Any]
    max_bytes: int = MAX_BYTES


def _of(model: Any, max_bytes: int = MAX_BYTES) -> Carries:
    return Carries(model if isinstance(model, TypeAdapter) else TypeAdapter(model), max_bytes)


_AREAS: Final = {"msg": _of(Envelope), "obs": _of(OBSERVATION), "presence": _of(Presence)}
_CONTROL: Final = {
    "clock": _of(ClockState),
    "exercise": _of(ExerciseStatus),
    "links": _of(LinksState),
    "inject": _of(INJECT_ORDER),
    "ready": _of(RoundReport, MAX_REPORT_BYTES),
    "cmd": _of(Command),
    "result": _of(CommandResult),
    "tally": _of(DeliveryTally, MAX_REPORT_BYTES),
    "journal": _of(JournalPointer),
    "director": _of(DirectorPresence),
}
#: Control topics with one more level (the agency or client they are for).
_ADDRESSED: Final = frozenset({"inject", "ready", "cmd", "result"})


def carries(parsed: Parsed) -> Carries | None:
    """What ``parsed`` carries; None for a topic nothing of Hotline is published on (every level
    under the exercise is an identifier: an agency, a client, a control topic's name)."""
    if not all(is_ident(level) for level in parsed.parts):
        return None
    if parsed.area != "ctl":
        return _AREAS.get(parsed.area)
    name, rest = parsed.parts[0], parsed.parts[1:]
    if name not in _CONTROL or len(rest) != (1 if name in _ADDRESSED else 0):
        return None
    return _CONTROL[name]


def admit_on(parsed: Parsed, payload: bytes) -> Any:
    """The payload published on ``parsed``, admitted as the model of that topic; raises
    :class:`~sim.model.admission.Inadmissible` (an unknown topic is refused too)."""
    what = carries(parsed)
    if what is None:
        topic = "/".join((parsed.area, *parsed.parts))
        raise Inadmissible(payload, Refusal.MALFORMED, f"nothing is published on {topic[:80]!r}")
    return admit(what.adapter, payload, max_bytes=what.max_bytes)
