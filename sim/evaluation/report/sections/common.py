"""Small helpers the section builders share."""

from __future__ import annotations

from datetime import datetime

from sim.evaluation.outcome import ExerciseState
from sim.model.durations import format_offset
from sim.model.links import Fate
from sim.model.obligations import Obligation

#: Link fates that mean a message did not arrive.
UNDELIVERED = (Fate.LOST, Fate.REFUSED)


def when(state: ExerciseState, at: datetime) -> str:
    """``+HH:MM`` from the start of the exercise."""
    return format_offset(at - state.scenario.start)


def owed(ob: Obligation) -> str:
    """What an obligation asks for: ``ACK`` or ``PROVIDE_INFO/ASSIST_REPLY``."""
    return "/".join(k.value for k in ob.kinds)
