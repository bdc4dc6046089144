"""The `store` fixture: one opened, empty store per test, for each backend in `BACKENDS`.

A new backend joins the contract by adding its name to `BACKENDS` and a branch to
`make_store` (PostgreSQL would take its URL from an environment variable and skip
when it is unset, as the style guide describes).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from plait.store.base import Store
from plait.store.memory import MemoryStore
from plait.store.sqlite import SQLiteStore

BACKENDS = ["memory", "sqlite"]


def make_store(backend: str, tmp_path: Path) -> Store:
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return SQLiteStore(tmp_path / "plait.db")  # a real file, WAL and all
    raise AssertionError(f"no such store backend in the tests: {backend}")


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened = make_store(request.param, tmp_path)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
