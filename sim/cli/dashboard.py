"""Dashboard commands: ``hotline dashboard`` and ``hotline replay``.

(Registered on the shared app in :mod:`sim.cli.app`.)"""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.app import EXIT_BAD_INPUT, EXIT_RUNTIME, app, die, parse_broker, say, with_password
from sim.evaluation.journalfile import JournalError, read_header
from sim.model.durations import parse_offset
from sim.model.errors import HotlineError
from sim.runtime.transport import Connector


def parse_at(text: str, start: datetime, end: datetime) -> datetime:
    """``start``, ``end``, ``+HH:MM`` (after the start) or an ISO date-time."""
    word = text.strip().lower()
    if word == "start":
        return start
    if word == "end":
        return end
    if text.strip().startswith("+"):
        return start + parse_offset(text.strip())
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError as exc:
        raise ValueError(f"{text!r}: write start, end, +HH:MM or 2026-11-03T10:00Z") from exc
    if moment.tzinfo is None:
        raise ValueError(f"{text!r}: give a time zone (e.g. Z)")
    return moment


@app.command()
def replay(
    journal: Annotated[Path, typer.Argument(help="A journal (runs/<exercise>-<stamp>/journal.jsonl).")],
    speed: Annotated[
        float | None, typer.Option("--speed", help="Sim seconds per wall second (default: the run in about a minute).")
    ] = None,
    at: Annotated[
        str | None, typer.Option("--at", help="Start at (or export at) start, end, +HH:MM or an ISO time.")
    ] = None,
    export: Annotated[
        Path | None, typer.Option("--export", help="Write the dashboard as SVG to this file; no terminal needed.")
    ] = None,
    size: Annotated[str, typer.Option("--size", help="Terminal size of the export, COLSxROWS.")] = "120x40",
) -> None:
    """Replay a recorded exercise in the dashboard (space pause, . step, [ ] scrub, home/end)."""
    from tui.launch import export_svg, run_replay

    try:
        header = read_header(journal)
    except (OSError, JournalError) as exc:
        die(EXIT_BAD_INPUT, f"error: {journal}: {getattr(exc, 'strerror', None) or exc}")
    if speed is not None and speed <= 0:
        die(EXIT_BAD_INPUT, "error: --speed must be positive")
    moment = None
    if at is not None:
        try:
            moment = parse_at(at, header.scenario.start, header.scenario.end)
        except ValueError as exc:
            die(EXIT_BAD_INPUT, f"error: --at {exc}")
    try:
        if export is not None:
            cols, _, rows = size.partition("x")
            if not (cols.isdigit() and rows.isdigit()):
                die(EXIT_BAD_INPUT, f"error: --size {size!r}: write COLSxROWS, e.g. 120x40")
            export_svg(journal, export, at=moment, size=(int(cols), int(rows)))
            say(f"wrote {export}")
            return
        if not sys.stdout.isatty():
            die(EXIT_BAD_INPUT, "error: replay needs a terminal; use --export FILE.svg for a picture")
        run_replay(journal, speed=speed, at=moment)
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")


@app.command()
def dashboard(
    broker: Annotated[str, typer.Option("--broker", help="The exercise's broker, mqtt://HOST:PORT.")],
    exercise: Annotated[
        str | None, typer.Option("--exercise", help="Exercise id (topic prefix); or give --journal.")
    ] = None,
    journal: Annotated[
        Path | None,
        typer.Option("--journal", help="The exercise's journal so far: joining late, start from it."),
    ] = None,
    scenario: Annotated[
        Path | None,
        typer.Option("--scenario", help="Scenario file, when it is not shipped (default: found by the id)."),
    ] = None,
    client: Annotated[
        str, typer.Option("--client", help="Who commands (topic ctl/cmd/<client>; the ACL allows 'facilitator').")
    ] = "facilitator",
    username: Annotated[str | None, typer.Option("--username", help="MQTT user name (e.g. facilitator).")] = None,
    password_file: Annotated[
        Path | None, typer.Option("--password-file", help="File holding the MQTT password.")
    ] = None,
) -> None:
    """Watch a running exercise and steer it: space pause, + - speed, i inject, E end."""
    from tui.launch import run_live

    url = with_password(parse_broker(broker), username or (client if password_file else None), password_file)
    if exercise is None and journal is None:
        die(EXIT_BAD_INPUT, "error: give --exercise ID (or --journal FILE of the running exercise)")
    if journal is not None:
        try:
            read_header(journal)
        except (OSError, JournalError) as exc:
            die(EXIT_BAD_INPUT, f"error: {journal}: {getattr(exc, 'strerror', None) or exc}")
    if not sys.stdout.isatty():
        die(EXIT_BAD_INPUT, "error: the dashboard needs a terminal")
    try:
        run_live(Connector(url), exercise, scenario_path=scenario, journal=journal, client=client)
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")
