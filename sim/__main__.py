"""``python -m sim`` runs the ``hotline`` command."""

from sim.cli import main

main()
