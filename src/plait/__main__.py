"""`python -m plait` is the `plait` command."""

from __future__ import annotations

from plait.cli import main

main()
