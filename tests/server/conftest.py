"""Fixtures: one server shared by a module's API tests, and an HTTP client per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from server_support import Server, config_for, serving, write_workflows


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """A token-less server on the test workflows, with its own SQLite store."""
    root = tmp_path_factory.mktemp("served")
    folder = write_workflows(root / "workflows")
    with serving(config_for(folder, root / "plait.db")) as server:
        yield server


@pytest.fixture
def client(served: Server) -> Iterator[httpx.Client]:
    with served.client() as http:
        yield http


@pytest.fixture
def gate(tmp_path: Path) -> Path:
    """A file whose creation lets a `gated` run's first step finish."""
    return tmp_path / "gate"
