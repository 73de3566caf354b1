"""Where shipped scenarios and protocols live: the source tree's ``scenarios/`` when running
from a checkout (editable install), else the copy packed into the wheel (``sim/_shipped``)."""

from __future__ import annotations

from pathlib import Path

_SIM = Path(__file__).resolve().parents[1]


def shipped_dir() -> Path:
    source_tree = _SIM.parent / "scenarios"
    if (source_tree / "protocols").is_dir():
        return source_tree
    return _SIM / "_shipped"
