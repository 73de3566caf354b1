"""The view model over the fixture journal: same outcome as the core's fold, each message's
fate, lanes, pending obligations with countdowns, agencies and links."""

from __future__ import annotations

from datetime import timedelta

from sim.evaluation.console import summary
from sim.evaluation.journalfile import read_entries, read_header
from sim.model.obligations import Status
from tui.model import NO_INCIDENT, DashboardModel, DisplayFate
from tui.panels import countdown

from .helpers import JOURNAL, folded, reference_state


def test_the_model_folds_to_the_same_outcome_as_the_core() -> None:
    model = folded()
    assert summary(model.state) == summary(reference_state())
    assert model.now == model.scenario.end


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
    model._lost.add("us-cert-4")  # what a LinkObs(lost) records
    assert model.fate("us-cert-4") is DisplayFate.LOST
    model._rejected.add("us-cert-4")
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
