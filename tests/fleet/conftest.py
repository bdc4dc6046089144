"""Fixtures of the fleet tests: a fresh PostgreSQL schema per test, and worker processes.

The server comes from `PLAIT_TEST_POSTGRES_URL`; without one the tests are
skipped with the reason shown, except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import os
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from fleet_support import Fleet

from plait.store.postgres import PostgresStore

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/test"


def server_url() -> str:
    url = os.environ.get("PLAIT_TEST_POSTGRES_URL", DEFAULT_URL)
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
    return url


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    """The URL of a store in a schema of its own, dropped after the test."""
    import asyncpg

    url = server_url()
    schema = f"plait_fleet_{uuid.uuid4().hex[:12]}"
    yield f"{url}{'&' if urlsplit(url).query else '?'}schema={schema}"
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    finally:
        await conn.close()


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[PostgresStore]:
    opened = PostgresStore(pg_url)
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


@pytest.fixture
def fleet(pg_url: str, tmp_path: Path) -> Iterator[Fleet]:
    made = Fleet(pg_url, tmp_path)
    try:
        yield made
    finally:
        made.stop_all()
