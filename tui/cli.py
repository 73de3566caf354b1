"""Dashboard commands: ``hotline dashboard`` and ``hotline replay``.

(Registered on the shared app in :mod:`sim.cli_app`; filled in by the dashboard issue.)
"""

from __future__ import annotations
