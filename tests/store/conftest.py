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

BACKENDS = ["memory", "sqlite", "postgres"]


def make_store(backend: str, tmp_path: Path) -> Store:
    if backend == "memory":
        return MemoryStore()
    if backend == "sqlite":
        return SQLiteStore(tmp_path / "plait.db")  # a real file, WAL and all
    if backend == "postgres":
        return _throwaway_postgres_store()
    raise AssertionError(f"no such store backend in the tests: {backend}")


def _throwaway_postgres_store() -> Store:
    """A store in a fresh schema of `PLAIT_TEST_POSTGRES_URL`, dropped when it closes.

    Without a reachable server the test is skipped, except under CI, where it fails.
    """
    import os
    import socket
    import uuid
    from urllib.parse import urlsplit

    from plait.store.postgres import PostgresStore

    url = os.environ.get("PLAIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
    parts = urlsplit(url)
    try:
        socket.create_connection((parts.hostname or "127.0.0.1", parts.port or 5432), 2).close()
    except OSError as exc:
        message = (
            f"no PostgreSQL at {parts.hostname}:{parts.port} ({exc}); set PLAIT_TEST_POSTGRES_URL"
        )
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    schema = f"plait_test_{uuid.uuid4().hex[:12]}"

    class Throwaway(PostgresStore):
        async def close(self) -> None:
            if self._pool is not None:
                await self.pool.execute(f"DROP SCHEMA {schema} CASCADE")
            await super().close()

    return Throwaway(f"{url}{'&' if parts.query else '?'}schema={schema}")


@pytest.fixture(params=BACKENDS)
async def store(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Store]:
    opened = make_store(request.param, tmp_path)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()
