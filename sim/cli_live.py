"""Live-exercise commands: ``hotline broker``, ``director``, ``node``, ``ctl``, ``broker-config``.

(Registered on the shared app in :mod:`sim.cli_app`; filled in by the live-exercise issue.)
"""

from __future__ import annotations
