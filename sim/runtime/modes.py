"""The one place that turns a mode name into its pacing: the director's and the node's halves
of fast mode (:mod:`sim.runtime.fast`) or of realtime (:mod:`sim.runtime.realtime`)."""

from __future__ import annotations

from dataclasses import dataclass

from sim.runtime.fast import FastNodePacing, FastPacing
from sim.runtime.pacing import DirectorPacing, Mode, NodePacing, Seat, Stage
from sim.runtime.realtime import RealtimeNodePacing, RealtimePacing


@dataclass(frozen=True)
class Pacing:
    director: type[FastPacing | RealtimePacing]
    node: type[FastNodePacing | RealtimeNodePacing]

    def for_director(self, stage: Stage, *, speed: float) -> DirectorPacing:
        return self.director(stage, speed=speed)

    def for_node(self, seat: Seat) -> NodePacing:
        return self.node(seat)


FAST = Pacing(FastPacing, FastNodePacing)
REALTIME = Pacing(RealtimePacing, RealtimeNodePacing)


def pacing_for(mode: Mode) -> Pacing:
    return FAST if mode == "fast" else REALTIME
