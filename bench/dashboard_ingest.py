"""Live ingest benchmark: how fast the dashboard takes in a flood of exercise traffic from the
broker (received, folded into its model, the screen redrawn at its bounded rate), against the
raw rate at which the same broker delivers the same messages to a bare aiomqtt subscriber in
the same run. Target: the dashboard sustains ≥ 0.8 of the raw rate.

Four processes, so that no two of them share an interpreter: Mosquitto (from broker.conf), the
raw subscriber, the dashboard (the real app, headless, 120×40) and a publisher that sends N
journal payloads (synthetic traffic: messages, observations, clock grants) at QoS 1 as fast as
the broker takes them. Each subscriber times its first and last message.

    python bench/dashboard_ingest.py [--messages 20000] [--runs 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

EXERCISE = "bench-dashboard"
HERE = Path(__file__).resolve().parent


# -- roles (each runs in its own process) -------------------------------------------------------


async def raw_subscriber(port: int, count: int) -> dict[str, float]:
    import aiomqtt

    from sim.runtime.transport import NODELAY

    async with aiomqtt.Client("127.0.0.1", port, identifier="bench-raw", socket_options=NODELAY) as client:
        await client.subscribe(f"hotline/v1/{EXERCISE}/#", qos=1)
        print("ready", flush=True)
        first, n = 0.0, 0
        async for _message in client.messages:
            n += 1
            if n == 1:
                first = time.monotonic()
            if n >= count:
                break
        return {"first": first, "last": time.monotonic(), "count": n}


async def dashboard(port: int, count: int) -> dict[str, float]:
    from sim.runtime.transport import BrokerUrl, Connector
    from sim.scenario.load import find_scenario, load_scenario
    from tui.app import DashboardApp
    from tui.control.live import LiveController
    from tui.live import LiveFeed

    loaded = load_scenario(find_scenario("election-interference"))
    feed = LiveFeed(Connector(BrokerUrl("127.0.0.1", port)), EXERCISE, "bench", loaded=loaded)
    app = DashboardApp(LiveController(feed))
    marks: dict[str, float] = {}
    done = asyncio.Event()

    async def watch() -> None:
        await feed.transport.wait_connected(30)
        print("ready", flush=True)
        await done.wait()
        app.exit()

    original = feed.handle

    async def handle(topic: str, payload: bytes, retained: bool) -> None:
        await original(topic, payload, retained)
        now = time.monotonic()
        marks.setdefault("first", now)
        if feed.stats.received >= count:
            marks.setdefault("last", now)
            done.set()

    feed.handle = handle  # type: ignore[method-assign]
    task = asyncio.create_task(watch())
    await app.run_async(headless=True, size=(120, 40))
    task.cancel()
    return {
        "first": marks["first"],
        "last": marks["last"],
        "count": feed.stats.received,
        "applied": feed.stats.applied,
        "frames": app.painted,
        "messages_in_model": len(feed.model.messages()) if feed.model else 0,
    }


def publisher(port: int, payloads: Path) -> None:
    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    lines = [json.loads(line) for line in payloads.read_text().splitlines()]
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-pub")
    client.max_inflight_messages_set(1000)
    client.max_queued_messages_set(0)
    client.connect("127.0.0.1", port)
    client.loop_start()
    started = time.monotonic()
    infos = [client.publish(e["topic"], json.dumps(e["payload"]).encode(), qos=1) for e in lines]
    for info in infos:
        info.wait_for_publish()
    print(json.dumps({"published": len(lines), "seconds": time.monotonic() - started}), flush=True)
    client.loop_stop()
    client.disconnect()


# -- the run ----------------------------------------------------------------------------------------


def _spawn(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(Path(__file__)), *args], stdout=subprocess.PIPE, text=True, cwd=HERE.parent
    )


def _wait_ready(proc: subprocess.Popen[str]) -> None:
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if line.strip() != "ready":
        raise SystemExit(f"a subscriber did not start: {line!r}")


def one_run(port: int, payloads: Path, count: int, tmp: Path) -> tuple[float, float, float, dict[str, int]]:
    raw_out, dash_out = tmp / "raw.json", tmp / "dash.json"
    raw = _spawn("--role", "raw", "--port", str(port), "--messages", str(count), "--out", str(raw_out))
    _wait_ready(raw)
    dash = _spawn("--role", "dashboard", "--port", str(port), "--messages", str(count), "--out", str(dash_out))
    _wait_ready(dash)
    pub = _spawn("--role", "publish", "--port", str(port), "--payloads", str(payloads))
    pub_out, _ = pub.communicate(timeout=300)
    for proc in (raw, dash):
        proc.wait(timeout=300)
    r, d = json.loads(raw_out.read_text()), json.loads(dash_out.read_text())
    p = json.loads(pub_out)
    raw_rate = (r["count"] - 1) / (r["last"] - r["first"])
    dash_rate = (d["count"] - 1) / (d["last"] - d["first"])
    pub_rate = p["published"] / p["seconds"]
    return raw_rate, dash_rate, pub_rate, {k: d[k] for k in ("applied", "frames", "messages_in_model")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--role", choices=["raw", "dashboard", "publish"])
    parser.add_argument("--port", type=int)
    parser.add_argument("--messages", type=int, default=20_000)
    parser.add_argument("--out", type=Path)
    parser.add_argument("--payloads", type=Path)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.role == "raw":
        args.out.write_text(json.dumps(asyncio.run(raw_subscriber(args.port, args.messages))))
        return
    if args.role == "dashboard":
        args.out.write_text(json.dumps(asyncio.run(dashboard(args.port, args.messages))))
        return
    if args.role == "publish":
        publisher(args.port, args.payloads)
        return
    asyncio.run(orchestrate(args.messages, args.runs))


async def orchestrate(count: int, runs: int) -> None:
    sys.path.insert(0, str(HERE))
    from dashboard_journal import write_journal

    from sim.runtime.broker import MosquittoBroker

    with tempfile.TemporaryDirectory(prefix="hotline-ingest-") as name:
        tmp = Path(name)
        journal = tmp / "journal.jsonl"
        write_journal(journal, count + 10)
        payloads = tmp / "payloads.jsonl"
        payloads.write_text("\n".join(journal.read_text().splitlines()[1 : count + 1]) + "\n")
        ratios = []
        for n in range(runs):
            async with MosquittoBroker() as broker:
                raw, dash, pub, info = await asyncio.to_thread(one_run, broker.port, payloads, count, tmp)
            ratios.append(dash / raw)
            print(
                f"run {n + 1}: raw subscriber {raw:7.0f} msg/s · dashboard {dash:7.0f} msg/s · "
                f"ratio {dash / raw:.2f} · publisher {pub:7.0f} msg/s · {info}"
            )
        median = statistics.median(ratios)
        print(f"\nmedian dashboard / raw ingest ratio: {median:.2f} (target ≥ 0.8), {count} messages")


if __name__ == "__main__":
    main()
