"""Exercise evaluation commands: ``hotline test``, ``report``, ``compare``, ``schema``, ``msel``.

(Registered on the shared app in :mod:`sim.cli_app`; filled in by the evaluation issue.)
"""

from __future__ import annotations
