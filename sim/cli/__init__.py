"""``hotline``: the command line.

Exit codes: 0 all expectations hold, 1 an expectation failed, 2 bad input (scenario,
protocol, options), 3 the exercise could not run (broker unreachable, a participant stalled).

Each group of commands lives in its own module and registers itself on the shared app.
"""

from __future__ import annotations

import sys

# Importing a command module registers its commands on the shared app.
from sim.cli import dashboard, evaluate, live, run  # noqa: F401 - imported for their registrations
from sim.cli.app import EXIT_RUNTIME, app, err
from sim.cli.crash import one_line, write_crash_log


def main() -> None:
    try:
        app()
    except KeyboardInterrupt:
        err("interrupted")
        sys.exit(130)
    except Exception as exc:  # noqa: BLE001 - the last resort: one line and exit 3, the traceback in a file
        try:
            where = f"; the traceback is in {write_crash_log(exc)}"
        except OSError:
            where = ""
        err(f"error: hotline failed unexpectedly ({one_line(exc)}){where}")
        sys.exit(EXIT_RUNTIME)
