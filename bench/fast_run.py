"""Fast-mode benchmark: the election scenario end to end, on the embedded amqtt broker and on
Mosquitto (started from broker.conf), median of N runs each.

Shared machines are noisy, so every figure comes with a baseline measured in the same run:
the median QoS 1 ping-pong round trip between two clients on the same broker. The ratio
"wall per round / round trip" says how many broker round trips a fast-mode round costs.

    python bench/fast_run.py [--runs 5] [--scenario election-interference]
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import tempfile
import time
from pathlib import Path

import aiomqtt

from sim.runtime.broker import REPO_BROKER_CONF, EmbeddedBroker, MosquittoBroker
from sim.runtime.exercise import run_fast
from sim.runtime.logs import configure
from sim.runtime.transport import NODELAY, BrokerUrl
from sim.scenario.load import find_scenario, load_scenario


async def ping_pong(url: BrokerUrl, rounds: int = 200) -> float:
    """Median QoS 1 round trip (seconds) between two clients: publish → echo → receive."""
    async with (
        aiomqtt.Client(url.host, url.port, identifier="bench-a", socket_options=NODELAY) as a,
        aiomqtt.Client(url.host, url.port, identifier="bench-b", socket_options=NODELAY) as b,
    ):
        await a.subscribe("bench/a", qos=1)
        await b.subscribe("bench/b", qos=1)

        async def echo() -> None:
            async for message in b.messages:
                await b.publish("bench/a", message.payload, qos=1)

        echo_task = asyncio.create_task(echo())
        samples = []
        incoming = a.messages
        for n in range(rounds):
            start = time.perf_counter()
            await a.publish("bench/b", str(n).encode(), qos=1)
            try:
                while True:  # a late echo of an earlier round is not this round's answer
                    message = await asyncio.wait_for(anext(incoming), 5)
                    if message.payload == str(n).encode():
                        break
            except TimeoutError:
                continue  # a lost round trip is not a sample
            samples.append(time.perf_counter() - start)
        echo_task.cancel()
        await asyncio.gather(echo_task, return_exceptions=True)
    return statistics.median(samples)


async def measure(url: BrokerUrl, scenario: str, runs: int) -> dict[str, float]:
    loaded = load_scenario(find_scenario(scenario))
    rtt = await ping_pong(url)
    walls, rounds, messages = [], 0, 0
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(runs):
            start = time.perf_counter()
            result = await run_fast(loaded, broker=url, journal_path=Path(tmp) / f"{i}.jsonl", exercise=f"bench{i}")
            walls.append(time.perf_counter() - start)
            rounds = result.stats.rounds
            messages = len({m.envelope.id for m in result.state.messages})
            assert result.ok, "the benchmark scenario must meet its expectations"
    wall = statistics.median(walls)
    return {"wall": wall, "rounds": rounds, "messages": messages, "rtt": rtt, "per_round": wall / max(rounds, 1)}


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--scenario", default="election-interference")
    args = parser.parse_args()
    configure()
    results = {}
    async with EmbeddedBroker() as embedded:
        results["amqtt (embedded)"] = await measure(embedded.url, args.scenario, args.runs)
    async with MosquittoBroker(REPO_BROKER_CONF, anonymous=True) as mosquitto:
        results["mosquitto"] = await measure(mosquitto.url, args.scenario, args.runs)
    print(f"scenario {args.scenario}: median of {args.runs} runs (each run includes connecting all clients)")
    print(f"{'broker':<18} {'wall s':>7} {'rounds':>6} {'msgs':>5} {'ms/round':>9} {'rtt ms':>7} {'round/rtt':>9}")
    for name, r in results.items():
        print(
            f"{name:<18} {r['wall']:7.3f} {r['rounds']:6.0f} {r['messages']:5.0f} {r['per_round'] * 1e3:9.2f} "
            f"{r['rtt'] * 1e3:7.3f} {r['per_round'] / r['rtt']:9.1f}"
        )


if __name__ == "__main__":
    asyncio.run(main())
