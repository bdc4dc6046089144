"""Step policies: what happens between "this step starts" and "this step has an outcome".

Cache lookups, attempts under a timeout, retries with backoff, the four recovery
strategies, asking a person, and remembering results for the cache. Both kinds
of run use it: `RunExecution` (declared graphs) and `FunctionRun` (plain async
Python). The host supplies identity, clock, journal and bookkeeping (`PolicyHost`).
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import inspect
from collections.abc import Awaitable
from concurrent.futures import Executor
from typing import TYPE_CHECKING, Any, NamedTuple, cast

from plait import errors, events
from plait.clock import Clock
from plait.context import ContextHost, StepContext
from plait.definition import ApprovalPolicy
from plait.graph import CompiledStep
from plait.store import base as store
from plait.types import StepStatus

if TYPE_CHECKING:
    from plait.journal import Journal
    from plait.people import HumanDesk
    from plait.runner import StepRecord
    from plait.store.base import Store


class AttemptTimeout(TimeoutError):
    """An attempt ran past the step's `timeout_seconds` and was cancelled."""


class _Deadline:
    __slots__ = ("at", "finished", "fired", "task")

    def __init__(self, at: float, task: asyncio.Task[Any]) -> None:
        self.at = at
        self.task = task
        self.fired = False
        self.finished = False


class Deadlines:
    """Attempt timeouts of one run, on a single timer.

    `asyncio.timeout` costs a timer per attempt; here attempts join a heap and one
    `call_at` serves the earliest deadline. Finished attempts are dropped lazily
    (and the heap compacted once they are most of it). An expired attempt's task is
    cancelled; the attempt sees `fired` and turns the cancellation into a timeout.
    """

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, _Deadline]] = []
        """(time, tie-breaker, deadline): tuples compare in C, which keeps pushes cheap."""
        self._count = 0
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at = float("inf")
        self._finished = 0
        self._loop: asyncio.AbstractEventLoop | None = None

    def add(self, seconds: float, task: asyncio.Task[Any]) -> _Deadline:
        loop = self._loop
        if loop is None:
            loop = self._loop = asyncio.get_running_loop()
        deadline = _Deadline(loop.time() + seconds, task)
        self._count += 1
        heapq.heappush(self._heap, (deadline.at, self._count, deadline))
        if deadline.at < self._timer_at:
            self._arm(loop, deadline.at)
        return deadline

    def finish(self, deadline: _Deadline) -> None:
        if not deadline.finished:
            deadline.finished = True
            self._finished += 1
            if self._finished > 64 and self._finished * 2 > len(self._heap):
                self._heap = [entry for entry in self._heap if not entry[2].finished]
                heapq.heapify(self._heap)
                self._finished = 0

    def close(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._heap.clear()

    def _arm(self, loop: asyncio.AbstractEventLoop, at: float) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._timer = loop.call_at(at, self._expire)
        self._timer_at = at

    def _expire(self) -> None:
        self._timer = None
        self._timer_at = float("inf")
        loop = asyncio.get_running_loop()
        now = loop.time()
        heap = self._heap
        while heap and (heap[0][2].finished or heap[0][0] <= now):
            deadline = heapq.heappop(heap)[2]
            if deadline.finished:
                self._finished -= 1
            else:
                deadline.fired = True
                deadline.finished = True
                deadline.task.cancel()
        if heap:
            self._arm(loop, heap[0][0])


class Outcome(NamedTuple):
    """How a step ended, ready to be recorded."""

    status: StepStatus
    result: Any
    error: BaseException | None
    attempts: int
    reason: str
    result_json: str | None = None
    strategy: str | None = None


class StepPolicies:
    """Runs one step's policies; mixed into the run classes that host it."""

    run_id: str
    clock: Clock
    records: list[StepRecord | None]
    partials: dict[str, Any]
    results_cache: Store | None
    """Where cached and last-good results live: the store, or memory without one."""
    _journal: Journal | None
    _desk: HumanDesk | None
    _executor: Executor | None
    _listeners: tuple[events.Listener, ...]
    _waiting_people: set[int]
    _suspending: set[int]
    _deadlines: Deadlines

    @property
    def workflow_id(self) -> str:
        raise NotImplementedError

    def _emit(self, event: events.Event) -> None:
        raise NotImplementedError

    def _maybe_suspend(self) -> None:
        raise NotImplementedError

    def _store_failed(self, exc: BaseException) -> None:
        raise NotImplementedError

    usage: dict[str, float]

    def _account_usage(
        self,
        step_id: str,
        attempt: int,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
        buckets: tuple[dict[str, float], ...] = (),
    ) -> None:
        """Add a model call to the run's usage (and any extra buckets) and report it."""
        for bucket in (self.usage, *buckets):
            bucket["prompt_tokens"] += prompt_tokens
            bucket["completion_tokens"] += completion_tokens
            bucket["total_tokens"] += prompt_tokens + completion_tokens
            bucket["cost_usd"] += cost_usd
        if self._listeners:
            self._emit(
                events.StepUsage(
                    self.run_id,
                    step_id,
                    attempt,
                    model,
                    prompt_tokens,
                    completion_tokens,
                    cost_usd,
                    self.clock.time(),
                )
            )

    async def _run_policies(
        self,
        cs: CompiledStep,
        kwargs: dict[str, Any],
        attempt: int,
        failed: Exception | None = None,
    ) -> Outcome:
        """Everything from the cache lookup to the last recovery strategy.

        `failed` is the error of attempt `attempt` when the caller already made it
        (the runner's fast path for simple steps): policies continue from there.

        Raises:
            asyncio.CancelledError: the run is cancelled, or pauses around a person.
        """
        i = cs.index
        record = self.records[i]
        assert record is not None
        first = attempt
        journal = self._journal
        cache_key = None
        if failed is not None:
            pass  # a simple step: no cache, no person, straight to the retry loop
        elif cs.cache is not None and self.results_cache is not None:
            cache_key = _cache_key(cs, kwargs)
            if cache_key is not None:
                found, value, _created = await self.results_cache.cache_get(cache_key)
                if found:
                    record.strategies.append("cache")
                    return Outcome(
                        StepStatus.CACHED,
                        self._typed(cs, value),
                        None,
                        attempt,
                        "cached result reused",
                        _dumps_or_none(value),
                        "cache",
                    )
        if self._desk is not None and any(r.strategy == "human_review" for r in cs.recovery):
            # A step that already went to human review (the run paused around it) does
            # not run again: it picks up the reviewer's answer.
            request = await self._desk.store.get_human_request(self.run_id, cs.step_id)
            if request is not None:
                record.strategies.append("human_review")
                request = await self._await_answer(cs, request, attempt)
                if request.status == "approved":
                    return Outcome(
                        StepStatus.COMPLETED,
                        request.answer,
                        None,
                        attempt,
                        "recovered by human_review",
                        _dumps_or_none(request.answer),
                        "human_review",
                    )
                from plait.people import ApprovalRejected

                rejected = ApprovalRejected(cs.step_id, request.reason, request.answered_by)
                return Outcome(StepStatus.FAILED, None, rejected, attempt, "")
        while True:
            record.attempts = attempt
            try:
                if failed is not None:
                    error, failed = failed, None
                    raise error
                if cs.is_approval:
                    result = await self._ask_person(cs, kwargs, attempt)
                else:
                    result = await self._attempt(cs, kwargs, attempt)
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                if (attempt - first + 1) < cs.max_attempts and _retryable(cs, exc):
                    delay = cs.retry.delay(attempt - first + 1)
                    if self._listeners:
                        self._emit(
                            events.StepRetrying(
                                self.run_id, cs.step_id, attempt, exc, delay, self.clock.time()
                            )
                        )
                    try:
                        if journal is not None:
                            await journal.commit(
                                [
                                    store.AttemptFailed(
                                        self.run_id,
                                        cs.step_id,
                                        attempt,
                                        self.clock.time(),
                                        _error_text(exc),
                                        type(exc).__name__,
                                        delay,
                                    )
                                ]
                            )
                        await self.clock.sleep(delay)
                        attempt += 1
                        if journal is not None:
                            await journal.commit(
                                [
                                    store.AttemptStarted(
                                        self.run_id, cs.step_id, attempt, self.clock.time(), None
                                    )
                                ]
                            )
                    except asyncio.CancelledError:
                        raise
                    except Exception as store_exc:
                        self._store_failed(store_exc)
                        return Outcome(StepStatus.CANCELLED, None, exc, attempt, "the store failed")
                    if self._listeners:
                        self._emit(
                            events.StepStarted(
                                self.run_id, cs.step_id, attempt, kwargs, self.clock.time()
                            )
                        )
                    continue
                if cs.recovery:
                    recovered = await self._recover(cs, kwargs, attempt, exc)
                    if recovered is not None:
                        status, result, attempt, strategy, exc = recovered
                        if status is not StepStatus.FAILED:
                            return Outcome(
                                status,
                                result,
                                None,
                                attempt,
                                f"recovered by {strategy}",
                                _dumps_or_none(result),
                                strategy,
                            )
                return Outcome(StepStatus.FAILED, None, exc, attempt, "")
            return await self._completed(cs, kwargs, attempt, result, cache_key)

    async def _completed(
        self,
        cs: CompiledStep,
        kwargs: dict[str, Any],
        attempt: int,
        result: Any,
        cache_key: str | None = None,
    ) -> Outcome:
        """A successful attempt: its JSON (for the journal) checked, the cache fed."""
        result_json = None
        if self._journal is not None:
            from plait.jsonable import dumps

            try:
                result_json = dumps(result)
            except (TypeError, ValueError) as exc:
                return Outcome(StepStatus.FAILED, None, exc, attempt, "")
        if self.results_cache is not None:
            await self._remember(cs, kwargs, result, cache_key)
        return Outcome(StepStatus.COMPLETED, result, None, attempt, "", result_json)

    async def _attempt(
        self, cs: CompiledStep, kwargs: dict[str, Any], attempt: int, timeout: float | None = None
    ) -> Any:
        fn = cs.fn
        if cs.wants_context:
            host = cast("ContextHost", self)  # every host of these policies is one
            fn = functools.partial(fn, context=StepContext(host, cs.step_id, attempt))
        awaitable: Awaitable[Any]
        if cs.executor is not None:  # another process or machine (plait.executors)
            from plait import executors

            awaitable = executors.run(cs.executor, fn, kwargs)
        elif cs.is_async:
            awaitable = fn(**kwargs)
        else:
            loop = asyncio.get_running_loop()
            awaitable = loop.run_in_executor(self._executor, functools.partial(fn, **kwargs))
        timeout = timeout or cs.timeout
        if timeout is None:
            result = await awaitable
            if not cs.is_async and inspect.isawaitable(result):
                result = await result
            return result
        task = asyncio.current_task()
        assert task is not None
        deadline = self._deadlines.add(timeout, task)
        try:
            result = await awaitable
            if not cs.is_async and inspect.isawaitable(result):  # a plain fn returning a coro
                result = await result
        except asyncio.CancelledError:
            if deadline.fired:
                task.uncancel()
                raise AttemptTimeout(
                    f"attempt {attempt} ran past timeout_seconds={timeout:g} and was cancelled"
                ) from None
            raise
        finally:
            self._deadlines.finish(deadline)
        return result

    async def _ask_person(self, cs: CompiledStep, kwargs: dict[str, Any], attempt: int) -> Any:
        from plait.people import ApprovalRejected, answer_as_result

        desk = self._desk
        if desk is None:
            raise errors.PlaitError(
                f"step {cs.step_id!r} asks a person, but this engine has no store to keep "
                "the request in: use WorkflowEngine(store=...)"
            )
        policy = cs.step.approval or ApprovalPolicy()
        request = await desk.open(self.run_id, cs.step_id, policy, kwargs, self.clock.time())
        request = await self._await_answer(cs, request, attempt)
        if request.status in ("approved",) or (
            request.status == "expired" and request.default_outcome == "approve"
        ):
            return answer_as_result(request)
        raise ApprovalRejected(cs.step_id, request.reason, request.answered_by)

    async def _await_answer(self, cs: CompiledStep, request: Any, attempt: int) -> Any:
        """Wait for a person to answer `request`; the run pauses if nothing else runs."""
        desk = self._desk
        assert desk is not None
        i = cs.index
        expires, now = request.expires_at, self.clock.time()
        if request.status == "pending" and request.default_outcome and expires and expires <= now:
            # Its time ran out while no process waited (the run was paused): apply the
            # default now, rather than pause again for an answer that no longer counts.
            request = await desk.expire(request, now)
        if request.status == "pending":
            if self._journal is not None:
                await self._journal.commit(
                    [
                        store.StepSettled(
                            self.run_id,
                            cs.step_id,
                            StepStatus.WAITING.value,
                            attempt,
                            self.clock.time(),
                            reason="waiting for a person",
                        )
                    ]
                )
            future = desk.wait(self.run_id, cs.step_id)
            self._waiting_people.add(i)
            self._maybe_suspend()
            try:
                if request.expires_at is not None:
                    remaining = max(0.0, request.expires_at - self.clock.time())
                    try:
                        async with asyncio.timeout(remaining):
                            request = await asyncio.shield(future)
                    except TimeoutError:
                        if request.default_outcome is None:
                            raise
                        request = await desk.expire(request, self.clock.time())
                else:
                    request = await asyncio.shield(future)
            finally:
                self._waiting_people.discard(i)
                if i in self._suspending or future.cancelled():
                    desk.stop_waiting(self.run_id, cs.step_id)
        return request

    async def _recover(
        self, cs: CompiledStep, kwargs: dict[str, Any], attempt: int, error: Exception
    ) -> tuple[StepStatus, Any, int, str, Exception] | None:
        """Try the step's recovery strategies in order; None if none applied.

        Returns (status, result, last attempt number, strategy, last error); a FAILED
        status means strategies ran but none recovered the step.
        """
        record = self.records[cs.index]
        assert record is not None
        taken = ""
        for strategy in cs.recovery:
            if not strategy.handles(error):
                continue
            name = strategy.strategy
            taken = name
            record.strategies.append(name)
            if self._listeners:
                self._emit(
                    events.StepRetrying(
                        self.run_id,
                        cs.step_id,
                        attempt,
                        error,
                        0.0,
                        self.clock.time(),
                        strategy=name,
                    )
                )
            if name == "extend_timeout":
                timeout = cs.timeout or 300.0
                for _ in range(max(1, strategy.attempts)):
                    timeout *= strategy.factor
                    if strategy.max_timeout_seconds is not None:
                        timeout = min(timeout, strategy.max_timeout_seconds)
                    attempt = await self._note_attempt(cs, attempt, error, name)
                    try:
                        result = await self._attempt(cs, kwargs, attempt, timeout=timeout)
                    except asyncio.CancelledError:
                        raise
                    except Exception as exc:
                        error = exc
                        if not strategy.handles(exc):
                            break
                        continue
                    if self.results_cache is not None:
                        await self._remember(cs, kwargs, result, None)
                    return StepStatus.COMPLETED, result, attempt, name, error
            elif name == "use_cache":
                attempt = await self._note_attempt(cs, attempt, error, name)
                key = _last_good_key(self.workflow_id, cs, kwargs)
                if key is not None and self.results_cache is not None:
                    found, value, created = await self.results_cache.cache_get(key)
                    age_ok = strategy.max_age_seconds is None or (
                        self.clock.time() - created <= strategy.max_age_seconds
                    )
                    if found and age_ok:
                        return StepStatus.CACHED, self._typed(cs, value), attempt, name, error
                error = _NoCachedResult(
                    f"{type(error).__name__}: {error}; and no cached result of step "
                    f"{cs.step_id!r} for these inputs"
                    + (f" within {strategy.max_age_seconds:g}s" if strategy.max_age_seconds else "")
                )
            elif name == "human_review":
                attempt = await self._note_attempt(cs, attempt, error, name)
                if self._desk is None:
                    continue
                from plait.people import ApprovalRejected

                policy = ApprovalPolicy(strategy.prompt, strategy.assignees)
                request = await self._desk.open(
                    self.run_id,
                    cs.step_id,
                    policy,
                    {"error": f"{type(error).__name__}: {error}", "inputs": kwargs},
                    self.clock.time(),
                )
                request = await self._await_answer(cs, request, attempt)
                if request.status == "approved":
                    return StepStatus.COMPLETED, request.answer, attempt, name, error
                error = ApprovalRejected(cs.step_id, request.reason, request.answered_by)
            elif name == "degrade":
                attempt = await self._note_attempt(cs, attempt, error, name)
                if cs.step_id in self.partials:
                    value = self.partials[cs.step_id]
                elif getattr(error, "partial_result", None) is not None:
                    value = error.partial_result  # type: ignore[attr-defined]
                else:
                    value = strategy.default
                return StepStatus.DEGRADED, value, attempt, name, error
        return (StepStatus.FAILED, None, attempt, taken, error) if taken else None

    async def _note_attempt(
        self, cs: CompiledStep, attempt: int, error: BaseException, strategy: str
    ) -> int:
        """Close the failed attempt and open the next one, made by a recovery strategy."""
        nxt = attempt + 1
        record = self.records[cs.index]
        if record is not None:
            record.attempts = nxt
        if self._journal is not None:
            now = self.clock.time()
            await self._journal.commit(
                [
                    store.AttemptFailed(
                        self.run_id,
                        cs.step_id,
                        attempt,
                        now,
                        _error_text(error),
                        type(error).__name__,
                        0.0,
                    ),
                    store.AttemptStarted(self.run_id, cs.step_id, nxt, now, None, strategy),
                ]
            )
        return nxt

    async def _remember(
        self, cs: CompiledStep, kwargs: dict[str, Any], result: Any, cache_key: str | None
    ) -> None:
        """Keep a fresh result for the cache policy and for `use_cache` recovery."""
        cache = self.results_cache
        assert cache is not None
        wants_last = any(r.strategy == "use_cache" for r in cs.recovery)
        if cache_key is None and not wants_last:
            return
        text = _dumps_or_none(result)
        if text is None:
            return
        now = self.clock.time()
        workflow_id = self.workflow_id
        if cache_key is not None and cs.cache is not None:
            ttl = cs.cache.ttl_seconds
            await cache.cache_put(
                cache_key,
                workflow_id=workflow_id,
                step_id=cs.step_id,
                result_json=text,
                created_at=now,
                expires_at=now + ttl if ttl is not None else None,
            )
        if wants_last:
            key = _last_good_key(workflow_id, cs, kwargs)
            if key is not None:
                await cache.cache_put(
                    key,
                    workflow_id=workflow_id,
                    step_id=cs.step_id,
                    result_json=text,
                    created_at=now,
                    expires_at=None,
                )

    def _typed(self, cs: CompiledStep, value: Any) -> Any:
        from plait.jsonable import restore

        return restore(cs.fn, value)


def _retryable(cs: CompiledStep, error: Exception) -> bool:
    """Retry unless the policy excludes it, it is a budget stop, or it says it is final."""
    if cs.is_approval or isinstance(error, errors.BudgetExceededError):
        return False
    if getattr(error, "retryable", True) is False:
        return False
    return cs.retry.should_retry(error)


def _error_text(error: BaseException) -> str:
    return f"{type(error).__name__}: {error}"


class _NoCachedResult(ConnectionError):
    """`use_cache` found nothing to fall back to; carries the original error's text."""


def _canonical(kwargs: dict[str, Any]) -> str | None:
    import json

    from plait.jsonable import to_jsonable

    try:
        return json.dumps(kwargs, sort_keys=True, default=to_jsonable, separators=(",", ":"))
    except (TypeError, ValueError):
        return None  # inputs that have no stable JSON form are never cached


def _cache_key(cs: CompiledStep, kwargs: dict[str, Any]) -> str | None:
    import hashlib

    text = _canonical(kwargs)
    if text is None or cs.cache is None:
        return None
    material = f"{cs.identity}\n{cs.cache.version}\n{text}"
    return "cache:" + hashlib.sha256(material.encode()).hexdigest()


def _last_good_key(workflow_id: str, cs: CompiledStep, kwargs: dict[str, Any]) -> str | None:
    import hashlib

    text = _canonical(kwargs)
    if text is None:
        return None
    digest = hashlib.sha256(text.encode()).hexdigest()
    return f"last:{workflow_id}:{cs.step_id}:{digest}"


def _dumps_or_none(value: Any) -> str | None:
    from plait.jsonable import dumps

    try:
        return dumps(value)
    except (TypeError, ValueError):
        return None
