"""`Worker`: claims ready steps of any run in a PostgreSQL store, runs them, commits them.

Scheduling is event-driven: the worker LISTENs on the store's channel and
sleeps until a NOTIFY (steps queued, or a limited slot freed) or until the
earliest lease in the fleet runs out (a dead worker's steps to take over). An
idle fleet sends the database nothing but lease renewals of running steps.

A claimed step runs exactly as in a local run: its inputs and condition through
`RunExecution.resolve`, its attempts, timeouts, retries and recovery through
`StepPolicies._run_policies`; only the journal differs, fenced by the lease.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from plait.engine import MAX_CRASHES_PER_STEP, poison_step
from plait.errors import PlaitError
from plait.fleet import queue
from plait.fleet.plans import PlanCache
from plait.fleet.progress import advance, restored_execution
from plait.fleet.queue import Claim, LeaseLostError
from plait.journal import Journal
from plait.policies import Outcome
from plait.runner import StepRecord
from plait.store.base import AttemptStarted, StoreError, Write
from plait.store.postgres import PostgresStore
from plait.types import StepStatus, WorkflowStatus

IDLE_RECHECK_S = 60.0
"""Longest idle sleep without a NOTIFY: a safety net, not a poll that loads the database."""


class FencedJournal(Journal):
    """The journal of one claimed step: every commit checks the lease token."""

    def __init__(self, store: PostgresStore, claim: Claim) -> None:
        super().__init__(store)
        self._pg = store
        self.claim = claim

    async def commit(self, writes: Sequence[Write]) -> None:
        await queue.apply_fenced(self._pg, self.claim, writes)
        self.commits += 1


class Worker:
    """Runs steps from the fleet queue until `stop()` (or SIGTERM with `install_signals`)."""

    def __init__(
        self,
        store: PostgresStore,
        *,
        concurrency: int = 8,
        lease_s: float = 10.0,
        grace_s: float = 30.0,
        name: str | None = None,
        max_threads: int = 32,
        log: Any = sys.stderr,
    ) -> None:
        self.store = store
        self.concurrency = concurrency
        self.lease_s = lease_s
        """A claimed step is taken over this long after its worker last renewed it."""
        self.grace_s = grace_s
        """On stop, steps still running after this long are released to other workers."""
        self.name = name or f"{socket.gethostname()}:{os.getpid()}"
        self.plans = PlanCache()
        self.completed = 0
        self.lost = 0
        self._log = log
        self._claims: dict[int, Claim] = {}
        self._tasks: dict[int, asyncio.Task[None]] = {}
        self._lost_tokens: set[int] = set()
        self._wake = asyncio.Event()
        self._stopping = False
        self._threads = ThreadPoolExecutor(max_threads, thread_name_prefix="plait-fleet")

    def stop(self) -> None:
        """Claim nothing more; running steps finish (or are released after `grace_s`)."""
        self._stopping = True
        self._wake.set()

    def install_signals(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, self.stop)

    async def run(self) -> None:
        listener = await self._listen()
        beat = asyncio.get_running_loop().create_task(self._heartbeat())
        try:
            await self._loop()
            await self._drain()
        finally:
            beat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await beat
            with contextlib.suppress(Exception):
                await listener.close()
            self._threads.shutdown(wait=False, cancel_futures=True)

    # --- the claim loop ------------------------------------------------------------------

    async def _listen(self) -> Any:
        import asyncpg

        settings = {"search_path": self.store.schema} if self.store.schema else {}
        conn = await asyncpg.connect(self.store.dsn, server_settings=settings)
        await conn.add_listener(queue.channel(self.store), lambda *_: self._wake.set())
        return conn

    async def _loop(self) -> None:
        while not self._stopping:
            self._wake.clear()
            free = self.concurrency - len(self._tasks)
            next_expiry: float | None = None
            if free > 0:
                try:
                    claims, next_expiry = await queue.claim(
                        self.store, self.name, free, self.lease_s
                    )
                except StoreError as exc:
                    self._say(f"cannot claim steps: {exc}")
                    claims, next_expiry = [], 1.0
                for c in claims:
                    self._start(c)
                if claims and len(claims) == free:
                    continue  # there may be more
            timeout = IDLE_RECHECK_S
            if next_expiry is not None:
                timeout = min(timeout, max(0.05, next_expiry + 0.01))
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    def _start(self, c: Claim) -> None:
        self._claims[c.token] = c
        task = asyncio.get_running_loop().create_task(self._work(c))
        self._tasks[c.token] = task

    async def _work(self, c: Claim) -> None:
        try:
            await self._execute(c)
            self.completed += 1
        except LeaseLostError as exc:
            self.lost += 1
            self._say(str(exc))
        except asyncio.CancelledError:
            if c.token not in self._lost_tokens:
                raise
            self.lost += 1
            self._say(
                f"step {c.step_id!r} of run {c.run_id} was taken over by another worker "
                f"(lease {c.token} expired); abandoned"
            )
        except Exception as exc:  # the lease runs out and another worker tries again
            self._say(f"step {c.step_id!r} of run {c.run_id}: {type(exc).__name__}: {exc}")
        finally:
            self._tasks.pop(c.token, None)
            self._claims.pop(c.token, None)
            self._wake.set()

    async def _heartbeat(self) -> None:
        while True:
            await asyncio.sleep(self.lease_s / 4)
            try:
                lost = await queue.renew(self.store, list(self._claims.values()), self.lease_s)
            except StoreError as exc:
                self._say(f"cannot renew leases: {exc}")
                continue
            for token in lost:
                task = self._tasks.get(token)
                if task is not None:
                    self._lost_tokens.add(token)
                    task.cancel()

    async def _drain(self) -> None:
        """After stop: let running steps finish for `grace_s`, then hand the rest back."""
        if self._tasks:
            await asyncio.wait(list(self._tasks.values()), timeout=self.grace_s)
        left = list(self._claims.values())
        for task in list(self._tasks.values()):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        if left:
            await queue.release(self.store, left)

    # --- one step ------------------------------------------------------------------------

    async def _execute(self, c: Claim) -> None:
        store = self.store
        run = await store.get_run(c.run_id)
        try:
            plan = self.plans.plan_for(run)
        except PlaitError as exc:  # changed or broken workflow file: the run cannot go on
            self._say(f"run {c.run_id} failed: {exc}")
            await queue.fail_run(store, c, f"{type(exc).__name__}: {exc}")
            return
        rows = {s.step_id: s for s in await store.get_steps(c.run_id)}
        i = plan.index_of[c.step_id]
        cs = plan.steps[i]
        own = rows.pop(c.step_id, None)

        def decide(run_now: Any, rows_now: Any) -> Any:
            return advance(plan, run_now, rows_now, time.time())

        if WorkflowStatus(run.status).is_terminal or (
            own is not None and own.status not in ("pending", "running")
        ):
            await queue.complete(store, c, [], plan, decide)  # nothing left to do here
            return
        execution = restored_execution(plan, run, rows)
        execution._journal = FencedJournal(store, c)
        execution.results_cache = store
        execution._executor = self._threads
        crashed = own is not None and own.status == "running"
        attempt = (own.attempts if own else 0) + 1
        outcome: Outcome | None = None
        kwargs: dict[str, Any] = {}
        if crashed and own is not None and own.crashes + 1 >= MAX_CRASHES_PER_STEP:
            await queue.start(store, c, True, lambda _: [])
            writes: list[Write] = [
                poison_step(c.run_id, c.step_id, own.attempts, own.crashes + 1, time.time())
            ]
            await queue.complete(store, c, writes, plan, decide)
            return
        try:
            kwargs, verdict = execution.resolve(cs)
        except Exception as exc:  # a reference or condition that cannot be evaluated
            outcome = Outcome(StepStatus.FAILED, None, exc, 0, "")
        else:
            if not verdict:
                outcome = Outcome(StepStatus.SKIPPED, None, None, 0, "its condition was false")
        if outcome is None:
            from plait.store.codec import lenient_dumps

            started = AttemptStarted(
                c.run_id, c.step_id, attempt, time.time(), lenient_dumps(kwargs), agent=cs.agent
            )
            await queue.start(store, c, crashed, lambda _: [started])
            execution.records[i] = StepRecord(
                attempt, started=execution.clock.monotonic(), inputs=kwargs
            )
            outcome = await execution._run_policies(cs, kwargs, attempt)
            if execution.store_error is not None:
                raise execution.store_error
        elif crashed:
            await queue.start(store, c, True, lambda _: [])
        writes = []
        execution._record_outcome(
            i,
            outcome.status,
            outcome.result,
            outcome.error,
            outcome.attempts,
            outcome.reason,
            outcome.result_json,
            writes,
            outcome.strategy,
        )
        await queue.complete(store, c, writes, plan, decide)

    def _say(self, text: str) -> None:
        print(f"plait worker {self.name}: {text}", file=self._log, flush=True)
