"""How an automated agency behaves: its policy, and the patches a scenario or an inject lays
over it (pure models)."""

from __future__ import annotations

import enum
from datetime import timedelta
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field

from sim.model.durations import Duration
from sim.model.messages import CheckDepth

Probability = Annotated[float, Field(ge=0.0, le=1.0)]


def _depth_in(value: Any) -> Any:
    if isinstance(value, str) and value.upper() in CheckDepth.__members__:
        return CheckDepth[value.upper()]
    return value


#: A check depth written by name (RECEIVED, ACKNOWLEDGED, AUTHORITY) or number (1-3).
Depth = Annotated[CheckDepth, BeforeValidator(_depth_in)]


def _ordered(span: tuple[timedelta, timedelta]) -> tuple[timedelta, timedelta]:
    low, high = span
    if low < timedelta(0) or low > high:
        raise ValueError("write [shortest, longest] with shortest <= longest")
    return span


#: A delay drawn from a range, written ``[5m, 40m]``.
DelayRange = Annotated[tuple[Duration, Duration], AfterValidator(_ordered)]


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Disposition(enum.StrEnum):
    COOPERATIVE = "cooperative"
    GUARDED = "guarded"
    DENYING = "denying"


class Policy(_Spec):
    """How an automated agency behaves. Delays are ranges; each draw uses the agency's RNG."""

    #: From detecting an incident to notifying the counterpart (or the domestic chain).
    notify_delay: DelayRange = (timedelta(minutes=10), timedelta(hours=1))
    ack_delay: DelayRange = (timedelta(minutes=5), timedelta(minutes=40))
    answer_delay: DelayRange = (timedelta(hours=2), timedelta(hours=20))
    update_delay: DelayRange = (timedelta(hours=12), timedelta(hours=48))
    #: Probability of honouring each obligation within its deadline.
    reliability: Probability = 0.9
    #: Of the answers not given in time, the share given late rather than never.
    late_answers: Probability = 0.5
    disposition: Disposition = Disposition.COOPERATIVE
    #: Severity at or above which the agency takes a matter up its domestic chain.
    escalation_threshold: Annotated[int, Field(ge=0, le=6)] = 3
    #: How far a communication check addressed to this agency gets.
    check_depth: Depth = CheckDepth.AUTHORITY
    #: Probability of pre-notifying a planned operation when the agreement does not oblige it
    #: (a courtesy notice); where it is obligatory the agency notifies with ``reliability``.
    courtesy_notice: Probability = 0.2
    #: Warn every state a detection names as ``affected``, besides the suspected origin.
    warn_affected: bool = True


class PolicyPatch(_Spec):
    """Some policy fields; the rest come from ``default`` (or the built-in defaults)."""

    notify_delay: DelayRange | None = None
    ack_delay: DelayRange | None = None
    answer_delay: DelayRange | None = None
    update_delay: DelayRange | None = None
    reliability: Probability | None = None
    late_answers: Probability | None = None
    disposition: Disposition | None = None
    escalation_threshold: Annotated[int, Field(ge=0, le=6)] | None = None
    check_depth: Depth | None = None
    courtesy_notice: Probability | None = None
    warn_affected: bool | None = None

    def apply(self, base: Policy) -> Policy:
        return Policy.model_validate(base.model_dump() | self.model_dump(exclude_none=True))
