"""An SQLite connection owned by one worker thread, for side tables kept beside the store.

The event log of `plait serve` and the stream tables keep their own connection to
the store's file; like `SQLiteStore`, each lets one thread own it, so the event loop
never waits on the disk and SQLite sees one writer per connection.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

from plait.errors import PlaitError

T = TypeVar("T")


class ThreadedConnection:
    """`open(setup)`, then `await call(fn, ...)` runs `fn` on the owning thread."""

    def __init__(self, path: str | Path, *, what: str, busy_timeout_s: float = 5.0) -> None:
        self.path = path
        self.what = what
        """What the tables hold, in words, for error messages ("the event log")."""
        self.busy_timeout_s = busy_timeout_s
        self._conn: sqlite3.Connection | None = None
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="plait-sqlite-side")

    async def open(self, setup: Callable[[sqlite3.Connection], T]) -> T:
        """Connect (WAL, busy timeout) and run `setup` on the new connection."""
        return await self.call(self._open, setup)

    def _open(self, setup: Callable[[sqlite3.Connection], T]) -> T:
        if str(self.path) != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            self.path, timeout=self.busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            conn.execute(f"PRAGMA busy_timeout = {int(self.busy_timeout_s * 1000)}")
            conn.execute("PRAGMA journal_mode = WAL")
            out = setup(conn)
        except sqlite3.Error:
            conn.close()
            raise
        self._conn = conn
        return out

    @property
    def db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise PlaitError(f"{self.what} is not open")
        return self._conn

    async def call(self, fn: Callable[..., T], *args: Any) -> T:
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._thread, fn, *args)
        except sqlite3.Error as exc:
            from plait.store.base import StoreError

            raise StoreError(f"{self.what} in {str(self.path)!r} failed: {exc}") from None

    async def close(self) -> None:
        if self._conn is not None:
            await self.call(self._conn.close)
            self._conn = None
        self._thread.shutdown(wait=True)
