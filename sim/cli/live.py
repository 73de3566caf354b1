"""Live-exercise commands: one process per participant, facilitator control, broker set-up.

hotline broker                      embedded amqtt broker in the foreground
hotline broker-config SCENARIO      Mosquitto users, passwords and ACL for a scenario
hotline director SCENARIO           the exercise director (clock, injects, journal)
hotline node SCENARIO --agency ID   one agency's seat
hotline ctl pause|resume|speed X|inject FILE|end
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import signal
import uuid
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from sim.cli.app import EXIT_BAD_INPUT, EXIT_FAILED, EXIT_RUNTIME, app, die, err, load, parse_broker, say, with_password
from sim.cli.run import RunPrinter, until_done, write_report
from sim.model.control import Command
from sim.model.errors import HotlineError
from sim.runtime.brokerconfig import DIRECTOR
from sim.runtime.clock import utc_stamp
from sim.scenario.errors import InputFileError

BrokerOpt = Annotated[str, typer.Option("--broker", help="The broker, mqtt://HOST:PORT.")]
UserOpt = Annotated[str | None, typer.Option("--username", help="MQTT user name.")]
PasswordFileOpt = Annotated[
    Path | None, typer.Option("--password-file", help="File holding the MQTT password (never on the command line).")
]
ProtocolOpt = Annotated[str | None, typer.Option("--protocol", help="Run under another agreement.")]
SeedOpt = Annotated[int | None, typer.Option("--seed", help="Override the scenario's seed.")]
ExerciseOpt = Annotated[
    str | None, typer.Option("--exercise", help="Exercise id (topic prefix); default: the scenario id.")
]


def _serve(main: Callable[[], Coroutine[Any, Any, Any]]) -> Any:
    """Run ``main`` until it returns; SIGINT/SIGTERM cancel it cleanly (presence says offline)."""

    async def runner() -> Any:
        task: asyncio.Task[Any] = asyncio.create_task(main())
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError):
                loop.add_signal_handler(sig, task.cancel)
        try:
            return await task
        except asyncio.CancelledError:
            err("stopped")
            raise typer.Exit(130) from None

    try:
        return asyncio.run(runner())
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")


@app.command()
def broker(
    host: Annotated[str, typer.Option("--host", help="Address to listen on (loopback by default).")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="Port to listen on.")] = 1883,
) -> None:
    """Run the embedded amqtt broker in the foreground (Ctrl-C stops it)."""
    from sim.runtime.broker import EmbeddedBroker

    async def main() -> None:
        embedded = EmbeddedBroker(host, port)
        try:
            await embedded.start()
        except Exception as exc:  # noqa: BLE001 - amqtt raises its own BrokerError (e.g. port in use)
            die(EXIT_RUNTIME, f"error: cannot listen on {host}:{port}: {exc}")
        say(f"listening on {embedded.url} (embedded amqtt; Ctrl-C to stop)")
        try:
            await asyncio.Event().wait()
        finally:
            await embedded.stop()

    _serve(main)


@app.command("broker-config")
def broker_config(
    scenario: Annotated[str, typer.Argument(help="Scenario file or shipped scenario id.")],
    out: Annotated[Path, typer.Option("--out", help="Directory for broker.conf, broker.acl, broker.passwd.")],
    port: Annotated[int, typer.Option("--port", help="Listener port in the generated broker.conf.")] = 1883,
    host: Annotated[
        str, typer.Option("--host", help="Listener address (0.0.0.0: seats on other machines).")
    ] = "127.0.0.1",
    rotate: Annotated[bool, typer.Option("--rotate", help="Replace existing passwords with new ones.")] = False,
) -> None:
    """Write Mosquitto users, random passwords (once, mode 0600) and the ACL for a scenario."""
    from sim.runtime.brokerconfig import write_broker_files

    loaded = load(scenario)
    files = write_broker_files(loaded.scenario, out, port=port, host=host, rotate=rotate)
    say(f"wrote {files.conf}, {files.acl.name}, {files.passwd.name}")
    say(
        f"passwords in {files.credentials}/<user>.password (mode 0600): "
        f"{len(files.created)} new, {len(files.kept)} kept"
    )
    users = sorted((*files.created, *files.kept))
    say(f"users: {', '.join(users)}")
    stale = sorted(p.stem for p in files.credentials.glob("*.password") if p.stem not in users)
    if stale:
        say(f"note: {files.credentials} also holds passwords of users this scenario does not have: {', '.join(stale)}")
    say(f"start the broker: mosquitto -c {files.conf}")


@app.command()
def director(
    scenario: Annotated[str, typer.Argument(help="Scenario file or shipped scenario id.")],
    broker: BrokerOpt,
    fast: Annotated[bool, typer.Option("--fast", help="Discrete-event mode.")] = False,
    speed: Annotated[float, typer.Option("--speed", min=0.001, help="Realtime: sim seconds per wall second.")] = 60.0,
    protocol: ProtocolOpt = None,
    seed: SeedOpt = None,
    exercise: ExerciseOpt = None,
    out: Annotated[Path, typer.Option("--out", help="Directory for run folders (journal).")] = Path("runs"),
    wait: Annotated[float, typer.Option("--wait", help="Seconds to wait for every agency to join.")] = 300.0,
    username: UserOpt = None,
    password_file: PasswordFileOpt = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Only the summary, not the timeline.")] = False,
) -> None:
    """Direct an exercise whose agencies run as separate `hotline node` processes."""
    from sim.core.roster import Roster
    from sim.evaluation.expect import check
    from sim.runtime.director import Director
    from sim.runtime.journal import run_dir

    loaded = load(scenario, protocol)
    url = with_password(parse_broker(broker), username or (DIRECTOR if password_file else None), password_file)
    sc = loaded.scenario
    the_seed = sc.seed if seed is None else seed
    ident = exercise or sc.id
    journal = run_dir(out, ident, utc_stamp()) / "journal.jsonl"
    printer = RunPrinter(quiet=quiet)
    printer.header(loaded, the_seed, "fast mode" if fast else f"realtime ×{speed:g}", str(url))
    the_director = Director(
        url,
        loaded,
        Roster.build(sc, loaded.agreement),
        ident,
        the_seed,
        journal,
        mode="fast" if fast else "realtime",
        speed=speed,
        join_timeout=wait,
        on_entry=printer.on_entry,
    )
    say(f"waiting for {len(the_director.agencies)} agencies: {', '.join(the_director.agencies)}")
    try:
        state = until_done(the_director.run, [the_director])  # Ctrl-C ends it properly, summary and all
    except HotlineError as exc:
        die(EXIT_RUNTIME, f"error: {exc}")
    code = printer.finish(state, check(state), journal, the_director.stats)
    write_report(journal)
    if code:
        raise typer.Exit(code)


@app.command()
def node(
    scenario: Annotated[str, typer.Argument(help="Scenario file or shipped scenario id.")],
    agency: Annotated[str, typer.Option("--agency", help="The agency this process plays.")],
    broker: BrokerOpt,
    protocol: ProtocolOpt = None,
    seed: SeedOpt = None,
    exercise: ExerciseOpt = None,
    state_dir: Annotated[
        Path | None,
        typer.Option("--state-dir", help="Where to keep crash-recovery state (default runs/<exercise>.nodes)."),
    ] = None,
    username: UserOpt = None,
    password_file: PasswordFileOpt = None,
    director_grace: Annotated[
        float, typer.Option("--director-grace", min=0, help="Seconds to wait for a director that is gone, then stop.")
    ] = 60.0,
) -> None:
    """Play one agency's seat (automated by its policy) in an exercise run by `hotline director`."""
    from sim.core.roster import Roster
    from sim.runtime.node import AgencyNode, run_key

    loaded = load(scenario, protocol)
    sc = loaded.scenario
    if agency not in {a.id for a in sc.agencies}:
        die(EXIT_BAD_INPUT, f"error: no agency {agency!r} in {sc.id} (it has: {', '.join(a.id for a in sc.agencies)})")
    url = with_password(parse_broker(broker), username or (agency if password_file else None), password_file)
    the_seed = sc.seed if seed is None else seed
    ident = exercise or sc.id
    the_node = AgencyNode(
        url,
        Roster.build(sc, loaded.agreement),
        agency,
        ident,
        the_seed,
        sc.policy_for(agency),
        run=run_key(ident, loaded.sha256, the_seed),
        state_dir=state_dir or Path("runs") / f"{ident}.nodes",
        director_grace=director_grace,
    )
    say(f"{agency}: joining exercise {ident} on {url}")
    _serve(the_node.run)
    if the_node.director.gone:
        die(
            EXIT_RUNTIME,
            f"error: {agency}: the director is gone and did not come back within {director_grace:g} s: stopped",
        )
    say(f"{agency}: exercise over ({the_node.core.seq} messages sent)")


@app.command()
def ctl(
    action: Annotated[str, typer.Argument(help="pause | resume | speed | inject | end")],
    exercise: Annotated[str, typer.Option("--exercise", help="Exercise id (topic prefix), e.g. the scenario id.")],
    value: Annotated[str | None, typer.Argument(help="speed: sim seconds per wall second; inject: a YAML file")] = None,
    broker: BrokerOpt = "mqtt://127.0.0.1:1883",
    client: Annotated[
        str, typer.Option("--client", help="Who is commanding (topic ctl/cmd/<client>).")
    ] = "facilitator",
    timeout: Annotated[float, typer.Option("--timeout", help="Seconds to wait for the director's answer.")] = 10.0,
    username: UserOpt = None,
    password_file: PasswordFileOpt = None,
) -> None:
    """Send a facilitator command to a running exercise and print the director's answer."""
    from sim.model.control import CommandResult, ExerciseStatus
    from sim.model.topics import Topics
    from sim.runtime.transport import Transport

    command = _build_command(action, value)
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,62}", client):
        die(EXIT_BAD_INPUT, f"error: --client {client!r}: lower-case letters, digits, - and _ only")
    url = with_password(parse_broker(broker), username or (client if password_file else None), password_file)
    topics = Topics(exercise)
    answer: asyncio.Future[CommandResult] | None = None
    seen_status: list[str] = []

    async def on_message(topic: str, payload: bytes, _retained: bool) -> None:
        if topic == topics.exercise_status and payload:
            seen_status.append(ExerciseStatus.model_validate_json(payload).status)
            return
        if topic == topics.result(client) and answer is not None and not answer.done():
            result = CommandResult.model_validate_json(payload)
            if result.id == command.id:
                answer.set_result(result)

    async def main() -> CommandResult:
        nonlocal answer
        answer = asyncio.get_running_loop().create_future()
        transport = Transport(
            url,
            f"hotline-ctl-{uuid.uuid4().hex[:8]}",
            [topics.result(client), topics.exercise_status],
            clean_session=True,
        )
        reader = asyncio.create_task(transport.run(on_message, first_attempt_window=timeout))
        try:
            connected = asyncio.create_task(transport.wait_connected())
            await asyncio.wait({reader, connected}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED)
            connected.cancel()
            if reader.done():
                reader.result()  # the broker refused us, or cannot be reached: that is the error
            if not transport.connected:
                die(EXIT_RUNTIME, f"error: cannot reach the broker at {url} within {timeout:g} s")
            await transport.publish(
                topics.cmd(client), command.model_dump_json(exclude_none=True, by_alias=True).encode()
            )
            return await asyncio.wait_for(answer, timeout)
        except TimeoutError:
            state = seen_status[-1] if seen_status else None
            why = {None: "no exercise of that id on this broker?", "ended": "the exercise has ended"}.get(
                state, f"the exercise is {state}"
            )
            die(EXIT_RUNTIME, f"error: no answer from the director of {exercise!r} within {timeout:g} s ({why})")
        finally:
            await transport.close()
            reader.cancel()
            await asyncio.gather(reader, return_exceptions=True)

    result: CommandResult = _serve(main)
    if result.accepted:
        say(f"{action}: accepted at {result.at:%Y-%m-%d %H:%M:%S}Z (sim)")
        return
    say(f"{action}: refused — {result.reason}")
    raise typer.Exit(EXIT_FAILED)


def _inject_from(path: Path, model: Any) -> dict[str, Any]:
    """An inject from a YAML file, validated here with file:line errors before it is sent."""
    from sim.scenario.yamlsrc import load_yaml, validation_errors

    try:
        data, smap = load_yaml(path)
    except InputFileError as exc:
        die(EXIT_BAD_INPUT, "\n".join(f"error: {e}" for e in exc.errors))
    if not isinstance(data, dict):
        die(EXIT_BAD_INPUT, f"error: {path}: an inject is a mapping (detect, link, message or policy)")
    at = data.setdefault("at", "+00:00")
    if at not in ("+00:00", "+0:00"):
        err(f"note: a live inject happens now; 'at: {at}' in {path} is ignored")
    try:
        return dict(model.model_validate(data).model_dump(mode="json", by_alias=True, exclude_none=True))
    except ValueError as exc:
        from pydantic import ValidationError

        if isinstance(exc, ValidationError):
            errors = validation_errors(exc, model, data, smap, path)
            die(EXIT_BAD_INPUT, "\n".join(f"error: {e}" for e in errors))
        raise


def _build_command(action: str, value: str | None) -> Command:

    from sim.model.injects import Inject

    fields: dict[str, Any] = {"id": uuid.uuid4().hex[:12], "action": action}
    if action == "speed":
        try:
            fields["speed"] = float(value or "")
        except ValueError:
            die(EXIT_BAD_INPUT, "error: speed needs a number: hotline ctl speed 7200 …")
    elif action == "inject":
        fields["inject"] = _inject_from(Path(value or ""), Inject)
    elif action not in ("pause", "resume", "end"):
        die(EXIT_BAD_INPUT, f"error: unknown action {action!r} (pause, resume, speed X, inject FILE, end)")
    try:
        command = Command.model_validate(fields)
    except ValidationError as exc:
        first = exc.errors()[0]
        die(EXIT_BAD_INPUT, f"error: {'.'.join(str(p) for p in first['loc'])}: {first['msg']}")
    return command
