"""Automated agency behaviour: pure decisions from a policy and the agency's own RNG.

The :class:`Automaton` is told what happened (an incident detected, a message accepted, an
obligation opened, an expectation missed, a link that refused a message) and answers with
:class:`Draft` messages to send at some sim time. It never sends anything itself and never
reads a clock; the node schedules the drafts and asks :meth:`Automaton.still_wanted` when one
falls due, because by then the matter may be closed.

What an automated agency does, in short:

* **detects** an incident → warns its counterpart in the suspected state on its own lowest
  channel, and refers it up its domestic chain when severity ≥ its escalation threshold;
* **owes an answer** → answers in time with probability ``reliability`` (else late, or never),
  in the position its ``disposition`` dictates;
* **is referred a matter** → raises it on its own channel (the channel's escalation kind:
  the NRRC's formal inquiry, the leaders' consultation or — when guarded — a warning), or
  relays a message that a down link refused, or passes it further up;
* **is left unanswered** after the agreed retries, or **refused by a down link** → hands the
  matter to the agency of its state that sits on the fallback channel;
* **is offered a walk-back position** → stands down (cooperative), maybe (guarded), or not
  (denying: a denial is taken higher);
* **plans an operation** another state will see (a detection with ``response``) → pre-notifies
  that state's counterpart when the agreement obliges it (with probability ``reliability``) or
  as a courtesy (``courtesy_notice``), ``after`` ahead of the window (INCSEA 1972 Art. VI);
* **detects activity a notice announced** (a PRE_NOTIFY from the suspected state whose window
  covers it) → reads it as the announced operation: thanks the notifier (GOODWILL) and raises
  nothing. Without a notice the same activity is misread as an attack and escalates;
* **is warned about its own operation** (an early warning from the state it operates in,
  naming us, during the window) → explains at once: PROVIDE_INFO with position ROUTINE.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sim.core.automation.drafts import AutomatonState, Draft, IncidentView, Notice, answer_body, compose
from sim.core.protocol import Accepted, Action, Escalate, Fallback, ObligationChanged
from sim.core.roster import Roster
from sim.model.injects import Detect
from sim.model.messages import (
    WALK_BACK_POSITIONS,
    Body,
    ConsultRequest,
    EarlyWarning,
    Envelope,
    Goodwill,
    IncidentUpdate,
    Kind,
    Position,
    PreNotify,
    ProvideInfo,
    Referral,
    ReferralReason,
    RequestInfo,
    StandDown,
    Warning,
)
from sim.model.obligations import Obligation, Status
from sim.model.policy import Disposition, Policy

#: Kinds that push a matter forward; dropped when they fall due after the incident closed.
_FORWARD = frozenset({Kind.EARLY_WARNING, Kind.REQUEST_INFO, Kind.WARNING, Kind.CONSULT_REQUEST, Kind.REFERRAL})
_QUICK_ANSWERS = frozenset({Kind.ACK, Kind.COMM_CHECK_REPLY})


@dataclass
class Automaton:
    roster: Roster
    me: str
    policy: Policy
    rng: random.Random
    incidents: dict[str, IncidentView] = field(default_factory=dict)
    #: Obligations for which an answer is scheduled and not yet sent.
    pending: set[str] = field(default_factory=set)
    #: Pre-notifications received from other states.
    notices: list[Notice] = field(default_factory=list)
    #: Our own planned operations (announced or not).
    operations: list[Notice] = field(default_factory=list)

    # -- bookkeeping ----------------------------------------------------------------------------

    def state(self) -> AutomatonState:
        return AutomatonState(
            policy=self.policy,
            incidents=self.incidents,
            pending=sorted(self.pending),
            notices=self.notices,
            operations=self.operations,
        )

    def restore(self, state: AutomatonState) -> None:
        self.policy = state.policy
        self.incidents = dict(state.incidents)
        self.pending = set(state.pending)
        self.notices = list(state.notices)
        self.operations = list(state.operations)

    def _view(self, incident: str) -> IncidentView:
        if incident not in self.incidents:
            self.incidents[incident] = IncidentView(id=incident)
        return self.incidents[incident]

    def _home(self) -> str:
        return self.roster.state_of(self.me)

    def _domestic(self, agency: str) -> bool:
        return self.roster.state_of(agency) == self._home()

    def _draw(self, span: tuple[timedelta, timedelta]) -> timedelta:
        low, high = span
        seconds = self.rng.uniform(low.total_seconds(), high.total_seconds())
        return timedelta(minutes=max(1, round(seconds / 60)))  # whole minutes: fewer rounds

    def _honour(self, now: datetime, due: datetime, span: tuple[timedelta, timedelta]) -> timedelta | None:
        """Delay for an answer owed by ``due``: in time with probability ``reliability``,
        otherwise late (with probability ``late_answers``) or never."""
        reliable = self.rng.random() < self.policy.reliability
        late_draw = self.rng.random()
        delay = self._draw(span)
        window = due - now - timedelta(minutes=1)
        if reliable:
            return max(timedelta(minutes=1), min(delay, window))
        if late_draw < self.policy.late_answers:
            return max(delay, window + timedelta(minutes=1) + delay)
        return None

    # -- reactions ------------------------------------------------------------------------------

    def detect(self, inject: Detect, now: datetime) -> list[Draft]:
        known = inject.incident in self.incidents and self.incidents[inject.incident].raised_by_us
        if known:
            return self._redetect(inject, now)
        notice = self._announced(inject, now)
        if notice is not None:
            return self._recognised(inject, notice, now)
        drafts = self._plan(inject, now) if inject.response is not None else []
        return drafts + self._detected(inject, now)

    def _detected(self, inject: Detect, now: datetime) -> list[Draft]:
        view = self._view(inject.incident)
        view.severity = max(view.severity, inject.severity)
        view.summary = inject.summary
        view.indicators = inject.indicators
        view.raised_by_us = True
        view.closed = False
        origin = inject.suspected_origin
        if origin is not None and origin != self._home():
            view.counterpart_state = origin
        drafts: list[Draft] = []
        at = now + self._draw(self.policy.notify_delay)
        state = view.counterpart_state
        counterpart = self._counterpart(state) if state else None
        if counterpart is not None:
            channel, agency = counterpart
            drafts.append(self._early_warning(view, agency, channel, at, now))
        if state is not None and (counterpart is None or view.severity >= self.policy.escalation_threshold):
            reason = ReferralReason.SEVERITY if counterpart else ReferralReason.NO_ROUTE
            drafts.extend(self._refer_up(view, reason, at, note="detected"))
        return drafts

    # -- operations and their pre-notification ---------------------------------------------------

    def _plan(self, inject: Detect, now: datetime) -> list[Draft]:
        """Our response to a detection is an operation another state will see: notify it ahead
        when the agreement obliges us (or as a courtesy)."""
        op = inject.response
        assert op is not None
        rule = self.roster.agreement.rule(Kind.PRE_NOTIFY)
        mandatory = rule is not None and rule.min_lead is not None
        chance = self.policy.reliability if mandatory else self.policy.courtesy_notice
        notify = self.rng.random() < chance
        start = now + op.after
        target = self._notice_route(op.state)
        own = Notice(
            message=None,
            agency=self.me,
            channel=target[0] if target else None,
            state=op.state,
            operator_state=self._home(),
            activity=op.activity,
            incident=inject.incident,
            window_start=start,
            window_end=start + op.lasts,
        )
        self.operations.append(own)
        if not notify or target is None:
            return []
        channel, agency = target
        body = PreNotify(activity=op.activity, window_start=start, window_end=start + op.lasts, scope=op.scope or "-")
        reason = "pre-notification (obligatory)" if mandatory else "pre-notification (courtesy)"
        at = now + self._draw(self.policy.notify_delay)
        return [Draft(at, agency, Kind.PRE_NOTIFY, body, inject.incident, channel=channel, reason=reason)]

    def _notice_route(self, state: str) -> tuple[str, str] | None:
        """Our lowest-tier foreign channel towards ``state`` that carries PRE_NOTIFY."""
        for channel in self.roster.foreign_channels(self.me):
            if Kind.PRE_NOTIFY not in channel.kinds:
                continue
            agency = self.roster.counterpart(self.me, channel.id, state)
            if agency is not None:
                return channel.id, agency
        return None

    def _announced(self, inject: Detect, now: datetime) -> Notice | None:
        origin = inject.suspected_origin
        if origin is None:
            return None
        for notice in self.notices:
            if notice.operator_state == origin and notice.state == self._home() and notice.covers(now):
                return notice
        return None

    def _recognised(self, inject: Detect, notice: Notice, now: datetime) -> list[Draft]:
        """The activity is the one a notice announced: no alarm, a word of thanks."""
        view = self._view(inject.incident)
        view.severity = max(view.severity, inject.severity)
        view.summary = inject.summary
        view.counterpart_state = notice.operator_state
        view.closed = True
        if notice.channel is None:
            return []
        text = (
            f"{inject.summary} — consistent with your notice {notice.message} ({notice.activity}); "
            "read as the announced operation, no action needed."
        )
        at = now + self._draw(self.policy.ack_delay)
        return [
            Draft(
                at,
                notice.agency,
                Kind.GOODWILL,
                Goodwill(text=text[:2000]),
                inject.incident,
                channel=notice.channel,
                reason="announced activity recognised",
            )
        ]

    def _noted(self, env: Envelope, body: PreNotify) -> None:
        self.notices.append(
            Notice(
                message=env.id,
                agency=env.sender,
                channel=env.channel,
                state=self._home(),
                operator_state=self.roster.state_of(env.sender),
                activity=body.activity,
                incident=env.incident,
                window_start=body.window_start,
                window_end=body.window_end,
            )
        )

    def _explain(self, env: Envelope, body: EarlyWarning, now: datetime) -> list[Draft]:
        """An early warning from the state we operate in, naming us, during our operation:
        it is about our operation. Say so at once (position ROUTINE)."""
        sender_state = self.roster.state_of(env.sender)
        if body.suspected_origin not in (None, self._home()):
            return []
        for op in self.operations:
            if op.state != sender_state or not op.covers(now):
                continue
            info = ProvideInfo(
                position=Position.ROUTINE,
                answers=(
                    f"The activity you report is our {op.activity}, "
                    f"{op.window_start:%Y-%m-%d %H:%M}–{op.window_end:%H:%M} UTC; it is not directed against you.",
                ),
            )
            at = now + self._draw(self.policy.ack_delay)
            return [
                Draft(
                    at,
                    env.sender,
                    Kind.PROVIDE_INFO,
                    info,
                    env.incident,
                    ref=env.id,
                    severity=env.severity,
                    channel=env.channel,
                    reason="explain our own operation",
                )
            ]
        return []

    def _redetect(self, inject: Detect, now: datetime) -> list[Draft]:
        """New findings on an incident we already raised: update the counterpart, and take it
        up the domestic chain if it now crosses our threshold."""
        view = self.incidents[inject.incident]
        crossed = view.severity < self.policy.escalation_threshold <= inject.severity
        view.severity = max(view.severity, inject.severity)
        view.indicators = tuple(dict.fromkeys((*view.indicators, *inject.indicators)))
        view.summary = inject.summary or view.summary
        view.closed = False
        at = now + self._draw(self.policy.notify_delay)
        drafts: list[Draft] = []
        counterpart = self._counterpart(view.counterpart_state)
        if counterpart is not None:
            channel, agency = counterpart
            body = IncidentUpdate(severity=view.severity, impact=inject.summary, indicators=inject.indicators)
            drafts.append(
                Draft(
                    at,
                    agency,
                    Kind.INCIDENT_UPDATE,
                    body,
                    view.id,
                    severity=view.severity,
                    channel=channel,
                    reason="new findings",
                )
            )
        if crossed:
            drafts.extend(self._refer_up(view, ReferralReason.SEVERITY, at, note="severity rose"))
        return drafts

    def react(self, action: Action, now: datetime) -> list[Draft]:
        match action:
            case Accepted(envelope=env, repeat_of=repeat):
                return self._accepted(env, repeat, now)
            case ObligationChanged(obligation=ob, status=Status.OPEN) if ob.owner == self.me:
                return self._owe(ob, now)
            case Escalate(expectation=exp, channel=channel):
                if exp.incident is None or channel is None:
                    return []
                view = self._view(exp.incident)
                state = self.roster.state_of(exp.counterparty)
                view.counterpart_state = view.counterpart_state or state
                return self._hand_over(view, channel, ReferralReason.NO_ANSWER, None, now, exp.trigger)
            case Fallback(envelope=env, channel=channel):
                if env.incident is None or channel is None or env.kind in _QUICK_ANSWERS:
                    return []
                view = self._view(env.incident)
                state = self.roster.state_of(env.recipient)
                view.counterpart_state = view.counterpart_state or state
                return self._hand_over(view, channel, ReferralReason.LINK_DOWN, env.body, now, env.id)
        return []

    def reroute(self, draft: Draft, now: datetime) -> list[Draft]:
        """We have no link to ``draft.to`` under this agreement: hand the message to the agency of
        our state that reaches the recipient's state on the lowest-tier channel."""
        if draft.incident is None or self._domestic(draft.to):
            return []
        state = self.roster.state_of(draft.to)
        view = self._view(draft.incident)
        view.counterpart_state = view.counterpart_state or state
        for channel in sorted(self.roster.agreement.channels, key=lambda c: (c.tier, c.id)):
            if channel.scope != "bilateral":
                continue
            relay = self.roster.relay_for(self.me, channel.id, state)
            if relay is not None and relay != self.me:
                referral = Referral(
                    reason=ReferralReason.NO_ROUTE,
                    counterpart_state=state,
                    relay_kind=draft.kind,
                    relay_body=draft.body,
                    summary=view.summary or draft.reason,
                )
                return [
                    Draft(
                        now + timedelta(minutes=1),
                        relay,
                        Kind.REFERRAL,
                        referral,
                        draft.incident,
                        severity=draft.severity,
                        channel=self.roster.agreement.domestic.id,
                        reason=f"no direct link: relay {draft.kind.value} via {relay}",
                    )
                ]
        return []

    def note_sent(self, env: Envelope) -> list[Draft]:
        """Bookkeeping after our own message left; a foreign STAND_DOWN is passed on at home."""
        if env.incident is None:
            return []
        view = self._view(env.incident)
        if self._domestic(env.recipient):
            if env.recipient not in view.partners:
                view.partners.append(env.recipient)
            return []
        if env.kind is Kind.STAND_DOWN:
            view.closed = True
            if env.channel not in view.closed_on:
                view.closed_on.append(env.channel)  # closed here: a domestic echo must not repeat it
            return [
                Draft(
                    env.sent_at,
                    partner,
                    Kind.STAND_DOWN,
                    env.body,
                    env.incident,
                    severity=env.severity,
                    channel=self.roster.agreement.domestic.id,
                    reason="tell the domestic chain the matter is closed",
                )
                for partner in view.partners
            ]
        return []

    def still_wanted(self, draft: Draft, obligations: dict[str, Obligation]) -> bool:
        if draft.meets is not None:
            self.pending.discard(draft.meets)
            ob = obligations.get(draft.meets)
            # An answer owed is still sent late (better late than never); not once cancelled.
            return ob is not None and ob.status in (Status.OPEN, Status.MISSED)
        if draft.incident is not None and draft.kind in _FORWARD:
            return not self._view(draft.incident).closed
        return True

    # -- details --------------------------------------------------------------------------------

    def _accepted(self, env: Envelope, repeat: Obligation | None, now: datetime) -> list[Draft]:
        drafts: list[Draft] = []
        if env.incident is not None:
            view = self._view(env.incident)
            view.severity = max(view.severity, env.severity)
            if self._domestic(env.sender):
                if env.sender not in view.partners:
                    view.partners.append(env.sender)
            else:
                view.counterpart_state = self.roster.state_of(env.sender)
        if repeat is not None:
            if repeat.status is Status.MET:
                # They repeat something we answered: our answer was lost. Answer again.
                drafts.extend(self._answer(repeat, env, now, now + self._draw(self.policy.ack_delay)))
            elif (
                repeat.status is Status.MISSED
                and repeat.id not in self.pending
                and self.rng.random() < self.policy.reliability
            ):
                # A reminder of something we let slip: a second chance to answer, late.
                drafts.extend(self._answer(repeat, env, now, now + self._draw(self._span(repeat))))
            return drafts
        body = env.body
        if isinstance(body, Referral):
            drafts.extend(self._referred(env, body, now))
        elif isinstance(body, PreNotify) and not self._domestic(env.sender):
            self._noted(env, body)
        elif isinstance(body, EarlyWarning) and env.incident and not self._domestic(env.sender):
            view = self._view(env.incident)
            view.summary = body.summary
            view.indicators = body.indicators
            drafts.extend(self._explain(env, body, now))
            if view.severity >= self.policy.escalation_threshold:
                drafts.extend(
                    self._refer_up(
                        view, ReferralReason.INFORM, now + self._draw(self.policy.ack_delay), note="informed"
                    )
                )
        elif isinstance(body, ProvideInfo) and env.incident and not self._domestic(env.sender):
            drafts.extend(self._weigh_answer(env, body, now))
        elif isinstance(body, StandDown) and env.incident:
            view = self._view(env.incident)
            view.closed = True
            if self._domestic(env.sender):
                drafts.extend(self._close_abroad(view, body, now))
        elif isinstance(body, Warning | RequestInfo | ConsultRequest) and not self._domestic(env.sender):
            drafts.extend(self._customary_answer(env, now))
        return drafts

    def _owe(self, ob: Obligation, now: datetime) -> list[Draft]:
        if ob.rule == "follow_up":
            delay = self._honour(now, ob.due_at, self.policy.update_delay)
            if delay is None or ob.incident is None:
                return []
            view = self._view(ob.incident)
            final = ob.trigger_kind is Kind.STAND_DOWN
            body = IncidentUpdate(
                severity=view.severity,
                impact=(
                    f"Final report on {ob.incident}: root cause and lessons."
                    if final
                    else f"Assessment of {ob.incident} continues; scope and impact updated."
                ),
                indicators=view.indicators,
                final=final,
            )
            self.pending.add(ob.id)
            return [
                Draft(
                    now + delay,
                    ob.counterparty,
                    Kind.INCIDENT_UPDATE,
                    body,
                    ob.incident,
                    severity=view.severity,
                    reason="follow-up owed",
                    meets=ob.id,
                )
            ]
        delay = self._honour(now, ob.due_at, self._span(ob))
        if delay is None:
            return []
        return self._answer(ob, None, now, now + delay)

    def _span(self, ob: Obligation) -> tuple[timedelta, timedelta]:
        return self.policy.ack_delay if set(ob.kinds) <= _QUICK_ANSWERS else self.policy.answer_delay

    def _answer(self, ob: Obligation, repeat: Envelope | None, now: datetime, at: datetime) -> list[Draft]:
        kind = ob.kinds[0]
        ref = repeat.id if repeat is not None else ob.trigger
        severity = self._view(ob.incident).severity if ob.incident else 0
        body = answer_body(kind, ob.trigger_kind, self.policy, now, at)
        again = repeat is not None and ob.status is Status.MET
        if not again:
            self.pending.add(ob.id)
        return [
            Draft(
                at,
                ob.counterparty,
                kind,
                body,
                ob.incident,
                ref=ref,
                severity=severity,
                channel=ob.channel,
                reason=f"answer {ob.trigger_kind.value}" + (" again (ours was lost)" if again else ""),
                # A repeated answer is for an obligation already met: it must not be dropped as done.
                meets=None if again else ob.id,
            )
        ]

    def _customary_answer(self, env: Envelope, now: datetime) -> list[Draft]:
        """No agreed obligation, but states answer notes anyway — when they choose to."""
        if self.roster.agreement.rule(env.kind) is not None:
            return []  # the obligation path answers it
        kind = Kind.CONSULT_REPLY if env.kind is Kind.CONSULT_REQUEST else Kind.PROVIDE_INFO
        if self.rng.random() >= self.policy.reliability:
            return []
        if self.roster.route(self.me, env.sender, kind) is None:
            return []
        at = now + self._draw(self.policy.answer_delay)
        body = answer_body(kind, env.kind, self.policy, now, at)
        return [
            Draft(
                at,
                env.sender,
                kind,
                body,
                env.incident,
                ref=env.id,
                severity=env.severity,
                reason=f"customary answer to {env.kind.value}",
            )
        ]

    def _weigh_answer(self, env: Envelope, body: ProvideInfo, now: datetime) -> list[Draft]:
        assert env.incident is not None
        view = self._view(env.incident)
        if body.position in WALK_BACK_POSITIONS:
            accept = {
                Disposition.COOPERATIVE: True,
                Disposition.GUARDED: self.rng.random() < 0.5,
                Disposition.DENYING: False,
            }[self.policy.disposition]
            if accept and (view.raised_by_us or self._involved(view)):
                at = now + self._draw(self.policy.answer_delay)
                stand_down = StandDown(
                    root_cause=f"{env.sender} states: {body.position.value.replace('_', ' ').lower()}",
                    closure="Explanation accepted; no further action on this channel.",
                )
                return [
                    Draft(
                        at,
                        env.sender,
                        Kind.STAND_DOWN,
                        stand_down,
                        env.incident,
                        severity=view.severity,
                        channel=env.channel,
                        reason="walk-back accepted",
                    )
                ]
        if body.position is Position.DENY and view.severity >= self.policy.escalation_threshold:
            return self._refer_up(view, ReferralReason.DENIAL, now + self._draw(self.policy.ack_delay), note="denied")
        return []

    def _close_abroad(self, view: IncidentView, body: StandDown, now: datetime) -> list[Draft]:
        """Our chain closed the matter: close it with the counterparts we warned ourselves, so
        that nothing we still owe them (an update) re-opens it on our channel."""
        state = view.counterpart_state
        if state is None:
            return []
        drafts = []
        for channel in view.escalated:
            if channel.startswith("up:") or channel in view.closed_on:
                continue
            agency = self.roster.counterpart(self.me, channel, state)
            if agency is None or Kind.STAND_DOWN not in self.roster.channel(channel).kinds:
                continue
            view.closed_on.append(channel)
            drafts.append(
                Draft(
                    now + timedelta(minutes=1),
                    agency,
                    Kind.STAND_DOWN,
                    body,
                    view.id,
                    severity=view.severity,
                    channel=channel,
                    reason="our chain stood down: close it on our channel too",
                )
            )
        return drafts

    def _involved(self, view: IncidentView) -> bool:
        return any(not e.startswith("up:") for e in view.escalated)

    def _referred(self, env: Envelope, body: Referral, now: datetime) -> list[Draft]:
        assert env.incident is not None
        view = self._view(env.incident)
        if body.summary and not view.summary:
            view.summary = body.summary
        if body.counterpart_state:
            view.counterpart_state = body.counterpart_state
        if body.reason is ReferralReason.INFORM or view.counterpart_state is None:
            return []
        at = now + self._draw(self.policy.ack_delay)
        counterpart = self._counterpart(view.counterpart_state)
        relaying = body.reason in (ReferralReason.LINK_DOWN, ReferralReason.NO_ROUTE)
        if relaying and body.relay_kind is not None and counterpart:
            channel, agency = counterpart
            # Each refused message is relayed once per channel (a repeat of the same referral is
            # not); later refused messages on the same incident are relayed too.
            key = f"{channel}:{body.original}" if body.original else channel
            if key in view.relayed:
                return []
            view.relayed.append(key)
            allowed = self.roster.channel(channel).kinds
            reason = f"relay for {env.sender} ({body.reason.value.lower().replace('_', ' ')})"
            if body.relay_body is not None and body.relay_body.kind in allowed:
                return [
                    Draft(
                        at,
                        agency,
                        body.relay_body.kind,
                        body.relay_body,
                        view.id,
                        severity=env.severity,
                        channel=channel,
                        reason=reason,
                    )
                ]
            kind = body.relay_kind if body.relay_kind in allowed else None
            kind = kind or self.roster.channel(channel).escalation_kind
            if kind is None:
                return []
            return [compose(view, kind, agency, channel, at, now, reason=reason)]
        if counterpart is None:
            # We have no channel towards them: the matter goes further up, as it came.
            return self._refer_up(view, body.reason, at, note="passed up", relay=body.relay_kind)
        drafts: list[Draft] = []
        channel, agency = counterpart
        if channel not in view.escalated:
            view.escalated.append(channel)
            kind = self._escalation_kind(channel)
            if kind is not None:
                drafts.append(
                    compose(
                        view,
                        kind,
                        agency,
                        channel,
                        at,
                        now,
                        reason=f"{body.reason.value.lower()} referred by {env.sender}",
                    )
                )
        if body.reason in (ReferralReason.SEVERITY, ReferralReason.DENIAL) and (
            view.severity >= self.policy.escalation_threshold
        ):
            drafts.extend(self._refer_up(view, body.reason, at, note="passed up"))
        return drafts

    def _escalation_kind(self, channel: str) -> Kind | None:
        kind = self.roster.channel(channel).escalation_kind
        if kind is Kind.CONSULT_REQUEST and self.policy.disposition is not Disposition.COOPERATIVE:
            allowed = self.roster.channel(channel).kinds
            return Kind.WARNING if Kind.WARNING in allowed else kind
        return kind

    def _hand_over(
        self,
        view: IncidentView,
        channel: str,
        reason: ReferralReason,
        relay: Body | None,
        now: datetime,
        original: str,
    ) -> list[Draft]:
        """Give a matter to the agency of our state that sits on ``channel``."""
        state = view.counterpart_state
        if state is None:
            return []
        at = now + timedelta(minutes=1)
        mine = self.roster.counterpart(self.me, channel, state)
        if mine is not None:
            if channel in view.escalated:
                return []
            view.escalated.append(channel)
            if relay is not None and relay.kind in self.roster.channel(channel).kinds:
                return [
                    Draft(
                        at,
                        mine,
                        relay.kind,
                        relay,
                        view.id,
                        severity=view.severity,
                        channel=channel,
                        reason=reason.value.lower(),
                    )
                ]
            kind = self._escalation_kind(channel)
            return [compose(view, kind, mine, channel, at, now, reason=reason.value.lower())] if kind else []
        relay_agency = self.roster.relay_for(self.me, channel, state) or self.roster.superior(self.me)
        if relay_agency is None:
            return []
        referral = Referral(
            reason=reason,
            counterpart_state=state,
            original=original,
            relay_kind=relay.kind if relay else None,
            relay_body=relay,
            summary=view.summary,
        )
        return [
            Draft(
                at,
                relay_agency,
                Kind.REFERRAL,
                referral,
                view.id,
                severity=view.severity,
                channel=self.roster.agreement.domestic.id,
                reason=f"hand over to {channel}",
            )
        ]

    def _refer_up(
        self, view: IncidentView, reason: ReferralReason, at: datetime, note: str, relay: Kind | None = None
    ) -> list[Draft]:
        superior = self.roster.superior(self.me)
        if superior is None or f"up:{reason.value}" in view.escalated:
            return []
        view.escalated.append(f"up:{reason.value}")
        referral = Referral(
            reason=reason, counterpart_state=view.counterpart_state, relay_kind=relay, summary=view.summary
        )
        return [
            Draft(
                at,
                superior,
                Kind.REFERRAL,
                referral,
                view.id,
                severity=view.severity,
                channel=self.roster.agreement.domestic.id,
                reason=f"refer up ({note})",
            )
        ]

    def _counterpart(self, state: str | None) -> tuple[str, str] | None:
        """Our lowest-tier foreign channel towards ``state`` and the agency at its far end."""
        if state is None:
            return None
        for channel in self.roster.foreign_channels(self.me):
            agency = self.roster.counterpart(self.me, channel.id, state)
            if agency is not None:
                return channel.id, agency
        return None

    def _early_warning(self, view: IncidentView, agency: str, channel: str, at: datetime, now: datetime) -> Draft:
        view.escalated.append(channel)
        return compose(view, Kind.EARLY_WARNING, agency, channel, at, now, reason="detected")
