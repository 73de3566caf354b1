"""What a facilitator should see (``expect:``): checks on the folded journal, written by the
scenario's author. Each kind of check is a member of the :data:`Expectation` union,
discriminated by the key the author wrote (``max_level:``, ``notified:`` …); each member names
its spec, the incident it concerns and the agencies it refers to. The check itself lives with
the journal fold (:mod:`sim.evaluation.expect`), keyed by the member's ``kind``."""

from __future__ import annotations

from typing import Annotated, Any, ClassVar, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    TypeAdapter,
    model_validator,
)

from sim.model.agreement import LEVEL_COUNT
from sim.model.durations import Duration
from sim.model.messages import Ident, IncidentId, Kind
from sim.model.policy import Depth


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


def _two_states(between: tuple[str, str] | None) -> tuple[str, str] | None:
    if between is not None and between[0] == between[1]:
        raise ValueError("a pair is two different states")
    return between


#: Two states of an incident (``between: [de, ee]``): the ladder of that pair alone.
Between = Annotated[tuple[Ident, Ident], AfterValidator(_two_states)]


class MaxLevel(_Spec):
    incident: IncidentId
    at_most: Annotated[int, Field(ge=0, lt=LEVEL_COUNT)] | None = None
    at_least: Annotated[int, Field(ge=0, lt=LEVEL_COUNT)] | None = None
    #: The pair of states whose ladder counts; absent: the incident's (its highest pair's).
    between: Between | None = None

    @model_validator(mode="after")
    def _bound(self) -> MaxLevel:
        if self.at_most is None and self.at_least is None:
            raise ValueError("give at_most and/or at_least")
        return self


class ObligationsMet(_Spec):
    """Every obligation created by ``kind`` (optionally: owed by ``owner``, on ``incident``)
    was met within ``within`` of being opened, and there were at least ``at_least``."""

    kind: Kind
    #: ``answer``: what the recipient owes; ``follow_up``: what the sender owes afterwards.
    rule: Literal["answer", "follow_up"] = "answer"
    owner: Ident | None = None
    incident: IncidentId | None = None
    within: Duration
    at_least: Annotated[int, Field(ge=0)] = 1


class NoMessageLost(_Spec):
    channel: Ident | None = None


class Bounds(_Spec):
    at_least: Annotated[int, Field(ge=0)] | None = None
    at_most: Annotated[int, Field(ge=0)] | None = None

    @model_validator(mode="after")
    def _bound(self) -> Bounds:
        if self.at_least is None and self.at_most is None:
            raise ValueError("give at_least and/or at_most")
        if self.at_least is not None and self.at_most is not None and self.at_least > self.at_most:
            raise ValueError("at_least is more than at_most")
        return self


class FinalLevel(_Spec):
    """The level an incident is at when the exercise ends (has it been walked back?)."""

    incident: IncidentId
    at_most: Annotated[int, Field(ge=0, lt=LEVEL_COUNT)]
    #: The pair of states whose ladder counts; absent: the incident's (its highest pair's).
    between: Between | None = None


class ObligationCount(Bounds):
    """How many obligations created by ``kind`` ended with ``status`` (for ``met``: within
    ``within`` of being opened, if given): a share of non-responders is realistic."""

    kind: Kind
    rule: Literal["answer", "follow_up"] = "answer"
    status: Literal["met", "missed", "open"] = "met"
    owner: Ident | None = None
    incident: IncidentId | None = None
    within: Duration | None = None


class MessageCount(Bounds):
    """How many protocol messages matching every given field were sent (first copies)."""

    kind: Kind | None = None
    sender: Ident | None = None
    recipient: Ident | None = None
    channel: Ident | None = None
    incident: IncidentId | None = None


class CheckDepthCount(Bounds):
    """How many agencies answered a communication check at ``depth`` or deeper."""

    depth: Depth


class Notified(_Spec):
    """The incident reached another state (a notice across a border) within ``within`` of its
    detection; with ``state``: reached that state."""

    incident: IncidentId
    within: Duration
    state: Ident | None = None


Spec = (
    MaxLevel | FinalLevel | ObligationsMet | ObligationCount | MessageCount | CheckDepthCount | Notified | NoMessageLost
)


class _ExpectationBase(_Spec):
    note: str = ""
    #: The objective this expectation gives evidence for (an ``objectives[].id``).
    objective: str | None = None
    #: ``fixed``: the check holds at the scenario's own seed, and is about chance — at another
    #: seed the automated agencies may draw otherwise (a share of non-responders, a late answer).
    #: Unmarked checks must hold at any seed (the test suite runs every shipped scenario at three
    #: other seeds to keep that true).
    seeds: Literal["fixed"] | None = None

    #: The key authors write for this kind of check.
    kind: ClassVar[str]

    @property
    def spec(self) -> Spec:
        value = getattr(self, self.kind)
        assert isinstance(value, Spec)
        return value

    @property
    def incident(self) -> str | None:
        """The incident the check is about, if it names one."""
        value = getattr(self.spec, "incident", None)
        return value if isinstance(value, str) else None

    def states(self) -> list[tuple[str, str]]:
        """(field path, state id) for every state the check names."""
        refs: list[tuple[str, str]] = []
        between = getattr(self.spec, "between", None)
        if between is not None:
            refs.extend((f"between.{i}", state) for i, state in enumerate(between))
        state = getattr(self.spec, "state", None)
        if isinstance(state, str):
            refs.append(("state", state))
        return refs

    def agencies(self) -> list[tuple[str, str]]:
        """(field, agency id) for every agency the check names."""
        refs = []
        for field in ("owner", "sender", "recipient"):
            value = getattr(self.spec, field, None)
            if isinstance(value, str):
                refs.append((field, value))
        return refs


class MaxLevelExpectation(_ExpectationBase):
    kind: ClassVar[str] = "max_level"
    max_level: MaxLevel


class FinalLevelExpectation(_ExpectationBase):
    kind: ClassVar[str] = "final_level"
    final_level: FinalLevel


class ObligationsMetExpectation(_ExpectationBase):
    kind: ClassVar[str] = "obligations_met"
    obligations_met: ObligationsMet


class ObligationCountExpectation(_ExpectationBase):
    kind: ClassVar[str] = "obligation_count"
    obligation_count: ObligationCount


class MessagesExpectation(_ExpectationBase):
    kind: ClassVar[str] = "messages"
    messages: MessageCount


class CheckDepthExpectation(_ExpectationBase):
    kind: ClassVar[str] = "check_depth"
    check_depth: CheckDepthCount


class NotifiedExpectation(_ExpectationBase):
    kind: ClassVar[str] = "notified"
    notified: Notified


class NoMessageLostExpectation(_ExpectationBase):
    kind: ClassVar[str] = "no_message_lost"
    no_message_lost: NoMessageLost


MEMBERS: tuple[type[_ExpectationBase], ...] = (
    MaxLevelExpectation,
    FinalLevelExpectation,
    ObligationsMetExpectation,
    ObligationCountExpectation,
    MessagesExpectation,
    CheckDepthExpectation,
    NotifiedExpectation,
    NoMessageLostExpectation,
)
EXPECTATION_KINDS = tuple(m.kind for m in MEMBERS)


def _one_check(value: Any) -> Any:
    if isinstance(value, dict) and sum(1 for key in EXPECTATION_KINDS if key in value) != 1:
        raise ValueError("an expectation has exactly one of: " + ", ".join(EXPECTATION_KINDS))
    return value


def _check_key(value: Any) -> str | None:
    if isinstance(value, dict):
        return next((f"expect:{key}" for key in EXPECTATION_KINDS if key in value), None)
    kind = getattr(value, "kind", None)
    return f"expect:{kind}" if isinstance(kind, str) else None


#: One entry of a scenario's ``expect:`` list.
Expectation = Annotated[
    Annotated[MaxLevelExpectation, Tag("expect:max_level")]
    | Annotated[FinalLevelExpectation, Tag("expect:final_level")]
    | Annotated[ObligationsMetExpectation, Tag("expect:obligations_met")]
    | Annotated[ObligationCountExpectation, Tag("expect:obligation_count")]
    | Annotated[MessagesExpectation, Tag("expect:messages")]
    | Annotated[CheckDepthExpectation, Tag("expect:check_depth")]
    | Annotated[NotifiedExpectation, Tag("expect:notified")]
    | Annotated[NoMessageLostExpectation, Tag("expect:no_message_lost")],
    Discriminator(_check_key),
    BeforeValidator(_one_check),
]
EXPECTATION: TypeAdapter[Expectation] = TypeAdapter(Expectation)
