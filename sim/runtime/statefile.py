"""A node's crash-recovery file: written atomically after every change, read at restart."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

from sim.core.nodecore import NodeState


def state_path(directory: Path, agency: str) -> Path:
    return directory / f"{agency}.state.json"


def save(path: Path, state: NodeState) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(state.model_dump_json())
        os.replace(tmp, path)  # atomic: a crash leaves the old file or the new one, never half
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def load(path: Path) -> NodeState | None:
    try:
        return NodeState.model_validate_json(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        return None  # unreadable: start fresh rather than crash (the journal still has the truth)
