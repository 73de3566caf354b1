"""What the ids a scenario mentions must refer to (pure): the states, agencies and agreement an
action is checked against, and the did-you-mean wording of a reference that does not exist."""

from __future__ import annotations

import difflib
from collections.abc import Iterable
from dataclasses import dataclass

from sim.model.agreement import Agreement

#: A location inside a document: keys and list indexes from its top.
Loc = tuple[str | int, ...]
#: One cross-reference problem: where, and what is wrong.
Problem = tuple[Loc, str]


@dataclass(frozen=True)
class Known:
    """The ids of one scenario (and the agreement it runs under, when known)."""

    states: frozenset[str]
    agencies: frozenset[str]
    agreement: Agreement | None = None


def unknown(kind: str, value: str, known: Iterable[str]) -> str:
    """``unknown agency 'us-certt' (did you mean 'us-cert'?)``"""
    names = sorted(known)
    close = difflib.get_close_matches(value, names, n=1)
    hint = f"did you mean {close[0]!r}?" if close else f"known: {', '.join(names)}"
    return f"unknown {kind} {value!r} ({hint})"
