"""Messages the dashboard's feeds post to the app.

Model updates post nothing: the frame timer redraws (at a bounded rate) when the model's version
has moved, so a flood of exercise traffic costs the screen nothing per message."""

from __future__ import annotations

from textual.message import Message

from sim.model.control import CommandResult


class CommandAnswered(Message):
    def __init__(self, result: CommandResult) -> None:
        super().__init__()
        self.result = result
