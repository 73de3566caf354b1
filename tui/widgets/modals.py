"""Modal screens: the whole envelope of a message, and the yes/no question before ending an
exercise."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Static


class EnvelopeScreen(ModalScreen[None]):
    DEFAULT_CSS = """
    EnvelopeScreen { align: center middle; }
    EnvelopeScreen > VerticalScroll {
        width: 90%; max-width: 110; height: 90%; border: round #ffaf00; background: #121212; padding: 0 1;
    }
    """
    BINDINGS = [Binding("escape,enter,q", "dismiss", "Close")]  # noqa: RUF012 - Textual's declaration style

    def __init__(self, text: Text, title: str) -> None:
        super().__init__()
        self._text = text
        self._title = title

    def compose(self) -> ComposeResult:
        box = VerticalScroll(Static(self._text, id="envelope"))
        box.border_title = self._title
        box.border_subtitle = "esc to close"
        yield box


class ConfirmScreen(ModalScreen[bool]):
    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 60; height: auto; border: round #d70000; background: #121212; padding: 1 2;
    }
    ConfirmScreen Horizontal { height: auto; margin-top: 1; }
    ConfirmScreen Button { margin-right: 2; }
    """
    BINDINGS = [  # noqa: RUF012 - Textual's declaration style
        Binding("y", "answer(True)", "Yes"),
        Binding("n,escape", "answer(False)", "No"),
    ]

    def __init__(self, question: str) -> None:
        super().__init__()
        self._question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(self._question)
            with Horizontal():
                yield Button("Yes (y)", id="yes", variant="error")
                yield Button("No (n)", id="no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
