"""``hotline``: the command line.

Exit codes: 0 all expectations hold, 1 an expectation failed, 2 bad input (scenario,
protocol, options), 3 the exercise could not run (broker unreachable, a participant stalled).

Each group of commands lives in its own module and registers itself on the shared app.
"""

from __future__ import annotations

import sys

# Importing a command module registers its commands on the shared app.
from sim.cli import dashboard, evaluate, live, run  # noqa: F401 - imported for their registrations
from sim.cli.app import app, err


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
