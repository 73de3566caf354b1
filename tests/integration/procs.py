"""Starting and stopping `hotline` processes for tests (one process per participant)."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from pathlib import Path

HOTLINE = [sys.executable, "-m", "sim"]


class Proc:
    """A `hotline …` subprocess with its output captured to a file (read it when a test fails)."""

    def __init__(self, name: str, args: list[str], workdir: Path) -> None:
        self.name = name
        self.args = args
        self.workdir = workdir
        self.log = workdir / f"{name}.log"
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self) -> Proc:
        out = self.log.open("ab")
        self.proc = await asyncio.create_subprocess_exec(
            *HOTLINE,
            *self.args,
            cwd=self.workdir,
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        out.close()
        return self

    async def wait(self, timeout: float) -> int:
        assert self.proc is not None
        return await asyncio.wait_for(self.proc.wait(), timeout)

    def kill(self, sig: int = signal.SIGKILL) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self.proc.send_signal(sig)

    def output(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 5)
            except TimeoutError:
                self.proc.kill()
                await self.proc.wait()
