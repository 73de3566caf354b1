"""One small error hierarchy under :class:`HotlineError`; errors carry data as attributes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from sim.model.errors import HotlineError

if TYPE_CHECKING:
    pass


@dataclass(frozen=True)
class SourceError:
    """One problem in an input file, located as precisely as we can."""

    file: Path
    line: int | None
    column: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = str(self.file)
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        field = f" {self.field}:" if self.field else ""
        return f"{where}:{field} {self.message}"


class InputFileError(HotlineError):
    """A scenario or protocol file that cannot be used; holds every problem found."""

    def __init__(self, errors: list[SourceError]) -> None:
        super().__init__("\n".join(str(e) for e in errors))
        self.errors = errors


class NotFound(HotlineError):
    """A scenario or protocol named on the command line that is neither a file nor shipped."""

    def __init__(self, what: str, name: str, known: list[str]) -> None:
        hint = f" (shipped: {', '.join(known)})" if known else ""
        super().__init__(f"no {what} file or shipped {what} named {name!r}{hint}")
        self.what = what
        self.name = name
        self.known = known
