"""Brokers: the embedded amqtt broker (``hotline run`` needs nothing but pip) and a launcher
for Mosquitto with the repository's ``broker.conf`` (tests, development, benchmarks)."""

from __future__ import annotations

import asyncio
import logging
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import Any, Self

import structlog

from sim.model.errors import HotlineError
from sim.runtime.clock import pause
from sim.runtime.transport import BrokerUrl

log = structlog.get_logger("hotline.broker")

REPO_BROKER_CONF = Path(__file__).resolve().parents[2] / "broker.conf"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def wait_listening(
    host: str, port: int, timeout: float = 10.0, *, gone: Callable[[], str | None] | None = None
) -> None:
    """Return once something accepts TCP connections on host:port; raise after ``timeout``
    (or at once if ``gone`` says the process that should listen has died)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        reason = gone() if gone is not None else None
        if reason is not None:
            raise HotlineError(reason)
        try:
            _, writer = await asyncio.open_connection(host, port)
        except OSError:
            await pause(0.02)
            continue
        writer.close()
        await writer.wait_closed()
        return
    raise HotlineError(f"nothing listens on {host}:{port} after {timeout}s")


class EmbeddedBroker:
    """amqtt, in this process, on 127.0.0.1 (a free port unless one is given)."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, *, allow_anonymous: bool = True) -> None:
        self.host = host
        self.port = port
        self.allow_anonymous = allow_anonymous
        self._broker: Any = None

    @property
    def url(self) -> BrokerUrl:
        return BrokerUrl(self.host, self.port)

    async def start(self) -> None:
        from amqtt.broker import Broker  # noqa: PLC0415 - heavy import, only when embedding

        # amqtt warns about undelivered retained goodbyes at shutdown; that is not news.
        logging.getLogger("amqtt").setLevel(logging.ERROR)
        logging.getLogger("transitions").setLevel(logging.WARNING)
        config = {
            "listeners": {"default": {"type": "tcp", "bind": f"{self.host}:{self.port}"}},
            "plugins": {
                "amqtt.plugins.authentication.AnonymousAuthPlugin": {"allow_anonymous": self.allow_anonymous},
            },
        }
        self._broker = Broker(config)
        await self._broker.start()
        if self.port == 0:
            server = self._broker._servers["default"].instance
            self.port = int(server.sockets[0].getsockname()[1])
        log.info("embedded_broker_started", url=str(self.url))

    async def stop(self) -> None:
        if self._broker is not None:
            await self._broker.shutdown()
            self._broker = None

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


class BrokerThread:
    """The embedded broker on an event loop of its own, in a thread: for when another loop
    (the dashboard's) must connect to it before the exercise starts."""

    def __init__(self) -> None:
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="embedded-broker", daemon=True)
        self._broker = EmbeddedBroker()

    @property
    def url(self) -> BrokerUrl:
        return self._broker.url

    def __enter__(self) -> Self:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._broker.start(), self._loop).result(30)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self._broker.stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()


def mosquitto_binary() -> str:
    path = shutil.which("mosquitto") or ("/usr/sbin/mosquitto" if Path("/usr/sbin/mosquitto").exists() else None)
    if path is None:
        raise HotlineError("mosquitto is not installed (apt-get install mosquitto)")
    return path


def derived_config(base: Path, port: int, workdir: Path, *, anonymous: bool) -> str:
    """``broker.conf`` with the listener moved to 127.0.0.1:``port``, persistence and the
    password and ACL files in ``workdir`` (copied there, so a broker that drops to its own user
    can read them wherever the originals are).

    ``-p`` is ignored once a config defines a listener, so the listener line is rewritten.
    With ``anonymous`` the password and ACL files are dropped (development runs)."""
    lines = [f"# derived from {base} for a local run", f"listener {port} 127.0.0.1"]
    for raw in base.read_text().splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, _, value = line.partition(" ")
        if key in ("listener", "port", "pid_file", "log_dest", "bind_address"):
            continue
        if key in ("password_file", "acl_file"):
            if anonymous:
                continue
            path = Path(value)
            source = path if path.is_absolute() else base.parent / path
            copy = workdir / source.name
            shutil.copyfile(source, copy)
            os.chmod(copy, 0o600)
            give_to_broker_user(copy)
            value = str(copy)
        if key == "persistence_location":
            value = str(workdir) + "/"
        if key == "allow_anonymous" and anonymous:
            value = "true"
        lines.append(f"{key} {value}")
    if anonymous and not any(line.startswith("allow_anonymous") for line in lines):
        lines.append("allow_anonymous true")
    lines.append("log_dest stderr")
    return "\n".join(lines) + "\n"


def give_to_broker_user(*paths: Path) -> None:
    """Started as root, Mosquitto drops to the ``mosquitto`` user before it reads its password
    and ACL files and writes its persistence directory: those must then be that user's (they
    stay mode 0600). Nothing to do when not root."""
    if os.geteuid() != 0:
        return
    try:
        user = pwd.getpwnam("mosquitto")
    except KeyError:
        return
    for path in paths:
        if path.exists():
            os.chown(path, user.pw_uid, user.pw_gid)


def _hand_to_broker_user(directory: Path) -> None:
    give_to_broker_user(directory, *(c for c in directory.iterdir() if c.suffix in (".db", ".new")))


class MosquittoBroker:
    """A Mosquitto process on a free port, started from ``broker.conf``; waits until it
    accepts connections. Restartable (same port, same persistence directory)."""

    def __init__(
        self,
        config: Path = REPO_BROKER_CONF,
        *,
        port: int = 0,
        anonymous: bool = True,
        workdir: Path | None = None,
    ) -> None:
        self.config = config
        self.port = port or free_port()
        self.anonymous = anonymous
        self._tmp = tempfile.TemporaryDirectory(prefix="hotline-mosquitto-") if workdir is None else None
        self.workdir = workdir or Path(self._tmp.name)  # type: ignore[union-attr]
        self.proc: subprocess.Popen[bytes] | None = None
        self.log_path = self.workdir / "mosquitto.log"

    @property
    def url(self) -> BrokerUrl:
        return BrokerUrl("127.0.0.1", self.port)

    async def start(self, timeout: float = 10.0) -> None:
        conf = self.workdir / "mosquitto.conf"
        conf.write_text(derived_config(self.config, self.port, self.workdir, anonymous=self.anonymous))
        _hand_to_broker_user(self.workdir)
        log_file = self.log_path.open("ab")
        self.proc = subprocess.Popen(  # noqa: S603, ASYNC220 - returns at once; own process group, outlives no loop
            [mosquitto_binary(), "-c", str(conf)],
            stdout=log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log_file.close()
        await self._wait_listening(timeout)

    async def _wait_listening(self, timeout: float) -> None:
        def exited() -> str | None:
            if self.proc is not None and self.proc.poll() is not None:
                return f"mosquitto exited with {self.proc.returncode}: {self.log_tail()}"
            return None

        await wait_listening("127.0.0.1", self.port, timeout, gone=exited)

    def log_tail(self, lines: int = 5) -> str:
        try:
            return " | ".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    async def stop(self, *, kill: bool = False) -> None:
        if self.proc is None:
            return
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL if kill else signal.SIGTERM)
            await asyncio.to_thread(self.proc.wait, 10)
        self.proc = None

    async def restart(self) -> None:
        await self.stop()
        await self.start()

    def cleanup(self) -> None:
        if self._tmp is not None:
            self._tmp.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()
        self.cleanup()
