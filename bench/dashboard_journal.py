"""A synthetic journal of any size for the dashboard benchmarks: the election scenario's header,
then plausible traffic — clock grants, protocol messages on the CERT and NRRC links across many
incidents, obligations opened and met or missed, link fates — in the journal's own line format.

    python bench/dashboard_journal.py OUT.jsonl [--entries 100000]
"""

from __future__ import annotations

import argparse
import json
import random
from datetime import datetime, timedelta
from pathlib import Path

from sim.model.control import ClockState
from sim.model.journal import Entry, JournalHeader
from sim.model.links import Fate
from sim.model.messages import (
    Ack,
    Body,
    EarlyWarning,
    Envelope,
    IncidentUpdate,
    Kind,
    Position,
    ProvideInfo,
    RequestInfo,
    StandDown,
    Warning,
    encode,
)
from sim.model.obligations import Obligation, Status
from sim.model.observations import LinkObs, ObligationObs, encode_obs
from sim.model.topics import Topics
from sim.runtime.journal import versions
from sim.scenario.load import find_scenario, load_scenario

EXERCISE = "bench-dashboard"
PAIRS = (("us-cert", "ru-cert", "cert"), ("ru-cert", "us-cert", "cert"), ("us-nrrc", "ru-nrrc", "nrrc"))


def _body(kind: Kind, at: datetime, n: int) -> Body:
    match kind:
        case Kind.EARLY_WARNING:
            return EarlyWarning(
                summary=f"intrusion {n}", aware_at=at, suspected_malicious=True, cross_border=True, indicators=("x",)
            )
        case Kind.INCIDENT_UPDATE:
            return IncidentUpdate(severity=n % 5, impact="records altered")
        case Kind.REQUEST_INFO:
            return RequestInfo(questions=("who?", "what?"))
        case Kind.WARNING:
            return Warning(demand="stop", basis="evidence")
        case Kind.STAND_DOWN:
            return StandDown(root_cause="criminal group", closure="closed")
        case _:
            raise ValueError(kind)


def write_journal(out: Path, entries: int, *, seed: int = 7) -> int:
    """Write a journal of about ``entries`` entries; returns the exact count."""
    loaded = load_scenario(find_scenario("election-interference"))
    sc = loaded.scenario
    topics = Topics(EXERCISE)
    rng = random.Random(seed)
    header = JournalHeader(
        exercise=EXERCISE,
        mode="fast",
        seed=seed,
        scenario_sha256=loaded.sha256,
        scenario=sc,
        agreement=loaded.agreement,
        versions=versions(),
    )
    seqs: dict[str, int] = {}
    written = 0
    exchanges = max(1, int(entries / 6.8))  # about 6.8 entries per exchange
    step = timedelta(seconds=int(sc.duration.total_seconds() / (exchanges + 1)))
    incidents = [f"BX-{i}" for i in range(max(4, exchanges // 60))]
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("w", encoding="utf-8") as fh:
        fh.write(header.model_dump_json(exclude_none=True, by_alias=True) + "\n")

        def put(t: datetime, topic: str, payload: bytes) -> None:
            nonlocal written
            fh.write(Entry(t=t, topic=topic, payload=json.loads(payload)).line() + "\n")
            written += 1

        def send(t: datetime, sender: str, to: str, channel: str, body: Body, incident: str,
                 ref: str | None = None) -> Envelope:  # fmt: skip
            seqs[sender] = seqs.get(sender, 0) + 1
            env = Envelope(
                id=f"{sender}-{seqs[sender]}",
                exercise=EXERCISE,
                sender=sender,
                recipient=to,
                channel=channel,
                incident=incident,
                ref=ref,
                seq=seqs[sender],
                sent_at=t,
                arrives_at=t + timedelta(minutes=2),
                severity=rng.randint(0, 5),
                body=body,
            )
            put(t, topics.msg(to, sender), encode(env))
            return env

        kinds = (Kind.EARLY_WARNING, Kind.INCIDENT_UPDATE, Kind.REQUEST_INFO, Kind.WARNING, Kind.STAND_DOWN)
        n = -1
        while written < entries:
            n += 1
            t = sc.start + step * (n + 1)
            clock = ClockState(mode="fast", round=n + 1, now=t, start=sc.start, end=sc.end)
            put(t, topics.clock, clock.model_dump_json(exclude_none=True).encode())
            sender, to, channel = PAIRS[n % len(PAIRS)]
            incident = rng.choice(incidents)
            kind = kinds[n % len(kinds)]
            env = send(t, sender, to, channel, _body(kind, t, n), incident)
            fate = Fate.LOST if rng.random() < 0.01 else Fate.DELIVERED
            put(t, topics.obs(sender), encode_obs(LinkObs(agency=sender, at=t, fate=fate, message=env.id,
                channel=channel, recipient=to, kind=kind, incident=incident)))  # fmt: skip
            answer_kind = Kind.PROVIDE_INFO if kind is Kind.REQUEST_INFO else Kind.ACK
            ob = Obligation(id=f"{env.id}#answer", rule="answer", owner=to, counterparty=sender, incident=incident,
                trigger=env.id, trigger_kind=kind, kinds=(answer_kind,), channel=channel,
                opened_at=t + timedelta(minutes=2), due_at=t + timedelta(hours=1))  # fmt: skip
            put(t, topics.obs(to), encode_obs(ObligationObs(agency=to, at=t, status=Status.OPEN, obligation=ob)))
            late = t + step / 2
            if rng.random() < 0.85:
                body: Body = (
                    ProvideInfo(position=Position.INVESTIGATING)
                    if answer_kind is Kind.PROVIDE_INFO
                    else Ack(received_at=t + timedelta(minutes=2))
                )
                send(late, to, sender, channel, body, incident, ref=env.id)
                done = ob.model_copy(update={"status": Status.MET, "closed_at": late})
                put(late, topics.obs(to), encode_obs(ObligationObs(agency=to, at=late, status=Status.MET,
                    obligation=done)))  # fmt: skip
            else:
                missed = ob.model_copy(update={"status": Status.MISSED, "closed_at": ob.due_at})
                put(late, topics.obs(to), encode_obs(ObligationObs(agency=to, at=late, status=Status.MISSED,
                    obligation=missed)))  # fmt: skip
            put(late, topics.clock, clock.model_copy(update={"round": n + 1, "now": late}).model_dump_json().encode())
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--entries", type=int, default=100_000)
    args = parser.parse_args()
    count = write_journal(args.out, args.entries)
    print(f"wrote {args.out}: {count} entries, {args.out.stat().st_size / 1e6:.1f} MB")


if __name__ == "__main__":
    main()
