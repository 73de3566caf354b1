"""``hotline msel``: the scenario's injects as an HSEEP-style Master Scenario Events List (pure).

Columns: number, time (T+ and UTC), from, to, inject, expected action, objective. Where the
author gave no ``expected:`` text, the expected action is derived from the inject and the
agreement (what the recipient owes, by when).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from sim.model.agreement import Agreement
from sim.model.durations import format_duration, format_offset
from sim.model.injects import Detect, Inject, LinkFault, PolicyChange, ScriptedMessage
from sim.model.messages import Kind
from sim.model.scenario import Scenario

COLUMNS = ("number", "time", "utc", "from", "to", "inject", "expected action", "objective")


@dataclass(frozen=True)
class MselRow:
    number: str
    time: str
    utc: str
    sender: str
    recipient: str
    inject: str
    expected: str
    objective: str

    def cells(self) -> list[str]:
        return [
            self.number,
            self.time,
            self.utc,
            self.sender,
            self.recipient,
            self.inject,
            self.expected,
            self.objective,
        ]


def _objective(scenario: Scenario, inject: Inject) -> str:
    if inject.objective is None:
        return ""
    text = next((o.text for o in scenario.objectives if o.id == inject.objective), "")
    return f"{inject.objective}: {text}" if text else inject.objective


def _cells(inject: Inject, agreement: Agreement, known: set[tuple[str, str]]) -> tuple[str, str, str, str]:
    """(from, to, inject, derived expected action) of one inject: the MSEL's wording of each action."""
    match inject.action:
        case Detect() as d:
            return "SimCell (detection)", d.agency, f"{d.incident}: {d.summary}", _detect_expected(d, agreement, known)
        case ScriptedMessage() as m:
            return (m.from_, m.to, *_message_cells(m, agreement))
        case LinkFault() as link:
            channel = agreement.channel(link.channel)
            nxt = channel.fallback if channel is not None else None
            if link.fault.value in ("down", "loss"):
                expected = "senders notice refused or unanswered messages" + (
                    f" and move traffic to {nxt}" if nxt else ""
                )
            else:
                expected = "players notice the changed channel conditions"
            return "SimCell (network)", link.ends, link.describe(), expected
        case PolicyChange() as change:
            fields = ", ".join(
                f"{k} {_plain(v)}" for k, v in change.set.model_dump(mode="json", exclude_none=True).items()
            )
            return (
                "Controller",
                change.agency,
                f"instructions change: {fields}",
                f"{change.agency} acts on its changed instructions",
            )


def _message_cells(m: ScriptedMessage, agreement: Agreement) -> tuple[str, str]:
    subject = f" on {m.incident}" if m.incident else ""
    detail = next((str(v) for k, v in m.body.items() if k in ("demand", "action", "summary", "check", "impact")), "")
    what = f"{m.kind.value}{subject}" + (f": {detail}" if detail else "")
    due = agreement.answer_deadline(m.kind, urgent=bool(m.body.get("urgent")))
    rule = agreement.rule(m.kind)
    if rule is not None and rule.answer is not None and due is not None:
        owed = "/".join(k.value for k in rule.answer.kinds)
        return what, f"{m.to} answers {owed} within {format_duration(due)}"
    return what, f"{m.to} takes note (no answer is obligatory under {agreement.id})"


def _detect_expected(d: Detect, agreement: Agreement, known: set[tuple[str, str]]) -> str:
    text = f"{d.agency} assesses {d.incident} (severity {d.severity})"
    if (d.agency, d.incident) in known:
        # New findings on an incident it already raised: an update, not a new warning.
        return text + " and sends its counterpart an INCIDENT_UPDATE with the new findings"
    known.add((d.agency, d.incident))
    if d.suspected_origin:
        due = agreement.answer_deadline(Kind.EARLY_WARNING, urgent=False)
        ack = f"; ACK due within {format_duration(due)}" if due is not None else ""
        text += f" and notifies its counterpart in {d.suspected_origin} (EARLY_WARNING{ack})"
    if d.response is not None:
        text += f"; announces its operation to {d.response.state} (PRE_NOTIFY)"
    return text


def _plain(value: object) -> str:
    """``['2h', '6h']`` → ``2h–6h``; scalars as they are."""
    if isinstance(value, list) and len(value) == 2:
        return f"{value[0]}–{value[1]}"
    return str(value)


def msel_rows(scenario: Scenario, agreement: Agreement) -> list[MselRow]:
    order = sorted(enumerate(scenario.injects), key=lambda item: (item[1].at, item[0]))
    rows = []
    known: set[tuple[str, str]] = set()
    for number, (_, inject) in enumerate(order, start=1):
        sender, recipient, what, derived = _cells(inject, agreement, known)
        if inject.note:
            what = f"{inject.note} — {what}"
        rows.append(
            MselRow(
                number=inject.id or f"{number:03d}",
                time="T" + format_offset(inject.at),
                utc=f"{scenario.start + inject.at:%Y-%m-%d %H:%M}Z",
                sender=sender,
                recipient=recipient,
                inject=what,
                expected=inject.expected or derived,
                objective=_objective(scenario, inject),
            )
        )
    return rows


def msel_csv(scenario: Scenario, agreement: Agreement) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    for row in msel_rows(scenario, agreement):
        writer.writerow(row.cells())
    return buffer.getvalue()
