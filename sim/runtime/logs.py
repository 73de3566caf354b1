"""structlog, configured once by the CLI: a console renderer on a TTY, JSON lines otherwise.
Everything goes to stderr so that stdout stays the product's own output.

Context is bound with contextvars (STYLE §10): every line a participant logs — its own, its
transport's, its protocol core's — says whose it is (``exercise``, ``agency``) and when
(``sim_time``)."""

from __future__ import annotations

import logging
import sys
from contextlib import AbstractContextManager
from datetime import datetime

import structlog


def configure(level: int = logging.WARNING, *, json: bool | None = None) -> None:
    use_json = (not sys.stderr.isatty()) if json is None else json
    processors: list[structlog.typing.Processor] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    renderer: structlog.typing.Processor = (
        structlog.processors.JSONRenderer() if use_json else structlog.dev.ConsoleRenderer(colors=True)
    )
    structlog.configure(
        processors=[*processors, structlog.processors.format_exc_info, renderer]
        if use_json
        else [*processors, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(level),
        logger_factory=structlog.PrintLoggerFactory(file=sys.stderr),
        cache_logger_on_first_use=False,
    )
    # Libraries that log through the standard library (amqtt, paho) stay quiet unless asked.
    logging.basicConfig(level=max(level, logging.WARNING), stream=sys.stderr, format="%(name)s: %(message)s")
    for name in ("amqtt", "transitions", "paho"):
        logging.getLogger(name).setLevel(max(level, logging.WARNING))


def sim_stamp(moment: datetime) -> str:
    """Sim time as log context shows it: the journal's ``t`` (``2026-11-02T12:05:00Z``), so a
    warning can be matched to the journal lines around it."""
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def bind_sim_time(now: datetime | None) -> None:
    """Bind ``sim_time`` for every log line of the current task from here on (the director and
    each node bind ``exercise`` and ``agency`` once, with :func:`participant`); unknown sim
    time (a node that has not joined yet) is left out rather than guessed."""
    if now is None:
        structlog.contextvars.unbind_contextvars("sim_time")
    else:
        structlog.contextvars.bind_contextvars(sim_time=sim_stamp(now))


def participant(exercise: str, agency: str | None = None) -> AbstractContextManager[None]:
    """Log context of one participant (the director, or the node of ``agency``) for the body of
    its ``run``: tasks started inside inherit it (reader, publisher, ticker, commands)."""
    if agency is None:
        return structlog.contextvars.bound_contextvars(exercise=exercise)
    return structlog.contextvars.bound_contextvars(exercise=exercise, agency=agency)
