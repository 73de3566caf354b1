"""The live-inject form: one of the scenario's injects, or a free scripted message. Nothing is
sent until :func:`tui.commands.validate_free_message` accepts the form; its complaints are
shown next to the fields."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Select, Static, TextArea

from sim.model.agreement import Agreement
from sim.model.injects import Inject
from sim.model.messages import Kind
from sim.model.scenario import Scenario
from tui.commands import FreeMessage, InjectInvalid, body_template, inject_label, validate_free_message

FREE = "free"
FORM_FIELDS = ("sender", "recipient", "kind", "incident", "channel", "severity", "in_reply_to", "body", "note")


class InjectScreen(ModalScreen[Inject | None]):
    DEFAULT_CSS = """
    InjectScreen { align: center middle; }
    InjectScreen > VerticalScroll {
        width: 96%; max-width: 110; height: 96%; border: round #ffaf00; background: #121212; padding: 0 1;
    }
    InjectScreen .row { height: auto; }
    InjectScreen .field { width: 1fr; height: auto; margin-right: 1; }
    InjectScreen Label { color: #a8a8a8; }
    InjectScreen .error { color: #ff5f5f; height: auto; }
    InjectScreen TextArea { height: 6; }
    InjectScreen #buttons { height: auto; margin-top: 1; }
    InjectScreen #free { height: auto; }
    InjectScreen #free.hidden { display: none; }
    """
    BINDINGS = [  # noqa: RUF012 - Textual's declaration style
        Binding("escape", "cancel", "Cancel"),
        Binding("ctrl+s", "send", "Send"),
    ]

    def __init__(self, scenario: Scenario, agreement: Agreement) -> None:
        super().__init__()
        self.scenario = scenario
        self.agreement = agreement

    def compose(self) -> ComposeResult:
        agencies = [(a.id, a.id) for a in self.scenario.agencies]
        options = [(inject_label(inj)[:90], str(n)) for n, inj in enumerate(self.scenario.injects)]
        kinds = [(k.value, k.value) for k in Kind]
        channels = [(c.id, c.id) for c in self.agreement.channels]
        with VerticalScroll() as box:
            box.border_title = "Live inject"
            box.border_subtitle = "ctrl+s send · esc cancel"
            yield Label("What to inject")
            yield Select([("Free scripted message", FREE), *options], value=FREE, allow_blank=False, id="choice")
            yield Static("", id="chosen")
            with Vertical(id="free"):
                with Horizontal(classes="row"):
                    yield self._field("From", Select(agencies, prompt="agency", id="sender"))
                    yield self._field("To", Select(agencies, prompt="agency", id="recipient"))
                    yield self._field("Kind", Select(kinds, prompt="kind", id="kind"))
                with Horizontal(classes="row"):
                    yield self._field("Incident", Input(placeholder="EI-1", id="incident"))
                    yield self._field("Channel (blank: route)", Select(channels, prompt="auto", id="channel"))
                    yield self._field("Severity", Input(placeholder="0-5", id="severity"))
                    yield self._field("In reply to", Select(kinds, prompt="-", id="in_reply_to"))
                yield self._field("Body (YAML or JSON fields)", TextArea("", id="body"))
                yield self._field("Note", Input(placeholder="why the facilitator injects this", id="note"))
            yield Static("", id="errors", classes="error")
            with Horizontal(id="buttons"):
                yield Button("Send", id="send", variant="primary")
                yield Button("Cancel", id="cancel")

    def on_mount(self) -> None:
        self.query_one("#choice", Select).focus()

    @staticmethod
    def _field(title: str, widget: Input | Select[str] | TextArea) -> Vertical:
        name = widget.id or ""
        return Vertical(Label(title), widget, Static("", id=f"{name}-error", classes="error"), classes="field")

    def on_select_changed(self, event: Select.Changed) -> None:
        if event.select.id == "choice":
            free = event.value == FREE
            self.query_one("#free").set_class(not free, "hidden")
            chosen = "" if free else inject_label(self.scenario.injects[int(str(event.value))])
            self.query_one("#chosen", Static).update(chosen)
        elif event.select.id == "kind" and isinstance(event.value, str):
            body = self.query_one("#body", TextArea)
            if not body.text.strip() or body.text == getattr(self, "_template", ""):
                self._template = body_template(Kind(event.value))
                body.text = self._template

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "send":
            self.action_send()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        self.dismiss(None)

    def _value(self, name: str) -> str:
        widget = self.query_one(f"#{name}")
        if isinstance(widget, Select):
            value = widget.value
            return value if isinstance(value, str) else ""
        if isinstance(widget, TextArea):
            return widget.text
        if isinstance(widget, Input):
            return widget.value
        return ""

    def form(self) -> FreeMessage:
        return FreeMessage(**{name: self._value(name) for name in FORM_FIELDS})

    def action_send(self) -> None:
        choice = self.query_one("#choice", Select).value
        if choice != FREE and isinstance(choice, str):
            self.dismiss(self.scenario.injects[int(choice)])
            return
        for name in FORM_FIELDS:
            self.query_one(f"#{name}-error", Static).update("")
        try:
            inject = validate_free_message(self.scenario, self.agreement, self.form())
        except InjectInvalid as exc:
            for name, problems in exc.errors.items():
                target = name if name in FORM_FIELDS else "body"
                self.query_one(f"#{target}-error", Static).update("\n".join(problems))
            self.query_one("#errors", Static).update(f"not sent: {len(exc.errors)} field(s) need attention")
            return
        self.dismiss(inject)
