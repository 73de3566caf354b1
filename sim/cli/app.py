"""The ``hotline`` Typer app and what every command module shares.

Exit codes: 0 all expectations hold, 1 an expectation failed, 2 bad input (scenario,
protocol, options), 3 the exercise could not run (broker unreachable, a participant stalled).
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer

from sim.model.errors import HotlineError
from sim.runtime import logs
from sim.runtime.transport import BrokerUrl
from sim.scenario.errors import InputFileError, NotFound
from sim.scenario.load import LoadedScenario, find_scenario, load_scenario

if TYPE_CHECKING:
    from sim.evaluation.report import Report

app = typer.Typer(
    name="hotline",
    help="Cyber-incident hotline and CERT communication simulator for tabletop exercises.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

EXIT_FAILED, EXIT_BAD_INPUT, EXIT_RUNTIME = 1, 2, 3


def say(text: str = "") -> None:
    typer.echo(text)


def err(text: str) -> None:
    typer.echo(text, err=True)


def die(code: int, message: str) -> NoReturn:
    err(message)
    raise typer.Exit(code)


def load(name: str, protocol: str | None = None) -> LoadedScenario:
    try:
        return load_scenario(find_scenario(name), protocol)
    except InputFileError as exc:
        die(EXIT_BAD_INPUT, "\n".join(f"error: {e}" for e in exc.errors))
    except NotFound as exc:
        die(EXIT_BAD_INPUT, f"error: {exc}")


@app.callback()
def _main(
    verbose: Annotated[
        int, typer.Option("--verbose", "-v", count=True, help="More log output (-v info, -vv debug).")
    ] = 0,
    log_json: Annotated[bool, typer.Option("--log-json", help="Log as JSON lines even on a terminal.")] = False,
) -> None:
    level = {0: logging.WARNING, 1: logging.INFO}.get(verbose, logging.DEBUG)
    logs.configure(level, json=True if log_json else None)


def parse_broker(url: str) -> BrokerUrl:
    try:
        return BrokerUrl.parse(url)
    except HotlineError as exc:
        die(EXIT_BAD_INPUT, f"error: {exc}")


def with_password(url: BrokerUrl, username: str | None, password_file: Path | None) -> BrokerUrl:
    """``url`` with the user name and the password read from ``password_file`` (never given on
    the command line); unchanged without a password file."""
    if password_file is None:
        return url.with_credentials(username, None)
    try:
        password = password_file.read_text().strip()
    except OSError as exc:
        die(EXIT_BAD_INPUT, f"error: cannot read password file {password_file}: {exc.strerror}")
    return url.with_credentials(username, password)


def emit(text: str, out: Path | None) -> None:
    """A command's document: to stdout, or to ``out`` (then a note on stderr)."""
    if out is None:
        say(text.rstrip("\n"))
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        die(EXIT_BAD_INPUT, f"error: {out}: {exc.strerror or exc}")
    err(f"wrote {out}")


def report_of(journal: Path) -> Report:
    """Read a journal and build its after-action report (raises JournalError on a damaged file)."""
    from sim.evaluation.journalfile import read_entries, read_header
    from sim.evaluation.outcome import fold
    from sim.evaluation.report import build

    header = read_header(journal)
    state, events = fold(header, read_entries(journal))
    return build(header, state, events)
