"""The scenario format: who takes part, how they are linked, how each behaves when automated,
what happens when (injects), and what a facilitator should see (``expect:``).

Loading is strict and every problem is reported as ``file:line:column: field.path: message``.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import BaseModel, ConfigDict

from sim.model.agreement import Agreement
from sim.model.scenario import Scenario
from sim.scenario.checks import _check, _fail
from sim.scenario.errors import InputFileError, NotFound
from sim.scenario.paths import shipped_dir
from sim.scenario.yamlsrc import load_model, read_source


class LoadedScenario(BaseModel):
    """A validated scenario with the agreement it runs under and the hash of its source."""

    model_config = ConfigDict(frozen=True, arbitrary_types_allowed=True)

    path: Path
    scenario: Scenario
    agreement: Agreement
    sha256: str


def load_scenario(path: Path, protocol: str | None = None) -> LoadedScenario:
    """Load, validate and cross-check a scenario; ``protocol`` overrides the one it names."""
    raw = _read(path)
    scenario, smap = load_model(Scenario, path, raw)
    name = protocol or scenario.protocol
    try:
        agreement_path = find_agreement(name)
    except NotFound as exc:
        if protocol is not None:
            raise
        raise _fail(path, smap, [(("protocol",), str(exc))]) from exc
    agreement = load_agreement(agreement_path)
    # Links of channels the overriding agreement lacks are dropped, not errors: running a
    # scenario under another agreement is the point of --protocol.
    problems = [
        (loc, message)
        for loc, message in _check(scenario, agreement)
        if protocol is None or "has no channel" not in message
    ]
    if problems:
        raise _fail(path, smap, problems)
    digest = hashlib.sha256(raw.encode()).hexdigest()
    return LoadedScenario(path=path, scenario=scenario, agreement=agreement, sha256=digest)


def _read(path: Path) -> str:
    return read_source(path)


def shipped_scenarios() -> list[Path]:
    return sorted(shipped_dir().glob("*.yaml"))


def find_scenario(name: str) -> Path:
    """A scenario by path, or by the id of a shipped scenario."""
    candidate = Path(name)
    if candidate.exists() and candidate.is_file():
        return candidate
    for path in shipped_scenarios():
        if path.stem == name:
            return path
    for path in shipped_scenarios():
        try:
            data, _ = load_model(_IdOnly, path)
        except InputFileError:
            continue
        if data.id == name:
            return path
    raise NotFound("scenario", name, [p.stem for p in shipped_scenarios()])


class _IdOnly(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str


def load_agreement(path: Path) -> Agreement:
    agreement, _ = load_model(Agreement, path)
    return agreement


def shipped_protocols_dir() -> Path:
    return shipped_dir() / "protocols"


def find_agreement(name: str) -> Path:
    """A protocol by file path or by the id of a shipped protocol."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return candidate
    shipped = shipped_protocols_dir() / f"{name}.yaml"
    if shipped.exists():
        return shipped
    known = sorted(p.stem for p in shipped_protocols_dir().glob("*.yaml"))
    raise NotFound("protocol", name, known)
