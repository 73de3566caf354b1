"""The view model over the fixture journal: what the journal records (messages, obligations,
expectations, the ladder, the director's tally), each message's fate — lost and rejected from
real link and rejection observations — lanes, pending obligations with countdowns, agencies
and links."""

from __future__ import annotations

from datetime import timedelta

from sim.evaluation.journalfile import read_entries, read_header
from sim.model.journal import Entry
from sim.model.links import Fate
from sim.model.messages import Kind, RejectReason
from sim.model.obligations import Status
from sim.model.observations import LinkObs, RejectedObs, encode_obs
from sim.model.topics import Topics
from tui.model import NO_INCIDENT, DashboardModel, DisplayFate
from tui.panels import countdown

from .helpers import JOURNAL, folded


def test_the_model_holds_what_the_journal_records() -> None:
    model = folded()
    state = model.state
    assert model.now == model.scenario.end
    # 19 protocol messages on msg/…, and the director's closing tally agrees.
    assert len(model.messages()) == 19
    assert [e.envelope.id for e in model.messages()][:4] == ["us-cert-1", "us-cert-2", "us-cert-3", "ru-cert-1"]
    assert state.tally is not None
    assert (state.tally.sent, state.tally.received, state.tally.missing) == (19, 19, ())
    # The last obligation observation of each obligation.
    assert {k: o.status for k, o in state.obligations.items()} == {
        "us-cert-1#answer": Status.MISSED,
        "us-cert-2#follow_up": Status.MET,
        "us-cert-2#answer": Status.MISSED,
        "us-nrrc-1#answer": Status.MET,
        "ru-cert-2#follow_up": Status.MET,
        "ru-cert-2#answer": Status.MET,
        "us-nrrc-4#follow_up": Status.OPEN,
        "us-cert-9#follow_up": Status.OPEN,
    }
    assert {k: e.status for k, e in state.expectations.items()} == {
        "us-cert-1#expect": Status.MISSED,
        "us-cert-2#expect": Status.MET,
        "us-nrrc-1#expect": Status.MET,
        "ru-cert-2#expect": Status.MET,
    }
    # The ladder: EI-1 peaks at the WARNING of T+30:00 and stands down; EI-2 stays at its early warning.
    start = model.scenario.start
    assert state.ladder.peak("EI-1") == (4, start + timedelta(hours=30))
    assert state.ladder.peak("EI-2") == (1, start + timedelta(hours=40, minutes=32))
    assert state.ladder.levels == {"EI-1": 0, "EI-2": 1}
    assert model.level_name(4) == "POLITICAL WARNING"
    # The CERT link was down for us-cert's update at T+22:37: refused, never published.
    assert model.fate("us-cert-6") is DisplayFate.REJECTED
    assert model.envelope("us-cert-6") is None


def test_fates_of_the_election_run() -> None:
    model = folded()
    # ru-cert missed the hour for its ACK of the first early warning (answered late).
    assert model.fate("us-cert-2") is DisplayFate.OVERDUE
    # The retry was answered (the ACK met the expectation).
    assert model.fate("us-cert-3") is DisplayFate.ACKED
    # The comm check never got its reply within 24 h.
    assert model.fate("us-cert-1") is DisplayFate.OVERDUE
    # The formal inquiry was answered within 48 h.
    assert model.fate("us-nrrc-1") is DisplayFate.ACKED
    # A plain referral obliges nothing: sent.
    assert model.fate("us-cert-5") is DisplayFate.SENT


def test_lost_and_rejected_messages_are_marked() -> None:
    model = folded()
    topics = Topics(model.exercise)
    at = model.scenario.start + timedelta(hours=9, minutes=35)  # when us-cert sent us-cert-4
    lost = LinkObs(
        agency="us-cert", at=at, fate=Fate.LOST, message="us-cert-4", channel="cert", recipient="ru-cert",
        kind=Kind.INCIDENT_UPDATE, incident="EI-1",
    )  # fmt: skip
    model.apply(Entry.of(at, topics.obs("us-cert"), encode_obs(lost)))
    assert model.fate("us-cert-4") is DisplayFate.LOST
    rejected = RejectedObs(
        agency="ru-cert", at=at, reason=RejectReason.MALFORMED, detail="body does not parse",
        offending_id="us-cert-4", topic=topics.msg("ru-cert", "us-cert"), published_as="us-cert",
    )  # fmt: skip
    model.apply(Entry.of(at, topics.obs("ru-cert"), encode_obs(rejected)))
    assert model.fate("us-cert-4") is DisplayFate.REJECTED


def test_lanes_and_incidents() -> None:
    model = folded()
    assert model.incidents() == ["EI-1", "EI-2", NO_INCIDENT]
    assert model.lane_agencies("EI-1") == ["us-cert", "us-nrrc", "ru-cert", "ru-nrrc"]
    assert [e.envelope.id for e in model.lane("EI-2", "ru-cert")] == ["ru-cert-2", "ru-cert-3"]
    assert model.level_at("EI-1", model.scenario.start + timedelta(hours=31)) == 4
    assert model.level_at("EI-1", model.scenario.end) == 0


def test_pending_obligations_put_overdue_first_and_drop_late_answers() -> None:
    model = folded()
    pending = model.pending()
    ids = [p.obligation.id for p in pending]
    # us-cert-2#answer was missed but answered late: no longer owed.
    assert "us-cert-2#answer" not in ids
    assert ids[0] == "us-cert-1#answer"
    assert pending[0].overdue
    assert not pending[-1].overdue
    assert pending[-1].obligation.status is Status.OPEN
    assert countdown(pending[0].left).startswith("-")
    assert countdown(timedelta(hours=3, minutes=5)) == "3h05m"
    assert countdown(timedelta(days=2, hours=7, minutes=1)) == "2d7h"


def test_agencies_grouped_by_state_with_counts() -> None:
    model = folded()
    groups = model.agency_groups()
    assert [g.name for g in groups] == ["United States", "Russian Federation"]
    rows = {r.agency: r for g in groups for r in g.agencies}
    assert all(r.online for r in rows.values())
    assert rows["ru-cert"].overdue == 1
    assert rows["us-nrrc"].open == 1


def test_links_summarise_the_domestic_channel() -> None:
    model = folded()
    lines = model.link_lines()
    assert [ln.channel for ln in lines] == ["cert", "nrrc", "leaders", "domestic"]
    assert lines[-1].count == 6
    assert lines[-1].up
    assert lines[0].latency == timedelta(minutes=2)


def test_the_cert_link_is_down_mid_run() -> None:
    model: DashboardModel = folded()
    # Rebuild up to T+21h by folding a prefix of the journal.
    header = read_header(JOURNAL)
    partial = DashboardModel(header.scenario, header.agreement, header.exercise)
    cutoff = header.scenario.start + timedelta(hours=21)
    for entry in read_entries(JOURNAL):
        if entry.t <= cutoff:
            partial.apply(entry)
    assert not partial.link_lines()[0].up
    assert model.link_lines()[0].up
