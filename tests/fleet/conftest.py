"""Fixtures of the fleet tests: a fresh PostgreSQL schema per test, and worker processes.

The server comes from `PLAIT_TEST_POSTGRES_URL`; without one the tests are
skipped with the reason shown, except under CI (`CI=true`), where they fail.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import IO
from urllib.parse import urlsplit

import pytest

from plait.store.postgres import PostgresStore

HERE = Path(__file__).parent
FANOUT = HERE / "fanout.yaml"
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


class Fleet:
    """Worker processes (`python -m plait worker`) on one store; ended when the test ends."""

    def __init__(self, url: str, log_dir: Path, *, lease_s: float = 2.0) -> None:
        self.url = url
        self.log_dir = log_dir
        self.lease_s = lease_s
        self.procs: list[subprocess.Popen[bytes]] = []
        self._files: list[IO[bytes]] = []
        self.killed: dict[int, float] = {}
        """pid -> time of its SIGKILL."""

    def start(self, concurrency: int = 8) -> subprocess.Popen[bytes]:
        err = open(self.log_dir / f"worker-{len(self.procs)}.err", "wb")
        self._files.append(err)
        env = {**os.environ, "PLAIT_FLEET_LOG": str(self.log_dir), "PYTHONPATH": str(HERE)}
        proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "plait",
                "worker",
                "--store",
                self.url,
                "--concurrency",
                str(concurrency),
                "--lease",
                str(self.lease_s),
                "--grace",
                "5",
            ],
            env=env,
            stderr=err,
        )
        self.procs.append(proc)
        return proc

    def kill(self, proc: subprocess.Popen[bytes]) -> None:
        import time

        self.killed[proc.pid] = time.time()
        proc.kill()
        proc.wait()

    def stop_all(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        for f in self._files:
            f.close()


@pytest.fixture
def fleet(pg_url: str, tmp_path: Path) -> Iterator[Fleet]:
    made = Fleet(pg_url, tmp_path)
    try:
        yield made
    finally:
        made.stop_all()
