"""Mosquitto with the generated users, passwords and ACL: each participant can do exactly what
DESIGN §4 says, and a whole exercise runs with everyone authenticated."""

from __future__ import annotations

import asyncio
import hashlib
import stat
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import aiomqtt
import pytest

from sim.runtime.broker import MosquittoBroker
from sim.runtime.brokerconfig import BrokerFiles, write_broker_files
from sim.runtime.exercise import run_fast
from sim.runtime.transport import NODELAY, BrokerUrl
from sim.scenario.load import load_scenario
from tests.conftest import SCENARIOS
from tests.integration.helpers import open_wire, run_scenario

pytestmark = pytest.mark.integration

ELECTION = SCENARIOS / "election-interference.yaml"


@pytest.fixture
async def secured(tmp_path: Path) -> AsyncIterator[tuple[MosquittoBroker, BrokerFiles]]:
    files = write_broker_files(load_scenario(ELECTION).scenario, tmp_path / "broker")
    async with MosquittoBroker(files.conf, anonymous=False) as mosquitto:
        yield mosquitto, files


def as_user(mosquitto: MosquittoBroker, files: BrokerFiles, user: str) -> BrokerUrl:
    return mosquitto.url.with_credentials(user, files.password_file(user).read_text().strip())


def test_passwords_are_written_once_with_mode_0600(tmp_path: Path) -> None:
    scenario = load_scenario(ELECTION).scenario
    first = write_broker_files(scenario, tmp_path)
    secret = first.password_file("us-cert").read_text()
    assert len(secret.strip()) >= 24
    assert stat.S_IMODE(first.password_file("us-cert").stat().st_mode) == 0o600
    assert stat.S_IMODE(first.passwd.stat().st_mode) == 0o600
    assert set(first.created) == {"director", "observer", "facilitator", *(a.id for a in scenario.agencies)}
    again = write_broker_files(scenario, tmp_path)
    assert again.created == ()
    assert first.password_file("us-cert").read_text() == secret, "running it again keeps the passwords"
    assert secret.strip() not in first.passwd.read_text(), "the broker's file holds hashes only"
    rotated = write_broker_files(scenario, tmp_path, rotate=True)
    assert rotated.password_file("us-cert").read_text() != secret


async def test_a_spoofed_sender_never_reaches_the_recipient(secured: tuple[MosquittoBroker, BrokerFiles]) -> None:
    mosquitto, files = secured
    async with (
        open_wire(as_user(mosquitto, files, "ru-cert"), "ex", subscribe="hotline/v1/ex/msg/ru-cert/+") as inbox,
        aiomqtt.Client(
            mosquitto.url.host,
            mosquitto.port,
            identifier="spoofer",
            username="us-cert",
            password=files.password_file("us-cert").read_text().strip(),
            socket_options=NODELAY,
        ) as c,
    ):
        # us-cert's credentials publishing as if it were us-nrrc: the broker drops it silently…
        await c.publish("hotline/v1/ex/msg/ru-cert/us-nrrc", b'{"spoof": true}', qos=1)
        # …while its own message, published after, arrives. Same client, same order: had the
        # spoof been delivered, it would have come first.
        await c.publish("hotline/v1/ex/msg/ru-cert/us-cert", b'{"legit": true}', qos=1)
        topic, payload = await inbox.wait_for(lambda t, p: True)
        assert topic == "hotline/v1/ex/msg/ru-cert/us-cert"
        assert payload == {"legit": True}
        assert len(inbox.seen) == 1


async def test_each_role_reads_and_writes_only_what_it_may(secured: tuple[MosquittoBroker, BrokerFiles]) -> None:
    mosquitto, files = secured
    async with (
        open_wire(as_user(mosquitto, files, "observer"), "ex", subscribe="hotline/#", client_id="watch") as observer,
        open_wire(as_user(mosquitto, files, "us-cert"), "ex", client_id="us-cert-wire") as us_cert,
        open_wire(as_user(mosquitto, files, "facilitator"), "ex", client_id="fac") as facilitator,
        open_wire(as_user(mosquitto, files, "director"), "ex", client_id="dir") as director,
    ):
        await observer.publish("hotline/v1/ex/msg/ru-cert/us-cert", b"{}")  # observers write nothing
        await director.publish("hotline/v1/ex/msg/ru-cert/us-nrrc", b"{}")  # the director never speaks for an agency
        await facilitator.publish("hotline/v1/ex/ctl/clock", b'{"forged": 1}')  # only the director may
        await facilitator.publish("hotline/v1/ex/ctl/cmd/facilitator", b'{"id": "x", "action": "pause"}')
        topic, _ = await observer.wait_for(lambda t, p: t.endswith("/ctl/cmd/facilitator"))
        assert [t for t, _ in observer.seen] == [topic], "only the facilitator's command got through"
        await us_cert.publish("hotline/v1/ex/msg/ru-cert/us-cert", b'{"to": "ru-cert"}')
        await observer.wait_for(lambda t, p: t == "hotline/v1/ex/msg/ru-cert/us-cert")
        # us-cert subscribed to all of the exercise but reads only its own inbox, presence and of
        # the control topics the clock, status, links and its own injects: not ru-cert's script,
        # not the facilitator's commands, not the mail it sent to ru-cert.
        await director.publish("hotline/v1/ex/ctl/inject/ru-cert", b'{"theirs": 1}')
        await director.publish("hotline/v1/ex/ctl/inject/us-cert", b'{"mine": 1}')
        await us_cert.wait_for(lambda t, p: t.endswith("/ctl/inject/us-cert"))
        assert [t for t, _ in us_cert.seen] == ["hotline/v1/ex/ctl/inject/us-cert"]


async def test_wrong_password_is_refused(secured: tuple[MosquittoBroker, BrokerFiles]) -> None:
    mosquitto, _ = secured
    with pytest.raises(aiomqtt.MqttError):
        async with aiomqtt.Client(mosquitto.url.host, mosquitto.port, username="us-cert", password="guess"):
            pass


@pytest.mark.timeout(60)
async def test_an_authenticated_exercise_gives_the_same_journal(
    secured: tuple[MosquittoBroker, BrokerFiles], tmp_path: Path, amqtt_url: BrokerUrl
) -> None:
    mosquitto, files = secured
    loaded = load_scenario(ELECTION)
    users = ["director", *(a.id for a in loaded.scenario.agencies)]
    result = await run_fast(
        loaded,
        broker=mosquitto.url,
        journal_path=tmp_path / "secured.jsonl",
        credentials={u: as_user(mosquitto, files, u) for u in users},
    )
    assert result.ok
    reference = await run_scenario(ELECTION, amqtt_url, tmp_path, name="open.jsonl")
    assert (
        hashlib.sha256(result.journal.read_bytes()).digest() == hashlib.sha256(reference.journal.read_bytes()).digest()
    )


async def test_hotline_run_with_the_credentials_folder(
    secured: tuple[MosquittoBroker, BrokerFiles], tmp_path: Path
) -> None:
    """`hotline run --broker … --credentials DIR`: every participant logs in as itself."""
    mosquitto, files = secured
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sim",
        "run",
        "election-interference",
        "--fast",
        "--broker",
        str(mosquitto.url),
        "--credentials",
        str(files.credentials),
        "--out",
        str(tmp_path),
        "-q",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, errors = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode == 0, out.decode() + errors.decode()
    assert "delivery: all" in out.decode()
    # and without credentials the broker says no, at once and plainly
    refused = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "sim",
        "run",
        "election-interference",
        "--fast",
        "--broker",
        str(mosquitto.url),
        "--out",
        str(tmp_path),
        "-q",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, errors = await asyncio.wait_for(refused.communicate(), 30)
    assert refused.returncode == 3
    assert "not authori" in errors.decode().lower()
