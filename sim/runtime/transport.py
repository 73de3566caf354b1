"""The only module that imports aiomqtt: connect, subscribe, publish, reconnect, presence.

One :class:`Transport` per participant, with its own client id. It owns one reader (several
readers of ``client.messages`` would steal each other's messages) that hands each message,
in order, to the participant's handler. aiomqtt does not reconnect by itself: :meth:`run`
is the documented reconnect loop, re-subscribing on every pass; with ``clean_session=False``
and a fixed client id the broker keeps QoS 1 messages for us while we are away.

Every client sets TCP_NODELAY: with Nagle and delayed ACKs a QoS 1 round trip costs ~40–90 ms
instead of ~1 ms, and the fast clock is made of round trips.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit

import aiomqtt
import structlog

from sim.model.errors import BrokerUnavailable, HotlineError
from sim.runtime.clock import monotonic, pause

log = structlog.get_logger("hotline.transport")

NODELAY = [(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)]
#: (topic, payload, retained): ``retained`` is true for a retained message delivered because we
#: subscribed — old state, not news.
Handler = Callable[[str, bytes, bool], Awaitable[None]]


@dataclass(frozen=True)
class BrokerUrl:
    host: str
    port: int
    username: str | None = None
    password: str | None = field(default=None, repr=False)  # never in a repr, a log or an error

    @classmethod
    def parse(cls, url: str) -> BrokerUrl:
        parts = urlsplit(url if "://" in url else f"mqtt://{url}")
        shown = repr(_redacted(url))
        if parts.scheme not in ("mqtt", "tcp"):
            raise HotlineError(f"{shown}: only mqtt://HOST:PORT brokers are supported")
        if not parts.hostname:
            raise HotlineError(f"{shown}: no host (write mqtt://127.0.0.1:1883)")
        try:
            port = parts.port or 1883
        except ValueError as exc:
            raise HotlineError(f"{shown}: bad port") from exc
        return cls(
            parts.hostname,
            port,
            unquote(parts.username) if parts.username else None,
            unquote(parts.password) if parts.password else None,
        )

    def __str__(self) -> str:
        # Never shows the password.
        user = f"{self.username}@" if self.username else ""
        return f"mqtt://{user}{self.host}:{self.port}"

    def with_credentials(self, username: str | None, password: str | None) -> BrokerUrl:
        return BrokerUrl(self.host, self.port, username or self.username, password or self.password)


def _redacted(url: str) -> str:
    """``mqtt://user:secret@host`` → ``mqtt://user:***@host`` (for error messages)."""
    scheme, sep, rest = url.partition("://")
    if not sep:
        scheme, rest = "", url
    userinfo, at, host = rest.rpartition("@")
    if not at or ":" not in userinfo:
        return url
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user}:***@{host}"


@dataclass(frozen=True)
class Will:
    topic: str
    payload: bytes
    retain: bool = True


def _payload(value: Any) -> bytes:
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    if value is None:
        return b""
    return str(value).encode()


class Transport:
    """One MQTT connection of one participant.

    Outgoing messages go through one queue and one publisher task, in order. :meth:`send`
    never waits, so a message handler can publish while the connection is down without
    blocking the very loop that would reconnect it; :meth:`publish` waits until the broker
    has the message (PUBACK)."""

    def __init__(
        self,
        url: BrokerUrl,
        client_id: str,
        subscriptions: list[str],
        *,
        will: Will | Callable[[int], Will] | None = None,
        clean_session: bool = False,
        keepalive: int = 10,
        timeout: float = 5.0,
    ) -> None:
        self.url = url
        self.client_id = client_id
        self.subscriptions = list(subscriptions)
        self.will = will
        self.clean_session = clean_session
        self.keepalive = keepalive
        self.timeout = timeout
        self._client: aiomqtt.Client | None = None
        self._connected = asyncio.Event()
        self._closing = False
        self._outbox: asyncio.Queue[_Outgoing] = asyncio.Queue()
        self._idle = asyncio.Event()
        self._idle.set()
        #: Connections made so far; the n-th connection (1-based) is this object's session n.
        self.connections = 0
        #: Messages whose handling raised (logged; the reader went on).
        self.handler_failures = 0

    def _make_client(self) -> aiomqtt.Client:
        will = self.will(self.connections + 1) if callable(self.will) else self.will
        return aiomqtt.Client(
            self.url.host,
            self.url.port,
            username=self.url.username,
            password=self.url.password,
            identifier=self.client_id,
            clean_session=self.clean_session,
            will=aiomqtt.Will(will.topic, will.payload, qos=1, retain=will.retain) if will else None,
            keepalive=self.keepalive,
            timeout=self.timeout,
            socket_options=NODELAY,
        )

    @property
    def connected(self) -> bool:
        return self._connected.is_set()

    async def wait_connected(self, timeout: float | None = None) -> None:
        await asyncio.wait_for(self._connected.wait(), timeout)

    async def run(
        self,
        handler: Handler,
        *,
        on_connect: Callable[[int], Awaitable[None]] | None = None,
        first_attempt_window: float = 12.0,
        max_backoff: float = 2.0,
    ) -> None:
        """Connect, subscribe, deliver messages to ``handler``; reconnect until :meth:`close`.

        ``on_connect`` gets the connection number after every (re)connection. A broker that
        cannot be reached within ``first_attempt_window`` seconds raises
        :class:`BrokerUnavailable` instead of being retried forever. (A few retries are needed
        even on a healthy broker: amqtt 0.12 can reset a connection that arrives while another
        client subscribes.)"""
        publisher = asyncio.create_task(self._publisher(), name=f"publish-{self.client_id}")
        backoff = 0.05
        give_up_at = monotonic() + first_attempt_window
        try:
            while not self._closing:
                try:
                    async with self._make_client() as client:
                        self._client = client
                        for topic in self.subscriptions:
                            await client.subscribe(topic, qos=1)
                        self.connections += 1
                        if self.connections > 1:
                            log.info("reconnected", client=self.client_id, connections=self.connections)
                        self._connected.set()
                        backoff = 0.05
                        if on_connect is not None:
                            await on_connect(self.connections)
                        async for message in client.messages:
                            await self._deliver(handler, str(message.topic), _payload(message.payload), message.retain)
                except aiomqtt.MqttError as exc:
                    self._connected.clear()
                    self._client = None
                    if self._closing:
                        return
                    if _refused_credentials(exc):
                        # Retrying will not help: say so at once, whatever the phase.
                        raise BrokerUnavailable(
                            str(self.url), f"{exc} (check --username / --password-file for {self.client_id})"
                        ) from exc
                    first = self.connections == 0
                    if first and monotonic() >= give_up_at:
                        raise BrokerUnavailable(str(self.url), str(exc)) from exc
                    # Not yet connected even once: keep quiet while we retry (it is not news yet).
                    (log.debug if first else log.warning)(
                        "connection_lost", client=self.client_id, error=str(exc), retry_in=backoff
                    )
                    await pause(backoff)
                    backoff = min(backoff * 2, max_backoff)
                finally:
                    self._connected.clear()
                    self._client = None
        finally:
            publisher.cancel()
            await asyncio.gather(publisher, return_exceptions=True)
            # Whoever still waits for a publish to be acknowledged must not wait forever.
            while not self._outbox.empty():
                item = self._outbox.get_nowait()
                if item.done is not None and not item.done.done():
                    item.done.set_exception(BrokerUnavailable(str(self.url), "the connection was closed"))

    async def _deliver(self, handler: Handler, topic: str, payload: bytes, retain: object) -> None:
        """Hand one message to the participant. Whatever goes wrong handling it (a bug: input is
        admitted before it is handled) is logged with its traceback and does not stop the reader:
        one message must never take a participant off the exercise."""
        try:
            await handler(topic, payload, bool(retain))
        except Exception:
            self.handler_failures += 1
            log.exception("handler_failed", client=self.client_id, topic=topic[:200], size=len(payload))

    def send(
        self, topic: str, payload: bytes, *, retain: bool = False, on_acked: Callable[[], None] | None = None
    ) -> None:
        """Queue a QoS 1 publish; returns at once. Order is kept. ``on_acked`` is called once the
        broker has it (PUBACK)."""
        self._idle.clear()
        self._outbox.put_nowait(_Outgoing(topic, payload, retain, None, on_acked))

    async def publish(self, topic: str, payload: bytes, *, retain: bool = False) -> None:
        """Queue a QoS 1 publish and wait until the broker acknowledged it."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._idle.clear()
        self._outbox.put_nowait(_Outgoing(topic, payload, retain, done, None))
        await done

    async def drain(self, timeout: float | None = None) -> None:
        """Wait until everything queued so far has been acknowledged by the broker."""
        await asyncio.wait_for(self._idle.wait(), timeout)

    async def _publisher(self) -> None:
        while True:
            item = await self._outbox.get()
            while True:
                await self._connected.wait()
                client = self._client
                if client is None:
                    await pause(0.01)
                    continue
                try:
                    await client.publish(item.topic, item.payload, qos=1, retain=item.retain)
                except aiomqtt.MqttError as exc:
                    # Repeated once the connection is back (the reader notices a lost connection
                    # and reconnects): QoS 1 is at-least-once anyway, and every receiver handles
                    # a message id once.
                    log.warning("publish_retry", client=self.client_id, topic=item.topic, error=str(exc))
                    await pause(0.05)
                    continue
                break
            if item.done is not None and not item.done.done():
                item.done.set_result(None)
            if item.on_acked is not None:
                item.on_acked()
            if self._outbox.empty():
                self._idle.set()

    async def close(self) -> None:
        """Stop :meth:`run` (the caller cancels its task after publishing a clean goodbye)."""
        self._closing = True


#: CONNACK codes that mean "these credentials will never be accepted" (MQTT 3.1.1 4 and 5,
#: MQTT 5 reason codes 134 and 135).
_CREDENTIALS_REFUSED = {4, 5, 134, 135}


def _refused_credentials(exc: aiomqtt.MqttError) -> bool:
    if not isinstance(exc, aiomqtt.MqttCodeError):
        return False
    rc = exc.rc
    value = getattr(rc, "value", rc)
    return isinstance(value, int) and value in _CREDENTIALS_REFUSED


@dataclass(frozen=True)
class _Outgoing:
    topic: str
    payload: bytes
    retain: bool
    done: asyncio.Future[None] | None
    on_acked: Callable[[], None] | None


@dataclass(frozen=True)
class Connector:
    """Opens clean-session connections to one broker for watchers (dashboards, consoles): what
    ``tui`` receives from the composition root instead of importing this module."""

    url: BrokerUrl

    @property
    def label(self) -> str:
        return str(self.url)

    def __call__(self, client_id: str, subscriptions: list[str]) -> Transport:
        return Transport(self.url, client_id, subscriptions, clean_session=True)
