"""Two or four agency nodes exchanging protocol messages through a real broker."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path

import pytest

from sim.runtime.transport import BrokerUrl
from tests.conftest import TEST_SCENARIOS
from tests.integration.helpers import messages, observations, run_scenario

pytestmark = pytest.mark.integration


async def test_early_warning_is_acknowledged(broker: BrokerUrl, tmp_path: Path) -> None:
    result = await run_scenario(TEST_SCENARIOS / "two-certs.yaml", broker, tmp_path)
    sent = messages(result.journal)
    kinds = [(m["sender"], m["recipient"], m["body"]["kind"]) for m in sent]
    assert kinds == [("aa-cert", "bb-cert", "EARLY_WARNING"), ("bb-cert", "aa-cert", "ACK")]
    warning, ack = sent
    assert ack["ref"] == warning["id"]
    assert ack["channel"] == "cert"
    # the ACK was sent 10 minutes after the warning arrived (policy ack_delay [10m, 10m]... +2m latency)
    assert warning["arrives_at"] == "2026-01-01T00:42:00Z"
    met = [o for o in observations(result.journal, "obligation") if o["status"] == "met"]
    assert [o["obligation"]["trigger"] for o in met] == [warning["id"]]
    assert result.ok, [v.found for v in result.verdicts if not v.ok]


async def test_missed_ack_is_retried_then_escalated_to_nrrc(broker: BrokerUrl, tmp_path: Path) -> None:
    result = await run_scenario(TEST_SCENARIOS / "silent-counterpart.yaml", broker, tmp_path)
    sent = messages(result.journal)
    warnings = [m for m in sent if m["body"]["kind"] == "EARLY_WARNING"]
    assert len(warnings) == 2, "the original and exactly one retry (retry: 1)"
    original, retry = warnings
    assert retry["ref"] == original["id"]
    retries = observations(result.journal, "retry")
    assert [r["message"] for r in retries] == [retry["id"]]
    escalations = observations(result.journal, "escalate")
    assert len(escalations) == 1
    assert escalations[0]["channel"] == "nrrc"
    assert escalations[0]["why"] == "no_answer"
    referral = next(m for m in sent if m["body"]["kind"] == "REFERRAL")
    assert (referral["sender"], referral["recipient"], referral["channel"]) == ("aa-cert", "aa-nrrc", "domestic")
    inquiry = next(m for m in sent if m["body"]["kind"] == "REQUEST_INFO")
    assert (inquiry["sender"], inquiry["recipient"], inquiry["channel"]) == ("aa-nrrc", "bb-nrrc", "nrrc")
    missed = [o["obligation"] for o in observations(result.journal, "obligation") if o["status"] == "missed"]
    assert [(o["owner"], o["trigger"]) for o in missed] == [("bb-cert", original["id"])]
    assert result.state.ladder.peak("INC-2")[0] == 2
    assert result.ok


async def test_runs_on_one_broker_do_not_collide(amqtt_url: BrokerUrl, tmp_path: Path) -> None:
    """Each exercise lives under its own topic prefix."""
    first, second = await asyncio.gather(
        run_scenario(
            TEST_SCENARIOS / "two-certs.yaml", amqtt_url, tmp_path, exercise=f"a{uuid.uuid4().hex[:8]}", name="a.jsonl"
        ),
        run_scenario(
            TEST_SCENARIOS / "two-certs.yaml", amqtt_url, tmp_path, exercise=f"b{uuid.uuid4().hex[:8]}", name="b.jsonl"
        ),
    )
    assert len(messages(first.journal)) == len(messages(second.journal)) == 2
    assert first.ok
    assert second.ok
