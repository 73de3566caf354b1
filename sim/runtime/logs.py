"""structlog, configured once by the CLI: a console renderer on a TTY, JSON lines otherwise.
Everything goes to stderr so that stdout stays the product's own output."""

from __future__ import annotations

import logging
import sys

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
