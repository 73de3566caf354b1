"""Exercise evaluation commands: ``hotline test``, ``report``, ``compare``, ``schema``, ``msel``.

(Registered on the shared app in :mod:`sim.cli.app`.)
"""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path
from typing import Annotated

import typer

from sim.cli.app import (
    EXIT_BAD_INPUT,
    EXIT_FAILED,
    EXIT_RUNTIME,
    app,
    die,
    emit,
    err,
    load,
    parse_broker,
    report_of,
    say,
)
from sim.model.errors import HotlineError


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
    from sim.evaluation.suite import ScenarioOutcome, outcome_lines, totals_line
    from sim.runtime.batch import collect, run_scenarios
    from sim.scenario.load import shipped_scenarios

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
    from sim.evaluation.journalfile import JournalError
    from sim.evaluation.report import render

    if fmt not in ("md", "html", "json"):
        die(EXIT_BAD_INPUT, f"error: --format {fmt!r}: use md, html or json")
    path = journal / "journal.jsonl" if journal.is_dir() else journal
    if not path.is_file():
        die(EXIT_BAD_INPUT, f"error: {path}: no such journal")
    try:
        text = render(report_of(path), fmt)
    except JournalError as exc:
        die(EXIT_BAD_INPUT, f"error: {exc}")
    except (OSError, UnicodeDecodeError) as exc:
        die(EXIT_BAD_INPUT, f"error: {path}: {exc}")
    emit(text, out)


@app.command()
def compare(
    scenario: Annotated[str, typer.Argument(help="Scenario file, or the id of a shipped scenario.")],
    protocols: Annotated[
        list[str], typer.Option("--protocol", "-p", help="An agreement to compare (give two or more).")
    ],
    seeds: Annotated[int, typer.Option("--seeds", "-n", min=1, max=1000, help="Runs per protocol.")] = 20,
    fmt: Annotated[str, typer.Option("--format", "-f", help="text (default), md or json.")] = "text",
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the table to this file.")] = None,
    jobs: Annotated[
        int | None, typer.Option("--jobs", "-j", min=1, help="Runs at once (default: one per CPU).")
    ] = None,
) -> None:
    """Run a scenario under each protocol across N seeds and compare the outcomes."""
    from sim.evaluation.compare import aggregate, markdown_table, text_table, to_json
    from sim.runtime.batch import run_all

    if fmt not in ("text", "md", "json"):
        die(EXIT_BAD_INPUT, f"error: --format {fmt!r}: use text, md or json")
    if len(protocols) < 2:
        die(EXIT_BAD_INPUT, "error: give at least two agreements: --protocol A --protocol B")
    loaded = [load(scenario, p) for p in dict.fromkeys(protocols)]  # bad input exits 2 here, before any run
    path = loaded[0].path
    base = loaded[0].scenario.seed
    seed_list = [base + i for i in range(seeds)]
    names = [x.agreement.id for x in loaded]
    total = len(names) * len(seed_list)
    err(f"{loaded[0].scenario.id}: {len(names)} protocols × {seeds} seeds (from {base}) = {total} fast runs")
    try:
        with typer.progressbar(length=total, label="running", file=sys.stderr) as bar:
            runs = run_all(path, protocols, seed_list, jobs=jobs, on_done=lambda _r: bar.update(1))
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")
    dists = aggregate(runs, names)
    if fmt == "json":
        text = to_json(loaded[0].scenario.id, seed_list, dists, runs)
    elif fmt == "md":
        text = f"## {loaded[0].scenario.title}\n\n" + markdown_table(dists) + "\n"
    else:
        text = text_table(dists) + "\n"
    emit(text, out)


@app.command()
def schema() -> None:
    """Print the JSON Schema of the scenario format (for editor completion)."""
    from sim.scenario.schema import schema_json

    say(schema_json().rstrip("\n"))


@app.command()
def msel(
    scenario: Annotated[str, typer.Argument(help="Scenario file, or the id of a shipped scenario.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Write the CSV to this file.")] = None,
    protocol: Annotated[
        str | None, typer.Option("--protocol", help="Derive expected actions under another agreement.")
    ] = None,
) -> None:
    """Export the injects as an HSEEP-style MSEL (CSV): number, time, from, to, inject,
    expected action, objective."""
    from sim.scenario.msel import msel_csv

    loaded = load(scenario, protocol)
    emit(msel_csv(loaded.scenario, loaded.agreement), out)
