"""Automated agency behaviour: pure decisions from a policy and the agency's own RNG.

The :class:`Automaton` is told what happened (an incident detected, a message accepted, an
obligation opened, an expectation missed, a link that refused a message) and answers with
:class:`~sim.core.automation.drafts.Draft` messages to send at some sim time. It never sends
anything itself and never reads a clock; the node schedules the drafts and asks
:meth:`Automaton.still_wanted` when one falls due, because by then the matter may be closed.

What an automated agency does, in short (and where):

* **detects** an incident → warns its counterpart in the suspected state on its own lowest
  channel, and refers it up its domestic chain when severity ≥ its escalation threshold
  (:mod:`.detection`);
* **owes an answer** → answers in time with probability ``reliability`` (else late, or never),
  in the position its ``disposition`` dictates (:mod:`.answering`);
* **is referred a matter** → raises it on its own channel (the channel's escalation kind:
  the NRRC's formal inquiry, the leaders' consultation or — when guarded — a warning), or
  relays a message that a down link refused, or passes it further up (:mod:`.escalation`);
* **is left unanswered** after the agreed retries, or **refused by a down link** → hands the
  matter to the agency of its state that sits on the fallback channel (:mod:`.handover`);
* **is offered a walk-back position** → stands down (cooperative), maybe (guarded), or not
  (denying: a denial is taken higher) (:mod:`.answering`); a stand-down is carried to every
  side the matter was raised on (:mod:`.closing`);
* **plans an operation** another state will see (a detection with ``response``) → pre-notifies
  that state's counterpart when the agreement obliges it (with probability ``reliability``) or
  as a courtesy (``courtesy_notice``), ``after`` ahead of the window (INCSEA 1972 Art. VI)
  (:mod:`.notices`);
* **detects activity a notice announced** (a PRE_NOTIFY from the suspected state whose window
  covers it) → reads it as the announced operation: thanks the notifier (GOODWILL) and raises
  nothing. Without a notice the same activity is misread as an attack and escalates;
* **is warned about its own operation** (an early warning from the state it operates in,
  naming us, during the window) → explains at once: PROVIDE_INFO with position ROUTINE.

What the agency is and knows lives in :mod:`.knowledge`; what it writes in :mod:`.drafts`; the
:class:`Automaton` (:mod:`.automaton`) hands each event to the module of its concern.
"""

from sim.core.automation.automaton import Automaton

__all__ = ["Automaton"]
