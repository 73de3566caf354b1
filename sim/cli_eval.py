"""Exercise evaluation commands: ``hotline test``, ``report``, ``compare``, ``schema``, ``msel``.

(Registered on the shared app in :mod:`sim.cli_app`.)
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from sim.cli_app import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_RUNTIME, app, die, err, load, parse_broker, say
from sim.errors import HotlineError


@app.command("test")
def run_tests(
    targets: Annotated[
        list[str] | None,
        typer.Argument(help="Scenario files, shipped scenario ids or directories (default: the shipped scenarios)."),
    ] = None,
    protocol: Annotated[
        str | None, typer.Option("--protocol", help="Run every scenario under this agreement instead.")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override each scenario's seed.")] = None,
    broker: Annotated[
        str | None, typer.Option("--broker", help="Use this broker (mqtt://HOST:PORT) instead of the embedded one.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Keep the journals in this directory (default: discard them).")
    ] = None,
) -> None:
    """Run scenarios in fast mode and check their expectations, like a test runner."""
    from sim.evaluate import ScenarioOutcome, collect, outcome_lines, run_scenarios, totals_line  # noqa: PLC0415
    from sim.scenario import shipped_scenarios  # noqa: PLC0415

    paths = collect(targets) if targets else shipped_scenarios()
    if not paths:
        die(EXIT_BAD_INPUT, f"error: no scenario files in {' '.join(targets or [])}")
    url = parse_broker(broker) if broker is not None else None

    def show(outcome: ScenarioOutcome) -> None:
        for line in outcome_lines(outcome):
            say(line)

    try:
        outcomes = asyncio.run(
            run_scenarios(paths, broker=url, out_dir=out, protocol=protocol, seed=seed, on_outcome=show)
        )
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")
    say(totals_line(outcomes))
    if any(o.bad_input for o in outcomes):
        raise typer.Exit(EXIT_BAD_INPUT)
    if not all(o.ok for o in outcomes):
        raise typer.Exit(EXIT_FAILED)


__all__ = ["err", "load"]


@app.command()
def report(
    journal: Annotated[Path, typer.Argument(help="A journal.jsonl, or the run folder that holds one.")],
    fmt: Annotated[str, typer.Option("--format", "-f", help="md (default), html or json.")] = "md",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write to this file instead of the terminal.")] = None,
) -> None:
    """The after-action report of a run, computed from its journal alone."""
    from sim.journal import JournalError  # noqa: PLC0415
    from sim.report import build, render  # noqa: PLC0415

    if fmt not in ("md", "html", "json"):
        die(EXIT_BAD_INPUT, f"error: --format {fmt!r}: use md, html or json")
    path = journal / "journal.jsonl" if journal.is_dir() else journal
    if not path.is_file():
        die(EXIT_BAD_INPUT, f"error: {path}: no such journal")
    try:
        text = render(build(path), fmt)
    except JournalError as exc:
        die(EXIT_BAD_INPUT, f"error: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        die(EXIT_BAD_INPUT, f"error: {path}: {exc}")
    if out is None:
        say(text.rstrip("\n"))
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as exc:
        die(EXIT_BAD_INPUT, f"error: {out}: {exc.strerror or exc}")
    err(f"wrote {out}")
