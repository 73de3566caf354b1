"""Hostile files (issue 11): scenario, protocol and inject files that are binary, not UTF-8, hold
NUL bytes, are enormous or nest without end get one located line of error and exit 2 — at once
(a hang is caught by the timeout; the CLI's times are in the README)."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import SCENARIOS

pytestmark = pytest.mark.integration

HOTLINE = [sys.executable, "-m", "sim"]
ELECTION = (SCENARIOS / "election-interference.yaml").read_text()


def hostile(tmp_path: Path) -> dict[str, Path]:
    rng = random.Random(11)
    files = {
        "binary": bytes(rng.randrange(256) for _ in range(4096)),
        "latin-1": "id: café-ü\ntitle: Ünïcödé\n".encode("latin-1"),
        "nul-bytes": ELECTION.replace("title:", "ti\x00tle:", 1).encode(),
        "enormous": ("# padding\n" * 600_000 + ELECTION).encode(),
        "deep-flow": b"id: x\nbody: " + b"[" * 20_000 + b"]" * 20_000 + b"\n",
        "deep-block": b"id: x\nbody:\n" + b"".join(b"  " * i + b"- \n" for i in range(600)),
        "deep-inline": b"id: x\nbody:\n  " + b"- " * 5000 + b"x\n",
        "alias-bomb": (
            b"a: &a [x, x, x, x, x, x, x, x, x]\n"
            + b"".join(
                f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]\n".encode() for i in range(9)
            )
        ),
    }
    paths = {}
    for name, data in files.items():
        path = tmp_path / f"{name}.yaml"
        path.write_bytes(data)
        paths[name] = path
    return paths


KINDS = ["binary", "latin-1", "nul-bytes", "enormous", "deep-flow", "deep-block", "deep-inline", "alias-bomb"]


def run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.run([*HOTLINE, *args], cwd=cwd, capture_output=True, text=True, timeout=20, env=env, check=False)


def test_validate_gives_one_located_line_each_and_exit_2(tmp_path: Path) -> None:
    paths = hostile(tmp_path)
    done = run("validate", *(str(paths[kind]) for kind in KINDS), cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == len(KINDS), done.stderr
    for kind, line in zip(KINDS, lines, strict=True):
        assert line.startswith(f"error: {paths[kind]}"), line


@pytest.mark.parametrize("kind", ["nul-bytes", "alias-bomb"])
def test_a_live_inject_file_too(kind: str, tmp_path: Path) -> None:
    path = hostile(tmp_path)[kind]
    # checked before anything connects: no broker needed, none listens on this port
    done = run("ctl", "inject", str(path), "--exercise", "x", "--broker", "mqtt://127.0.0.1:9", cwd=tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert lines[0].startswith(f"error: {path}"), lines[0]
