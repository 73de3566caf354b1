"""Where shipped scenarios and protocols live: the source tree's ``scenarios/`` when running
from a checkout (editable install), else the copy packed into the wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def shipped_dir() -> Path:
    source_tree = _PACKAGE.parent / "scenarios"
    if (source_tree / "protocols").is_dir():
        return source_tree
    return _PACKAGE / "_shipped"
