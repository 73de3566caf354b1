"""Structural types shared by scenario and compose without an import cycle."""

from __future__ import annotations

from typing import Any, Protocol

from sim.model.messages import Kind


class ScriptedLike(Protocol):
    @property
    def kind(self) -> Kind: ...

    @property
    def body(self) -> dict[str, Any]: ...
