"""``hotline run``, ``hotline validate``, ``hotline scenarios``."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated

import typer

from sim.cli_app import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_RUNTIME, app, die, err, load, parse_broker, say
from sim.console import Timeline, summary, verdict_lines
from sim.durations import format_duration
from sim.errors import HotlineError, InputFileError, NotFound
from sim.journal import Entry
from sim.outcome import Event, ExerciseState
from sim.scenario import find_scenario, load_scenario, shipped_scenarios


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario file, or the id of a shipped scenario.")],
    fast: Annotated[
        bool, typer.Option("--fast", help="Discrete-event mode: run as fast as the broker allows.")
    ] = False,
    protocol: Annotated[
        str | None, typer.Option("--protocol", help="Run under another agreement (shipped id or file).")
    ] = None,
    seed: Annotated[int | None, typer.Option("--seed", help="Override the scenario's seed.")] = None,
    broker: Annotated[
        str | None, typer.Option("--broker", help="Use this broker (mqtt://HOST:PORT) instead of the embedded one.")
    ] = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for run folders (journal).")] = Path("runs"),
    exercise: Annotated[
        str | None, typer.Option("--exercise", help="Exercise id (topic prefix); default: the scenario id.")
    ] = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary, not the timeline.")] = False,
) -> None:
    """Run an exercise headless and print its timeline and summary."""
    loaded = load(scenario, protocol)
    if not fast:
        die(
            EXIT_BAD_INPUT,
            "error: only --fast is available in this version (realtime mode comes next); "
            "run: hotline run SCENARIO --fast",
        )
    url = parse_broker(broker) if broker is not None else None
    from sim.exercise import run_fast  # noqa: PLC0415 - keeps `hotline validate` light

    sc = loaded.scenario
    the_seed = sc.seed if seed is None else seed
    say(f"Hotline — {sc.title}")
    say(
        f"scenario {sc.id} · protocol {loaded.agreement.id} · seed {the_seed} · "
        f"{sc.start:%Y-%m-%d %H:%M}Z + {format_duration(sc.duration)} · fast mode"
    )
    say(f"broker {url or 'embedded amqtt'}")
    say()
    printer: list[Timeline] = []

    def on_entry(state: ExerciseState, _entry: Entry, event: Event | None) -> None:
        if quiet:
            return
        if not printer:
            printer.append(Timeline(state))
        line = printer[0].line(event)
        if line:
            say(line)

    try:
        result = asyncio.run(
            run_fast(loaded, seed=the_seed, broker=url, out_dir=out, exercise=exercise, on_entry=on_entry)
        )
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")
    say()
    for line in summary(result.state):
        say(line)
    if result.verdicts:
        say()
        say("expectations:")
        for line in verdict_lines(result.verdicts):
            say(line)
    say()
    messages = len({m.envelope.id for m in result.state.messages})
    say(f"journal {result.journal}")
    say(f"{messages} messages · {result.stats.rounds} rounds · {result.stats.wall_seconds:.2f} s wall")
    if not result.ok:
        failed = sum(1 for v in result.verdicts if not v.ok)
        say(f"{failed} expectation(s) failed")
        raise typer.Exit(EXIT_FAILED)


@app.command()
def validate(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario files or shipped scenario ids.")],
    protocol: Annotated[str | None, typer.Option("--protocol", help="Validate against another agreement.")] = None,
) -> None:
    """Check scenario files; errors name file:line:column and the field."""
    bad = 0
    for name in scenarios:
        try:
            loaded = load_scenario(find_scenario(name), protocol)
        except InputFileError as exc:
            bad += 1
            for error in exc.errors:
                err(f"error: {error}")
            continue
        except NotFound as exc:
            bad += 1
            err(f"error: {exc}")
            continue
        sc = loaded.scenario
        say(
            f"ok {loaded.path}: {sc.id} — {len(sc.agencies)} agencies, {len(sc.injects)} injects, "
            f"{len(sc.expect)} expectations, protocol {loaded.agreement.id}"
        )
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


@app.command()
def scenarios() -> None:
    """List the shipped scenarios."""
    rows = []
    for path in shipped_scenarios():
        try:
            loaded = load_scenario(path)
        except HotlineError as exc:
            rows.append((path.stem, "?", f"(does not load: {str(exc).splitlines()[0]})"))
            continue
        sc = loaded.scenario
        rows.append((sc.id, format_duration(sc.duration), f"{sc.title} [{loaded.agreement.id}]"))
    width = max((len(r[0]) for r in rows), default=0)
    for ident, duration, title in rows:
        say(f"{ident:<{width}}  {duration:>4}  {title}")
