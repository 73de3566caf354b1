"""Facilitator commands (pure): building :class:`~sim.model.control.Command` payloads, keeping track
of which are still waiting for the director's :class:`~sim.model.control.CommandResult`, and
validating a live inject typed into the form before anything is sent."""

from __future__ import annotations

import typing
from dataclasses import dataclass, field
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ValidationError

from sim.core.protocol import INCIDENT_KINDS
from sim.core.roster import Roster
from sim.model.agreement import Agreement
from sim.model.compose import body_from
from sim.model.control import ClockState, Command, CommandResult
from sim.model.errors import HotlineError
from sim.model.injects import Inject, ScriptedMessage, inject_with
from sim.model.messages import Body, Kind
from sim.model.scenario import Scenario

Action = Literal["pause", "resume", "speed", "inject", "end"]


def encode_command(command: Command) -> bytes:
    return command.model_dump_json(exclude_none=True, by_alias=True).encode()


def pause_or_resume(clock: ClockState | None) -> Action:
    return "resume" if clock is not None and clock.paused else "pause"


@dataclass
class CommandBook:
    """Commands this console sent, by id, and the answers that came back."""

    client: str
    sent: dict[str, Command] = field(default_factory=dict)
    answers: dict[str, CommandResult] = field(default_factory=dict)
    _n: int = 0

    def make(self, action: Action, *, speed: float | None = None, inject: Inject | None = None) -> Command:
        self._n += 1
        command = Command(id=f"{self.client}-{self._n}", action=action, speed=speed, inject=inject)
        self.sent[command.id] = command
        return command

    def answer(self, result: CommandResult) -> Command | None:
        """Record the director's answer; the command it answers (None if not ours)."""
        command = self.sent.get(result.id)
        if command is not None:
            self.answers[result.id] = result
        return command

    def waiting(self) -> list[Command]:
        return [c for i, c in self.sent.items() if i not in self.answers]


def describe(command: Command) -> str:
    if command.action == "speed" and command.speed is not None:
        return f"speed ×{command.speed:g}"
    if command.action == "inject" and command.inject is not None:
        return f"inject {inject_label(command.inject)}"
    return command.action


def describe_result(result: CommandResult, command: Command | None) -> str:
    what = describe(command) if command is not None else result.action
    if result.accepted:
        return f"✓ {what} accepted" + (f": {result.reason}" if result.reason else "")
    return f"✗ {what} refused" + (f": {result.reason}" if result.reason else "")


def inject_label(inject: Inject) -> str:
    head = f"{inject.id} " if inject.id else ""
    what = inject.action.label()
    note = f" — {inject.note}" if inject.note else ""
    return f"{head}{what}{note}"


# -- the free scripted message of the inject form ---------------------------------------------


class InjectInvalid(HotlineError):
    """The form does not make a valid inject; ``errors`` maps a form field to its problems."""

    def __init__(self, errors: dict[str, list[str]]) -> None:
        super().__init__("; ".join(f"{k}: {m}" for k, ms in errors.items() for m in ms))
        self.errors = errors


@dataclass(frozen=True)
class FreeMessage:
    """The form's fields, as typed."""

    sender: str
    recipient: str
    kind: str
    incident: str = ""
    channel: str = ""
    severity: str = ""
    in_reply_to: str = ""
    body: str = ""
    note: str = ""


def _body_classes() -> dict[Kind, type[BaseModel]]:
    union = typing.get_args(Body)[0]
    out: dict[Kind, type[BaseModel]] = {}
    for cls in typing.get_args(union):
        default = cls.model_fields["kind"].default
        out[Kind(default)] = cls
    return out


_BODIES = _body_classes()
_DEFAULTED = {"kind", "aware_at", "received_at", "suspected_malicious", "cross_border"}


def body_template(kind: Kind) -> str:
    """A YAML skeleton with the fields the body of ``kind`` requires."""
    lines = []
    for name, info in _BODIES[kind].model_fields.items():
        if name in _DEFAULTED or not info.is_required():
            continue
        annotation = str(info.annotation)
        if "tuple" in annotation:
            lines.append(f'{name}: [""]')
        elif "bool" in annotation:
            lines.append(f"{name}: false")
        elif "Position" in annotation:
            lines.append(f"{name}: INVESTIGATING")
        elif "CheckDepth" in annotation:
            lines.append(f"{name}: 3")
        elif "ReferralReason" in annotation:
            lines.append(f"{name}: INFORM")
        elif "RejectReason" in annotation:
            lines.append(f"{name}: MALFORMED")
        elif "datetime" in annotation:
            lines.append(f"{name}: 2026-01-01T00:00:00Z")
        else:
            lines.append(f'{name}: ""')
    return "\n".join(lines)


def validate_free_message(scenario: Scenario, agreement: Agreement, form: FreeMessage) -> Inject:
    """The inject the form describes, or :class:`InjectInvalid` with every problem by field."""
    errors: dict[str, list[str]] = {}

    def bad(where: str, message: str) -> None:
        errors.setdefault(where, []).append(message)

    _check_parties(scenario, form, bad)
    kind = _kind(form.kind, bad)
    optional: dict[str, str | int | None] = {
        "incident": form.incident.strip() or None,
        "channel": form.channel.strip() or None,
        "severity": _severity(form.severity, bad),
        "in_reply_to": form.in_reply_to.strip() or None,
    }
    if kind is not None:
        _check_kind(scenario, agreement, form, kind, bad)
    body = _body(form.body, kind, bad)
    if errors:
        raise InjectInvalid(errors)
    data: dict[str, Any] = {"from": form.sender, "to": form.recipient, "kind": form.kind, "body": body}
    data.update({key: value for key, value in optional.items() if value is not None})
    try:
        message = ScriptedMessage.model_validate(data)
        return inject_with(message, note=form.note.strip() or "live inject")
    except ValidationError as exc:
        raise InjectInvalid({_field_of(err["loc"]): [err["msg"]] for err in exc.errors()}) from exc


Complain = typing.Callable[[str, str], None]


def _check_parties(scenario: Scenario, form: FreeMessage, bad: Complain) -> None:
    agencies = {a.id for a in scenario.agencies}
    for where, value in (("sender", form.sender), ("recipient", form.recipient)):
        if not value:
            bad(where, "choose an agency")
        elif value not in agencies:
            bad(where, f"unknown agency {value!r}")
    if form.sender and form.sender == form.recipient:
        bad("recipient", "an agency does not message itself")


def _kind(text: str, bad: Complain) -> Kind | None:
    try:
        return Kind(text)
    except ValueError:
        bad("kind", f"unknown kind {text!r}" if text else "choose a kind")
        return None


def _check_kind(scenario: Scenario, agreement: Agreement, form: FreeMessage, kind: Kind, bad: Complain) -> None:
    """What ``kind`` asks of the other fields: an incident, the message it answers, a route."""
    if not form.incident.strip() and kind in INCIDENT_KINDS:
        bad("incident", f"{kind.value} must name the incident it is about")
    if not form.in_reply_to.strip() and kind in agreement.answer_kinds():
        bad("in_reply_to", f"{kind.value} answers a message: choose the kind it replies to")
    _check_route(scenario, agreement, form, kind, form.channel.strip() or None, bad)


def _severity(text: str, bad: Complain) -> int | None:
    if not text.strip():
        return None
    try:
        severity = int(text)
    except ValueError:
        bad("severity", "a number from 0 to 5")
        return None
    if not 0 <= severity <= 5:
        bad("severity", "a number from 0 to 5")
    return severity


def _body(text: str, kind: Kind | None, bad: Complain) -> dict[str, Any]:
    try:
        loaded = yaml.safe_load(text) if text.strip() else {}
    except yaml.YAMLError as exc:
        bad("body", f"not YAML/JSON: {str(exc).splitlines()[0]}")
        return {}
    if not isinstance(loaded, dict):
        bad("body", "write the body as fields (key: value)")
        return {}
    body = {str(k): v for k, v in loaded.items()}
    if kind is not None:
        try:
            body_from(kind, body)
        except ValidationError as exc:
            for err in exc.errors():
                loc = ".".join(str(p) for p in err["loc"] if p != kind.value)
                bad("body", f"{loc}: {err['msg'].removeprefix('Value error, ')}")
    return body


_FORM_FIELDS = {"from": "sender", "to": "recipient", "in_reply_to": "in_reply_to"}


def _field_of(loc: tuple[Any, ...]) -> str:
    head = str(loc[0]) if loc else "body"
    return _FORM_FIELDS.get(head, head)


def _check_route(
    scenario: Scenario,
    agreement: Agreement,
    form: FreeMessage,
    kind: Kind,
    channel: str | None,
    bad: Complain,
) -> None:
    agencies = {a.id for a in scenario.agencies}
    if form.sender not in agencies or form.recipient not in agencies:
        return
    roster = Roster.build(scenario, agreement)
    if channel is None:
        if roster.route(form.sender, form.recipient, kind) is None:
            bad("channel", f"no link between {form.sender} and {form.recipient} may carry {kind.value}")
        return
    spec = agreement.channel(channel)
    if spec is None:
        bad("channel", f"protocol {agreement.id} has no channel {channel!r}")
        return
    if kind not in spec.kinds:
        bad("channel", f"{kind.value} may not travel on {channel}")
    if not roster.has_link(channel, form.sender, form.recipient):
        bad("channel", f"no {channel} link between {form.sender} and {form.recipient}")
