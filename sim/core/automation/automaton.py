"""The :class:`Automaton`: one automated agency, told what happened, answering with drafts.

It is the coordinator of this package: each event is handed to the module that knows the
concern (:mod:`.detection`, :mod:`.notices`, :mod:`.answering`, :mod:`.escalation`,
:mod:`.handover`, :mod:`.closing`), all of them reading and updating the agency's
:class:`~sim.core.automation.knowledge.Knowledge`. It never sends anything itself and never
reads a clock: the node schedules the drafts and, when one falls due, first calls
:meth:`Automaton.clear_pending` and then asks :meth:`Automaton.still_wanted`, because by then
the matter may be closed.
"""

from __future__ import annotations

from datetime import datetime

from sim.core.automation import answering, closing, detection, escalation, handover, notices
from sim.core.automation.drafts import Draft
from sim.core.automation.knowledge import Knowledge
from sim.core.protocol import Accepted, Action, Escalate, Fallback, ObligationChanged
from sim.model.injects import Detect
from sim.model.messages import (
    ConsultRequest,
    EarlyWarning,
    Envelope,
    Kind,
    PreNotify,
    ProvideInfo,
    Referral,
    ReferralReason,
    RequestInfo,
    StandDown,
    Warning,
)
from sim.model.obligations import Obligation, Status

#: Kinds that push a matter forward; dropped when they fall due after the incident closed.
_FORWARD = frozenset({Kind.EARLY_WARNING, Kind.REQUEST_INFO, Kind.WARNING, Kind.CONSULT_REQUEST, Kind.REFERRAL})


class Automaton(Knowledge):
    """An automated agency: its :class:`Knowledge` and the reactions that draft from it."""

    # -- what happened --------------------------------------------------------------------------

    def detect(self, inject: Detect, now: datetime) -> list[Draft]:
        return detection.detect(self, inject, now)

    def react(self, action: Action, now: datetime) -> list[Draft]:
        match action:
            case Accepted(envelope=env, repeat_of=repeat):
                return self._accepted(env, repeat, now)
            case ObligationChanged(obligation=ob, status=Status.OPEN) if ob.owner == self.me:
                return answering.owe(self, ob, now)
            case Escalate(expectation=exp, channel=channel):
                return handover.hand_over_unanswered(self, exp, channel, now)
            case Fallback(envelope=env, channel=channel):
                return handover.hand_over_refused(self, env, channel, now)
        return []

    def reroute(self, draft: Draft, now: datetime) -> list[Draft]:
        """We have no link to ``draft.to``: hand it to an agency of our state that reaches them."""
        return handover.reroute(self, draft, now)

    def note_sent(self, env: Envelope) -> list[Draft]:
        """Bookkeeping after our own message left; a foreign STAND_DOWN is passed on at home."""
        if env.incident is None:
            return []
        view = self.view(env.incident)
        if self.domestic(env.recipient):
            self.note_partner(view, env.recipient)
            return []
        if env.kind is Kind.STAND_DOWN:
            return closing.closed_abroad(self, view, env)
        return []

    # -- when a draft falls due -----------------------------------------------------------------

    def clear_pending(self, draft: Draft) -> None:
        """The draft fell due: the answer it carries is no longer scheduled (it is sent now, or
        dropped)."""
        if draft.meets is not None:
            self.pending.discard(draft.meets)

    def still_wanted(self, draft: Draft, obligations: dict[str, Obligation]) -> bool:
        """Whether a draft that fell due is still to be sent (a pure query)."""
        if draft.meets is not None:
            ob = obligations.get(draft.meets)
            # An answer owed is still sent late (better late than never); not once cancelled.
            return ob is not None and ob.status in (Status.OPEN, Status.MISSED)
        if draft.incident is not None and draft.kind in _FORWARD:
            view = self.incidents.get(draft.incident)
            return view is None or not view.closed
        return True

    # -- a message we accepted ------------------------------------------------------------------

    def _accepted(self, env: Envelope, repeat: Obligation | None, now: datetime) -> list[Draft]:
        if env.incident is not None:
            view = self.view(env.incident)
            view.severity = max(view.severity, env.severity)
            if self.domestic(env.sender):
                self.note_partner(view, env.sender)
            else:
                view.counterpart_state = self.roster.state_of(env.sender)
        if repeat is not None:
            return answering.answer_repeat(self, env, repeat, now)
        return self._read(env, now)

    def _read(self, env: Envelope, now: datetime) -> list[Draft]:
        """What a new message asks of us, by what it is and where it comes from."""
        foreign = not self.domestic(env.sender)
        match env.body:
            case Referral() as body:
                return escalation.referred(self, env, body, now)
            case PreNotify() as body if foreign:
                notices.note_notice(self, env, body)
            case EarlyWarning() as body if foreign and env.incident:
                return self._warned(env, body, now)
            case ProvideInfo() as body if foreign and env.incident:
                return answering.weigh_answer(self, env, body, now)
            case StandDown() as body if env.incident:
                return closing.stood_down(self, env, body, now)
            case Warning() | RequestInfo() | ConsultRequest() if foreign:
                return answering.answer_customarily(self, env, now)
        return []

    def _warned(self, env: Envelope, body: EarlyWarning, now: datetime) -> list[Draft]:
        """A foreign early warning: explain if it is about our operation; inform our superior
        when the matter is serious."""
        assert env.incident is not None
        view = self.view(env.incident)
        view.summary = body.summary
        view.indicators = body.indicators
        drafts = notices.explain_our_operation(self, env, body, now)
        if view.severity >= self.policy.escalation_threshold:
            at = now + self.draw(self.policy.ack_delay)
            drafts.extend(escalation.refer_up(self, view, ReferralReason.INFORM, at, note="informed"))
        return drafts
