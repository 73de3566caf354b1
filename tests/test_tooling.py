"""The project's own quality gates run with the tests, so CI (which runs the README's test
command) enforces them: ruff and mypy --strict clean, the layer contracts kept, no function too
complex and no module too long."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def _tool(name: str) -> list[str]:
    exe = Path(sys.executable).parent / name
    found = str(exe) if exe.exists() else shutil.which(name)
    if found is None:
        pytest.fail(f"{name} is not installed: install the dev extra (pip install -e '.[test,dev]')")
    return [found]


@pytest.mark.timeout(300)
def test_ruff_is_clean() -> None:
    done = subprocess.run([*_tool("ruff"), "check", "."], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(600)
def test_mypy_strict_is_clean() -> None:
    done = subprocess.run([*_tool("mypy")], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


@pytest.mark.timeout(120)
def test_layer_contracts_hold() -> None:
    """sim/ is layered (cli > tui | runtime > evaluation > scenario > core > model) and the pure
    layers do no I/O: pyproject.toml's [tool.importlinter] contracts."""
    done = subprocess.run([*_tool("lint-imports")], cwd=REPO, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stdout + done.stderr


MAX_COMPLEXITY = 15
MAX_LINES = 400


def test_no_function_is_too_complex() -> None:
    """Cyclomatic complexity (radon's count, stricter than ruff's C901) of every function in sim/
    and tui/ is at most 15."""
    from radon.complexity import cc_visit  # noqa: PLC0415 - a dev tool, only for this test

    too_complex = []
    for path in sorted([*(REPO / "sim").rglob("*.py"), *(REPO / "tui").rglob("*.py")]):
        too_complex += [
            f"{path.relative_to(REPO)}:{block.lineno} {block.name} CC {block.complexity}"
            for block in cc_visit(path.read_text())
            if block.complexity > MAX_COMPLEXITY
        ]
    assert not too_complex, "\n".join(too_complex)


def test_no_module_is_too_long() -> None:
    """Modules of sim/ and tui/ stay under ~400 lines: one concern each."""
    long = [
        f"{path.relative_to(REPO)} ({n} lines)"
        for path in sorted([*(REPO / "sim").rglob("*.py"), *(REPO / "tui").rglob("*.py")])
        if (n := len(path.read_text().splitlines())) > MAX_LINES
    ]
    assert not long, "\n".join(long)


def test_every_noqa_says_why() -> None:
    """A suppressed lint warning carries its reason: `# noqa: CODE - why`."""
    bare = []
    for path in sorted(p for d in ("sim", "tui", "tests", "bench") for p in (REPO / d).rglob("*.py")):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if "# noqa" in line and " - " not in line.split("# noqa", 1)[1]:
                bare.append(f"{path.relative_to(REPO)}:{number}: {line.strip()}")
    assert not bare, "\n".join(bare)
