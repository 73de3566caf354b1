"""The message log's filter (pure): ``EI-1 us-cert``, ``kind:ACK``, ``agency:ru-nrrc fate:overdue``.

Every term must match (AND). A bare term matches the start of the incident, either agency, the
kind or the channel (case-insensitive); ``field:value`` matches that field only."""

from __future__ import annotations

from dataclasses import dataclass

from sim.model.errors import HotlineError
from sim.model.messages import Envelope

FIELDS = ("incident", "agency", "from", "to", "kind", "channel", "fate")


class FilterError(HotlineError):
    def __init__(self, term: str, field: str) -> None:
        super().__init__(f"unknown field {field!r} in {term!r} (use {', '.join(FIELDS)})")
        self.term = term
        self.field = field


@dataclass(frozen=True)
class LogFilter:
    terms: tuple[tuple[str | None, str], ...] = ()

    @classmethod
    def parse(cls, text: str) -> LogFilter:
        terms: list[tuple[str | None, str]] = []
        for word in text.split():
            field, sep, value = word.partition(":")
            if not sep:
                terms.append((None, word.lower()))
                continue
            if field.lower() not in FIELDS:
                raise FilterError(word, field)
            if value:
                terms.append((field.lower(), value.lower()))
        return cls(tuple(terms))

    def __bool__(self) -> bool:
        return bool(self.terms)

    def __str__(self) -> str:
        return " ".join(value if field is None else f"{field}:{value}" for field, value in self.terms)

    def matches(self, env: Envelope, fate: str) -> bool:
        return all(_term(field, value, env, fate) for field, value in self.terms)


def _term(field: str | None, value: str, env: Envelope, fate: str) -> bool:
    def starts(text: str | None) -> bool:
        return text is not None and text.lower().startswith(value)

    match field:
        case None:
            return any(starts(x) for x in (env.incident, env.sender, env.recipient, env.kind.value, env.channel))
        case "incident":
            return starts(env.incident)
        case "agency":
            return starts(env.sender) or starts(env.recipient)
        case "from":
            return starts(env.sender)
        case "to":
            return starts(env.recipient)
        case "kind":
            return starts(env.kind.value)
        case "channel":
            return starts(env.channel)
        case _:
            return starts(fate)
