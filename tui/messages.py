"""Messages the dashboard's feeds post to the app. ``can_replace`` lets a flood of updates
collapse into one: the screen redraws from the model, not from each message."""

from __future__ import annotations

from textual.message import Message

from sim.control import CommandResult


class FeedUpdated(Message):
    """The model changed (any number of entries since the last one)."""

    def can_replace(self, message: Message) -> bool:
        return isinstance(message, FeedUpdated)


class CommandAnswered(Message):
    def __init__(self, result: CommandResult) -> None:
        super().__init__()
        self.result = result
