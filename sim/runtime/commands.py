"""The director's deterministic parts: the scenario timeline (injects, link faults and their
reverts) and the bookkeeping of fast-mode rounds. No I/O; :mod:`sim.runtime.director` is the shell."""

from __future__ import annotations

from datetime import timedelta

from sim.model.injects import Inject
from sim.scenario.checks import check_injects
from sim.scenario.load import LoadedScenario
from sim.scenario.yamlsrc import format_loc


def inject_problems(loaded: LoadedScenario, inject: Inject) -> list[str]:
    """Why a live inject cannot be carried out in this exercise (empty: it can)."""
    live = inject.model_copy(update={"at": timedelta(0)})
    probe = loaded.scenario.model_copy(update={"injects": (live,)})
    return [f"{format_loc(loc[2:])}: {message}" for loc, message in check_injects(probe, loaded.agreement)]
