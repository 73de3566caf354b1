"""The topic layout (DESIGN §4) and how receivers parse it."""

from __future__ import annotations

import pytest

from sim.model.topics import Parsed, Topics

T = Topics("ex-1")


def test_layout() -> None:
    assert T.msg("bb-cert", "aa-cert") == "hotline/v1/ex-1/msg/bb-cert/aa-cert"
    assert T.inbox("bb-cert") == "hotline/v1/ex-1/msg/bb-cert/+"
    assert T.presence("aa-cert") == "hotline/v1/ex-1/presence/aa-cert"
    assert T.obs("aa-cert") == "hotline/v1/ex-1/obs/aa-cert"
    assert T.clock == "hotline/v1/ex-1/ctl/clock"
    assert T.inject("aa-cert") == "hotline/v1/ex-1/ctl/inject/aa-cert"
    assert T.ready("aa-cert") == "hotline/v1/ex-1/ctl/ready/aa-cert"
    assert T.everything == "hotline/v1/ex-1/#"


@pytest.mark.parametrize(
    ("topic", "parsed"),
    [
        (T.msg("bb-cert", "aa-cert"), Parsed("msg", ("bb-cert", "aa-cert"))),
        (T.presence("aa-cert"), Parsed("presence", ("aa-cert",))),
        (T.obs("aa-cert"), Parsed("obs", ("aa-cert",))),
        (T.inject("aa-cert"), Parsed("ctl", ("inject", "aa-cert"))),
        (T.clock, Parsed("ctl", ("clock",))),
    ],
)
def test_parse_round_trips_the_layout(topic: str, parsed: Parsed) -> None:
    assert T.parse(topic) == parsed


@pytest.mark.parametrize(
    "topic",
    [
        "hotline/v1/ex-2/msg/bb-cert/aa-cert",  # another exercise
        "hotline/v1/ex-1/msg/bb-cert",  # too short
        "hotline/v1/ex-1/msg/bb-cert/aa-cert/extra",  # too long
        "hotline/v1/ex-1/msg//aa-cert",  # empty level
        "hotline/v1/ex-1/obs",
        "hotline/v1/ex-1/ctl",
        "hotline/v1/ex-1/other/x",
        "hotline/v1/ex-1",
        "elsewhere",
    ],
)
def test_parse_rejects_everything_else(topic: str) -> None:
    assert T.parse(topic) is None
