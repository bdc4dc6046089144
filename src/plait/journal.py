"""Group commit: writes from many steps (and runs) that finish together share one transaction.

A caller awaits `commit(writes)` and returns only once its writes are durable.
While one transaction is in flight, new writes gather into the next batch, so
the store sees few, larger transactions under load and one per step when idle.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from plait.store.base import Store, Write


class Journal:
    """Batches writes into `Store.apply` calls; never acknowledges before the commit."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[Write] = []
        self._next: asyncio.Future[None] | None = None
        self._flusher: asyncio.Task[None] | None = None
        self.commits = 0
        """Transactions made so far (a figure for benchmarks)."""

    async def commit(self, writes: Sequence[Write]) -> None:
        """Return once `writes` are committed; raise the store's error if they are not."""
        self._pending.extend(writes)
        future = self._next
        if future is None:
            future = self._next = asyncio.get_running_loop().create_future()
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush())
        await asyncio.shield(future)

    async def _flush(self) -> None:
        while self._pending:
            batch, future = self._pending, self._next
            self._pending, self._next = [], None
            assert future is not None
            try:
                await self.store.apply(batch)
            except BaseException as exc:
                if not future.done():
                    future.set_exception(exc)
                    future.exception()  # mark retrieved: every waiter re-raises its own copy
                if isinstance(exc, asyncio.CancelledError):
                    raise
            else:
                self.commits += 1
                if not future.done():
                    future.set_result(None)
