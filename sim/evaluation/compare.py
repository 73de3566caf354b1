"""``hotline compare``: would the agreement have helped?

Runs one scenario under several protocols across N seeds in fast mode — each run in its own
process with its own embedded broker, as many at once as there are CPUs — and sets the
outcome distributions side by side. Summarising a run (:func:`summarise`) and aggregating
runs (:func:`aggregate`) are pure and tested without a broker.
"""

from __future__ import annotations

import json
import statistics
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from datetime import timedelta

from sim.evaluation.measures import first_substantive_answer
from sim.evaluation.outcome import ExerciseState
from sim.model.durations import format_duration
from sim.model.links import Fate
from sim.model.obligations import Status


@dataclass(frozen=True)
class RunSummary:
    protocol: str
    seed: int
    max_level: int
    #: Seconds from the first notice to the first substantive answer (None: never answered).
    first_answer_s: float | None
    missed: int
    lost: int
    refused: int
    messages: int
    expectations_ok: bool


@dataclass(frozen=True)
class Distribution:
    protocol: str
    runs: int
    p_level_4: float
    median_max_level: float
    levels: dict[int, int]
    median_first_answer_s: float | None
    answered_runs: int
    median_missed: float
    mean_missed: float
    median_lost: float
    total_lost: int
    median_refused: float
    expectations_held: int


def summarise(state: ExerciseState, protocol: str, seed: int, *, expectations_ok: bool) -> RunSummary:
    """One run's outcome, from its folded journal."""
    peak = max((state.ladder.peak(i)[0] for i in state.incidents), default=0)
    answer = first_substantive_answer(state)
    return RunSummary(
        protocol=protocol,
        seed=seed,
        max_level=peak,
        first_answer_s=answer.total_seconds() if answer is not None else None,
        missed=state.count(None, Status.MISSED),
        lost=len(state.lost()),
        refused=sum(1 for f in state.fates if f.fate is Fate.REFUSED),
        messages=state.protocol_messages(),
        expectations_ok=expectations_ok,
    )


def aggregate(runs: Iterable[RunSummary], protocols: list[str]) -> list[Distribution]:
    """Per protocol, in the order given (then any other protocol, in the order first run)."""
    by: dict[str, list[RunSummary]] = {p: [] for p in protocols}
    for run in runs:
        by.setdefault(run.protocol, []).append(run)
    return [distribution(protocol, items) for protocol, items in by.items()]


def distribution(protocol: str, items: list[RunSummary]) -> Distribution:
    """One protocol's runs as distributions (zeros, and no answer time, when there are none)."""
    levels = [r.max_level for r in items]
    answers = [r.first_answer_s for r in items if r.first_answer_s is not None]
    missed = [r.missed for r in items]
    lost = [r.lost for r in items]
    return Distribution(
        protocol=protocol,
        runs=len(items),
        p_level_4=_share([level >= 4 for level in levels]),
        median_max_level=_median(levels),
        levels=dict(sorted(Counter(levels).items())),
        median_first_answer_s=statistics.median(answers) if answers else None,
        answered_runs=len(answers),
        median_missed=_median(missed),
        mean_missed=statistics.fmean(missed) if missed else 0.0,
        median_lost=_median(lost),
        total_lost=sum(lost),
        median_refused=_median([r.refused for r in items]),
        expectations_held=sum(1 for r in items if r.expectations_ok),
    )


def _share(flags: list[bool]) -> float:
    return sum(1 for f in flags if f) / len(flags) if flags else 0.0


def _median(values: list[int]) -> float:
    return statistics.median(values) if values else 0.0


def _num(x: float) -> str:
    return f"{x:g}" if x != int(x) else str(int(x))


def _seconds(s: float | None) -> str:
    if s is None:
        return "never"
    return format_duration(timedelta(seconds=round(s / 60) * 60))


def _histogram(levels: dict[int, int]) -> str:
    return " ".join(f"L{level}×{n}" for level, n in sorted(levels.items()))


#: The rows of the comparison: a measure, and how one protocol's distribution shows it.
MEASURES: tuple[tuple[str, Callable[[Distribution], str]], ...] = (
    ("runs (seeds)", lambda d: str(d.runs)),
    ("P(level ≥ 4)", lambda d: f"{d.p_level_4:.0%}"),
    ("median max level", lambda d: _num(d.median_max_level)),
    ("runs peaking at each level", lambda d: _histogram(d.levels)),
    (
        "median time to first substantive answer",
        lambda d: f"{_seconds(d.median_first_answer_s)} ({d.answered_runs}/{d.runs} answered)",
    ),
    ("missed obligations (median / mean)", lambda d: f"{_num(d.median_missed)} / {d.mean_missed:.1f}"),
    ("lost messages (median / total)", lambda d: f"{_num(d.median_lost)} / {d.total_lost}"),
    ("refused by a down link (median)", lambda d: _num(d.median_refused)),
    ("scenario's expectations held", lambda d: f"{d.expectations_held}/{d.runs}"),
)


def rows(dists: list[Distribution]) -> list[list[str]]:
    """The comparison as rows: a header of protocols, then one row per measure."""
    header = ["", *(d.protocol for d in dists)]
    return [header, *([label, *(cell(d) for d in dists)] for label, cell in MEASURES)]


def text_table(dists: list[Distribution]) -> str:
    table = rows(dists)
    widths = [max(len(r[i]) for r in table) for i in range(len(table[0]))]
    lines = []
    for n, row in enumerate(table):
        lines.append("  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip())
        if n == 0:
            lines.append("  ".join("-" * w for w in widths))
    return "\n".join(lines)


def markdown_table(dists: list[Distribution]) -> str:
    table = rows(dists)
    lines = ["| " + " | ".join(table[0]) + " |", "|---" + "|---:" * (len(table[0]) - 1) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in table[1:]]
    return "\n".join(lines)


def to_json(scenario: str, seeds: list[int], dists: list[Distribution], runs: list[RunSummary]) -> str:
    data = {
        "scenario": scenario,
        "seeds": seeds,
        "protocols": [asdict(d) for d in dists],
        "runs": [asdict(r) for r in sorted(runs, key=lambda r: (r.protocol, r.seed))],
    }
    return json.dumps(data, indent=2) + "\n"
