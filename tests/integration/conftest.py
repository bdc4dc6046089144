"""Fixtures for the integration tests: a folder with the test actions and a `plait` to run."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from integration_harness import ACTIONS, Plait, write


@pytest.fixture
def plait(tmp_path: Path) -> Iterator[Plait]:
    """The CLI in a fresh folder holding `acts.py`, with its own SQLite store and action log."""
    write(tmp_path, "acts.py", ACTIONS)
    cli = Plait(tmp_path)
    yield cli
    cli.close()
