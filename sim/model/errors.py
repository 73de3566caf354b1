"""One small error hierarchy under :class:`HotlineError`; errors carry data as attributes."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from sim.model.messages import RejectReason


class HotlineError(Exception):
    """Base of every error Hotline raises on purpose."""


class MalformedMessage(HotlineError):
    """A payload that is not a valid envelope (bad JSON, wrong fields, unknown kind)."""

    def __init__(self, *, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class LocalProtocolError(HotlineError):
    """This agency tried to send something the agreed protocol does not allow."""

    def __init__(self, *, reason: RejectReason, detail: str) -> None:
        super().__init__(f"{reason.value}: {detail}")
        self.reason = reason
        self.detail = detail


class BrokerUnavailable(HotlineError):
    def __init__(self, url: str, detail: str) -> None:
        super().__init__(f"cannot reach MQTT broker at {url}: {detail}")
        self.url = url
        self.detail = detail
