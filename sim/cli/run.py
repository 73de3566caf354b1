"""``hotline run``, ``hotline validate``, ``hotline scenarios``."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from sim.cli.app import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_RUNTIME, app, die, err, load, parse_broker, report_of, say
from sim.evaluation.console import TimelinePrinter, delivery_line, ended_early_line, summary, verdict_lines
from sim.evaluation.expect import Verdict
from sim.evaluation.outcome import Event, ExerciseState
from sim.model.durations import format_duration
from sim.model.errors import HotlineError
from sim.model.journal import Entry
from sim.runtime.director import Director, RunStats
from sim.runtime.exercise import RunResult
from sim.runtime.pacing import Mode
from sim.runtime.transport import BrokerUrl, Connector
from sim.scenario.errors import InputFileError, NotFound
from sim.scenario.load import LoadedScenario, find_scenario, load_agreement, load_scenario, shipped_scenarios
from sim.scenario.yamlsrc import load_yaml


class RunPrinter:
    """What every command that runs an exercise prints: a header, the timeline as it happens,
    and at the end the summary, the expectations and where the journal is."""

    def __init__(self, *, quiet: bool = False) -> None:
        self.quiet = quiet
        self._timeline: TimelinePrinter | None = None

    def header(self, loaded: LoadedScenario, seed: int, mode: str, broker: str) -> None:
        sc = loaded.scenario
        say(f"Hotline — {sc.title}")
        say(
            f"scenario {sc.id} · protocol {loaded.agreement.id} · seed {seed} · "
            f"{sc.start:%Y-%m-%d %H:%M}Z + {format_duration(sc.duration)} · {mode}"
        )
        say(f"broker {broker}")
        say()

    def on_entry(self, state: ExerciseState, _entry: Entry, event: Event | None) -> None:
        if self.quiet:
            return
        if self._timeline is None:
            self._timeline = TimelinePrinter(state)
        line = self._timeline.line(event)
        if line:
            say(line)

    def finish(self, state: ExerciseState, verdicts: list[Verdict], journal: Path, stats: RunStats) -> int:
        say()
        for line in summary(state):
            say(line)
        say(delivery_line(state))
        early = ended_early_line(state)
        if early:
            say(early)
        if verdicts:
            say()
            say("expectations:")
            for line in verdict_lines(verdicts):
                say(line)
        say()
        messages = state.protocol_messages()
        rounds = f" · {stats.rounds} rounds" if stats.rounds else ""
        say(f"journal {journal}")
        say(f"{messages} messages{rounds} · {stats.wall_seconds:.2f} s wall")
        failed = sum(1 for v in verdicts if not v.ok)
        if failed:
            say(f"{failed} expectation(s) failed")
            return EXIT_FAILED
        return 0


T = TypeVar("T")


def until_done(main: Callable[[], Coroutine[Any, Any, T]], directors: list[Director]) -> T:
    """Run an exercise to its end. Ctrl-C (or SIGTERM) ends it early but properly — final tally,
    journal, summary and report — and a second Ctrl-C aborts at once."""

    async def runner() -> T:
        task: asyncio.Task[T] = asyncio.create_task(main())
        loop = asyncio.get_running_loop()

        def interrupt() -> None:
            live = [d for d in directors if not d.end_requested]
            if live:
                err("interrupted: ending the exercise now (Ctrl-C again to abort)")
                for director in live:
                    director.request_end("interrupted")
            else:
                task.cancel()

        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, interrupt)
        try:
            return await task
        except asyncio.CancelledError:
            err("aborted")
            raise typer.Exit(130) from None

    return asyncio.run(runner())


def load_credentials(directory: Path, url: BrokerUrl | None) -> dict[str, BrokerUrl]:
    """``hotline broker-config``'s credentials folder: each participant connects as itself."""
    if url is None:
        die(EXIT_BAD_INPUT, "error: --credentials goes with --broker (the embedded broker needs none)")
    if not directory.is_dir():
        die(EXIT_BAD_INPUT, f"error: {directory} is not a folder of <user>.password files (hotline broker-config)")
    found = {}
    for secret in sorted(directory.glob("*.password")):
        found[secret.stem] = url.with_credentials(secret.stem, secret.read_text().strip())
    if not found:
        die(EXIT_BAD_INPUT, f"error: no <user>.password files in {directory}")
    return found


def _with_dashboard(
    loaded: LoadedScenario,
    mode: Mode,
    speed: float,
    seed: int,
    url: BrokerUrl | None,
    out: Path,
    exercise: str | None,
    credentials: Path | None,
    directors: list[Director],
) -> RunResult | None:
    """The exercise runs under the dashboard (the broker first, so the dashboard can subscribe
    before anything happens). Quitting the dashboard ends the exercise properly."""
    from sim.runtime.broker import BrokerThread
    from sim.runtime.exercise import run_exercise
    from tui.launch import run_live

    ident = exercise or loaded.scenario.id

    def end_from_dashboard() -> None:
        for director in directors:
            director.request_end("ended from the dashboard")

    with contextlib.ExitStack() as stack:
        the_url = url or stack.enter_context(BrokerThread()).url
        creds = load_credentials(credentials, url) if credentials else None
        try:
            result: RunResult | None = run_live(
                Connector(creds.get("facilitator", the_url) if creds else the_url),
                ident,
                loaded=loaded,
                background=lambda: run_exercise(
                    loaded,
                    mode=mode,
                    speed=speed,
                    seed=seed,
                    broker=the_url,
                    out_dir=out,
                    exercise=ident,
                    on_director=directors.append,
                    credentials=creds,
                ),
                on_quit=end_from_dashboard,
            )
        except HotlineError as exc:
            die(EXIT_RUNTIME, f"error: {exc}")
    return result


def write_report(journal: Path, formats: tuple[str, ...] = ("md", "html")) -> list[Path]:
    """The after-action report goes next to the journal at the end of every run (``report.md``,
    ``report.html``); returns the files written."""
    from sim.evaluation.journalfile import JournalError
    from sim.evaluation.report import render

    try:
        report = report_of(journal)
    except JournalError as exc:
        err(f"warning: no after-action report: {exc}")
        return []
    written = []
    for fmt in formats:
        path = journal.parent / f"report.{fmt}"
        path.write_text(render(report, fmt), encoding="utf-8")
        written.append(path)
    say(f"report {', '.join(str(p) for p in written)}")
    return written


@app.command()
def run(
    scenario: Annotated[str, typer.Argument(help="Scenario file, or the id of a shipped scenario.")],
    fast: Annotated[
        bool, typer.Option("--fast", help="Discrete-event mode: run as fast as the broker allows.")
    ] = False,
    speed: Annotated[
        float | None,
        typer.Option(
            "--speed", min=0.001, help="Realtime: sim seconds per wall second (default 60: a minute a second)."
        ),
    ] = None,
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
    headless: Annotated[
        bool, typer.Option("--headless", help="No dashboard: print the timeline (the default when not on a terminal).")
    ] = False,
    credentials: Annotated[
        Path | None,
        typer.Option(
            "--credentials", help="With --broker: hotline broker-config's credentials folder (one user each)."
        ),
    ] = None,
) -> None:
    """Run an exercise — realtime at --speed, or --fast — and print its timeline and summary."""
    loaded = load(scenario, protocol)
    url = parse_broker(broker) if broker is not None else None
    if fast and speed is not None:
        die(EXIT_BAD_INPUT, "error: --fast runs as fast as it can; --speed is for realtime runs (drop one)")
    speed = speed or 60.0
    the_seed = loaded.scenario.seed if seed is None else seed
    mode: Mode = "fast" if fast else "realtime"
    printer = RunPrinter(quiet=quiet)
    printer.header(loaded, the_seed, "fast mode" if fast else f"realtime ×{speed:g}", str(url or "embedded amqtt"))
    directors: list[Director] = []
    if sys.stdout.isatty() and not headless:
        result = _with_dashboard(loaded, mode, speed, the_seed, url, out, exercise, credentials, directors)
        if result is None:
            say("dashboard closed before the exercise ended: it was stopped (run with --headless to keep it going)")
            raise typer.Exit(EXIT_RUNTIME)
    else:
        result = _headless(loaded, mode, speed, the_seed, url, out, exercise, credentials, printer, directors)
    code = printer.finish(result.state, result.verdicts, result.journal, result.stats)
    write_report(result.journal)
    if code:
        raise typer.Exit(code)


def _headless(
    loaded: LoadedScenario,
    mode: Mode,
    speed: float,
    seed: int,
    url: BrokerUrl | None,
    out: Path,
    exercise: str | None,
    credentials: Path | None,
    printer: RunPrinter,
    directors: list[Director],
) -> RunResult:
    """The exercise runs with its timeline printed as it happens; Ctrl-C ends it properly."""
    from sim.runtime.exercise import run_exercise

    try:
        return until_done(
            lambda: run_exercise(
                loaded,
                mode=mode,
                speed=speed,
                seed=seed,
                broker=url,
                out_dir=out,
                exercise=exercise,
                on_entry=printer.on_entry,
                on_director=directors.append,
                credentials=load_credentials(credentials, url) if credentials else None,
            ),
            directors,
        )
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")


@app.command()
def validate(
    scenarios: Annotated[list[str], typer.Argument(help="Scenario or protocol files, or shipped scenario ids.")],
    protocol: Annotated[str | None, typer.Option("--protocol", help="Validate against another agreement.")] = None,
) -> None:
    """Check scenario (and protocol) files; errors name file:line:column and the field."""
    bad = 0
    for name in scenarios:
        try:
            say(_validate_one(name, protocol))
        except InputFileError as exc:
            bad += 1
            for error in exc.errors:
                err(f"error: {error}")
        except NotFound as exc:
            bad += 1
            err(f"error: {exc}")
    if bad:
        raise typer.Exit(EXIT_BAD_INPUT)


def _validate_one(name: str, protocol: str | None) -> str:
    """A protocol file (it has ``channels`` and no ``agencies``) or a scenario."""
    path = find_scenario(name)
    data, _ = load_yaml(path)
    if isinstance(data, dict) and "channels" in data and "agencies" not in data:
        agreement = load_agreement(path)
        return (
            f"ok {path}: protocol {agreement.id} — {len(agreement.channels)} channels, {len(agreement.rules)} rules, "
            f"{len(agreement.ladder.raise_) + len(agreement.ladder.lower)} ladder triggers"
        )
    loaded = load_scenario(path, protocol)
    sc = loaded.scenario
    return (
        f"ok {loaded.path}: {sc.id} — {len(sc.agencies)} agencies, {len(sc.injects)} injects, "
        f"{len(sc.expect)} expectations, protocol {loaded.agreement.id}"
    )


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
