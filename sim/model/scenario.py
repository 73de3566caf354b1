"""The scenario format: who takes part, how they are linked, how each behaves when automated
(:mod:`sim.model.policy`), what happens when (:mod:`sim.model.injects`), and what a facilitator
should see (:mod:`sim.model.expectations`). Pure models; reading files and cross-checking ids
is :mod:`sim.scenario`'s job."""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sim.model.durations import Duration
from sim.model.expectations import Expectation
from sim.model.injects import Inject
from sim.model.messages import Ident, UtcDatetime
from sim.model.policy import Policy, PolicyPatch


class _Spec(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class State(_Spec):
    id: Ident
    name: str


class Agency(_Spec):
    id: Ident
    state: Ident
    #: cert, nrrc, leader, … — matched against the agreement's channel roles.
    role: Ident
    name: str


class Link(_Spec):
    channel: Ident
    between: tuple[Ident, Ident]
    latency: Duration

    @model_validator(mode="after")
    def _sane(self) -> Link:
        if self.latency <= timedelta(0):
            raise ValueError("latency must be positive (nothing arrives at the instant it is sent)")
        if self.between[0] == self.between[1]:
            raise ValueError("a link joins two different agencies")
        return self


class Objective(_Spec):
    id: str
    text: str


class Scenario(_Spec):
    id: Ident
    title: str
    summary: str = ""
    protocol: Ident
    seed: int = 0
    start: UtcDatetime
    duration: Duration
    states: tuple[State, ...] = Field(min_length=1)
    agencies: tuple[Agency, ...] = Field(min_length=1)
    links: tuple[Link, ...] = ()
    policies: dict[str, PolicyPatch] = Field(default_factory=dict)
    injects: tuple[Inject, ...] = ()
    objectives: tuple[Objective, ...] = ()
    expect: tuple[Expectation, ...] = ()

    @model_validator(mode="after")
    def _duration(self) -> Scenario:
        if self.duration <= timedelta(0):
            raise ValueError("duration must be positive")
        return self

    def agency(self, agency_id: str) -> Agency:
        for agency in self.agencies:
            if agency.id == agency_id:
                return agency
        raise KeyError(agency_id)

    def policy_for(self, agency_id: str) -> Policy:
        base = Policy()
        if "default" in self.policies:
            base = self.policies["default"].apply(base)
        if agency_id in self.policies:
            base = self.policies[agency_id].apply(base)
        return base

    @property
    def end(self) -> datetime:
        return self.start + self.duration

    def incidents(self) -> list[str]:
        seen: list[str] = []
        for inject in self.injects:
            incident = inject.action.subject
            if incident and incident not in seen:
                seen.append(incident)
        return seen
