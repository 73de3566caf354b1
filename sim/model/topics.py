"""The topic layout (DESIGN §4), pure. Everything lives under ``hotline/v1/<exercise>/``."""

from __future__ import annotations

from dataclasses import dataclass

ROOT = "hotline/v1"


@dataclass(frozen=True)
class Publish:
    """One MQTT publish a participant's core decided on: the shell puts it on the broker."""

    topic: str
    payload: bytes
    retain: bool = False


@dataclass(frozen=True)
class Parsed:
    """A topic under the exercise prefix, split into its area and its remaining levels."""

    area: str  # msg, presence, obs, ctl
    parts: tuple[str, ...]


@dataclass(frozen=True)
class Topics:
    exercise: str

    @property
    def root(self) -> str:
        return f"{ROOT}/{self.exercise}"

    @property
    def everything(self) -> str:
        return f"{self.root}/#"

    def msg(self, to: str, sender: str) -> str:
        return f"{self.root}/msg/{to}/{sender}"

    def inbox(self, agency: str) -> str:
        return f"{self.root}/msg/{agency}/+"

    def presence(self, agency: str) -> str:
        return f"{self.root}/presence/{agency}"

    def obs(self, agency: str) -> str:
        return f"{self.root}/obs/{agency}"

    @property
    def clock(self) -> str:
        return f"{self.root}/ctl/clock"

    @property
    def exercise_status(self) -> str:
        return f"{self.root}/ctl/exercise"

    def inject(self, agency: str) -> str:
        return f"{self.root}/ctl/inject/{agency}"

    @property
    def links(self) -> str:
        return f"{self.root}/ctl/links"

    @property
    def journal_path(self) -> str:
        return f"{self.root}/ctl/journal"

    @property
    def director(self) -> str:
        """The director's presence (retained; its Will says it is gone)."""
        return f"{self.root}/ctl/director"

    @property
    def tally(self) -> str:
        return f"{self.root}/ctl/tally"

    def ready(self, agency: str) -> str:
        return f"{self.root}/ctl/ready/{agency}"

    def cmd(self, client: str) -> str:
        return f"{self.root}/ctl/cmd/{client}"

    @property
    def cmd_all(self) -> str:
        return f"{self.root}/ctl/cmd/+"

    def result(self, client: str) -> str:
        return f"{self.root}/ctl/result/{client}"

    def parse(self, topic: str) -> Parsed | None:
        """Split a topic of this exercise; None for anything else (ignored by receivers)."""
        prefix = self.root + "/"
        if not topic.startswith(prefix):
            return None
        levels = tuple(topic[len(prefix) :].split("/"))
        if not levels or not all(levels):
            return None
        area, rest = levels[0], levels[1:]
        expected = {"msg": 2, "presence": 1, "obs": 1}
        if area in expected:
            return Parsed(area, rest) if len(rest) == expected[area] else None
        if area == "ctl" and rest:
            return Parsed(area, rest)
        return None
