"""Deterministic random streams: one per (scenario seed, purpose, agency)."""

from __future__ import annotations

import hashlib
import random


def stream(seed: int, *labels: str) -> random.Random:
    """An independent RNG for ``labels`` under ``seed``; same inputs, same sequence."""
    key = "/".join((str(seed), *labels)).encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))
