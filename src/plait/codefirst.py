"""Code-first durable workflows: plain async Python, made durable by two decorators.

Inside a running workflow, calling a step checkpoints it: its inputs, attempts,
result or error go to the store like a declared step's. Each call gets its key
(`name`, then `name#2`, ...) and its sequence number *when the call is made*, so
`asyncio.gather(a(), b())` numbers its calls the same way on every replay. On
resume, the workflow function runs again from the top: completed calls return
their stored results at once, and the first unfinished call runs for real. If
the code now calls a different step at some position than it did when the run
began, the run stops with `DivergenceError` naming that call.

Outside a running workflow, decorated functions are plain functions.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import inspect
import uuid
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from plait import errors, events
from plait.clock import SYSTEM_CLOCK, Clock
from plait.definition import (
    ApprovalPolicy,
    CachePolicy,
    InputSpec,
    RecoveryStrategy,
    WorkflowStep,
)
from plait.graph import CompiledStep, compile_step
from plait.policies import Deadlines, Outcome, StepPolicies, _error_text
from plait.retry import RetryPolicy
from plait.store import base as store
from plait.types import StepStatus, WorkflowStatus

if TYPE_CHECKING:
    from plait.journal import Journal
    from plait.people import HumanDesk
    from plait.runner import StepRecord
    from plait.store.base import StepRow, Store

P = ParamSpec("P")
R = TypeVar("R")

_CURRENT: contextvars.ContextVar[FunctionRun | None] = contextvars.ContextVar(
    "plait_current_run", default=None
)
LONG_SLEEP_S = 60.0
"""A durable sleep at least this long pauses the run (its process may exit)."""


class DivergenceError(errors.PlaitError):
    """The workflow's code now makes different step calls than when the run began."""


class _Suspend(BaseException):
    """Unwinds a workflow that waits for a person or a long sleep, so the run can pause."""


# --- decorators ---------------------------------------------------------------------------


class StepFunction(Generic[P, R]):
    """A function marked with `@plait.step`: checkpointed when called inside a workflow."""

    def __init__(
        self, fn: Callable[P, Awaitable[R]] | Callable[P, R], *, name: str, step: WorkflowStep
    ) -> None:
        self.fn = fn
        self.name = name
        self.compiled = compile_step(step)
        self._signature = inspect.signature(fn)
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Any:
        run = _CURRENT.get()
        if run is None:
            return self.fn(*args, **kwargs)  # a plain call, as in unit tests of the piece
        bound = self._signature.bind(*args, **kwargs)
        return run.call(self, dict(bound.arguments))

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return _BoundStep(self, instance)


class _BoundStep:
    """A step method bound to its object; `self` is not part of the checkpointed inputs."""

    def __init__(self, step: StepFunction[Any, Any], instance: Any) -> None:
        self.step = step
        self.instance = instance

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        run = _CURRENT.get()
        if run is None:
            return self.step.fn(self.instance, *args, **kwargs)
        bound = self.step._signature.bind(self.instance, *args, **kwargs)
        arguments = dict(bound.arguments)
        first = next(iter(self.step._signature.parameters))
        arguments.pop(first, None)
        return run.call(self.step, arguments, instance=self.instance)


@overload
def step(fn: Callable[P, R], /) -> StepFunction[P, R]: ...


@overload
def step(
    *,
    name: str | None = None,
    retry_count: int = 3,
    timeout_seconds: float | None = 300,
    retry: RetryPolicy | None = None,
    recovery: Sequence[RecoveryStrategy] | None = None,
    cache: CachePolicy | None = None,
    agent: str | None = None,
) -> Callable[[Callable[P, R]], StepFunction[P, R]]: ...


def step(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    name: str | None = None,
    retry_count: int = 3,
    timeout_seconds: float | None = 300,
    retry: RetryPolicy | None = None,
    recovery: Sequence[RecoveryStrategy] | None = None,
    cache: CachePolicy | None = None,
    agent: str | None = None,
) -> Any:
    """Mark a function (sync or async, or a method) as a step with the usual policies."""

    def decorate(target: Callable[..., Any]) -> StepFunction[Any, Any]:
        step_name = name or target.__name__
        spec = WorkflowStep(
            step_name,
            agent=agent,
            action=target,
            retry_count=retry_count,
            timeout_seconds=timeout_seconds,
            retry=retry,
            recovery=recovery,
            cache=cache,
        )
        return StepFunction(target, name=step_name, step=spec)

    return decorate(fn) if fn is not None else decorate


class WorkflowFunction(Generic[P, R]):
    """A function marked with `@plait.workflow`: run durably by `WorkflowEngine`."""

    def __init__(
        self, fn: Callable[P, Awaitable[R]], *, workflow_id: str, name: str, instance: Any = None
    ) -> None:
        self.fn = fn
        self.workflow_id = workflow_id
        self.name = name
        self.instance = instance
        self.source: str | None = None
        """Where `plait run` loaded it from (`file.py:function`), for resume."""
        functools.update_wrapper(self, fn)

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Awaitable[R]:
        if self.instance is not None:
            return self.fn(self.instance, *args, **kwargs)
        return self.fn(*args, **kwargs)

    def __get__(self, instance: Any, owner: Any = None) -> Any:
        if instance is None:
            return self
        return WorkflowFunction(
            self.fn, workflow_id=self.workflow_id, name=self.name, instance=instance
        )

    @property
    def input_specs(self) -> dict[str, InputSpec]:
        """The function's parameters as declared run inputs (typed from annotations)."""
        signature = inspect.signature(self.fn)
        hints = _hints(self.fn)
        specs = {}
        params = list(signature.parameters.values())
        if self.instance is not None:
            params = params[1:]
        for p in params:
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            kind = _TYPE_NAMES.get(hints.get(p.name), "any")
            required = p.default is inspect.Parameter.empty
            specs[p.name] = InputSpec(p.name, kind, None if required else p.default, required)
        return specs


_TYPE_NAMES: dict[Any, str] = {
    str: "string",
    int: "integer",
    float: "number",
    bool: "boolean",
    dict: "object",
    list: "array",
}


def _hints(fn: Callable[..., Any]) -> dict[str, Any]:
    import typing

    try:
        return typing.get_type_hints(fn)
    except Exception:
        return {}


@overload
def workflow(fn: Callable[P, Awaitable[R]], /) -> WorkflowFunction[P, R]: ...


@overload
def workflow(
    *, workflow_id: str | None = None, name: str | None = None
) -> Callable[[Callable[P, Awaitable[R]]], WorkflowFunction[P, R]]: ...


def workflow(
    fn: Callable[..., Any] | None = None,
    /,
    *,
    workflow_id: str | None = None,
    name: str | None = None,
) -> Any:
    """Mark an async function (or method) as a durable workflow."""

    def decorate(target: Callable[..., Awaitable[Any]]) -> WorkflowFunction[Any, Any]:
        if not inspect.iscoroutinefunction(target):
            raise TypeError(f"@plait.workflow needs an async def function, not {target!r}")
        wid = workflow_id or target.__name__
        return WorkflowFunction(target, workflow_id=wid, name=name or wid)

    return decorate(fn) if fn is not None else decorate


# --- durable waits ---------------------------------------------------------------------------


async def sleep(seconds: float) -> None:
    """A durable sleep: survives the process; long ones pause the run so the process may exit.

    Outside a workflow it is `asyncio.sleep`.
    """
    run = _CURRENT.get()
    if run is None:
        await asyncio.sleep(seconds)
        return
    await run.durable_sleep(seconds)


async def wait_for_approval(
    prompt: str = "Please review",
    *,
    data: Any = None,
    assignees: Sequence[str] = (),
    timeout_seconds: float | None = None,
    default: str | None = None,
) -> dict[str, Any]:
    """Ask a person (the same requests as approval steps); returns their answer.

    Raises:
        ApprovalRejected: the person said no.
    """
    run = _CURRENT.get()
    if run is None:
        raise errors.PlaitError("wait_for_approval() needs a running workflow to pause")
    policy = ApprovalPolicy(prompt, tuple(assignees), timeout_seconds, default)
    result: dict[str, Any] = await run.approval(policy, data)
    return result


# --- the run ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Replay:
    """What an earlier execution of this run recorded, by call sequence number."""

    rows: Mapping[int, StepRow]


class FunctionRun(StepPolicies):
    """One run of a code-first workflow; `await run()` returns when it ends or pauses."""

    plan = None  # no declared graph: the engine checks this to tell the kinds apart

    def __init__(
        self,
        workflow: WorkflowFunction[Any, Any],
        *,
        run_inputs: Mapping[str, Any] | None = None,
        run_id: str | None = None,
        clock: Clock = SYSTEM_CLOCK,
        listeners: Sequence[events.Listener] = (),
        executor: Executor | None = None,
        wait_for_people: bool = False,
        replay: Mapping[int, StepRow] | None = None,
    ) -> None:
        self.workflow = workflow
        self.run_id = run_id or uuid.uuid4().hex[:12]
        self.run_inputs: Mapping[str, Any] = dict(run_inputs or {})
        self.clock = clock
        self.records: list[StepRecord | None] = []
        self.partials: dict[str, Any] = {}
        self.results_cache: Store | None = None
        self.usage: dict[str, float] = {
            "prompt_tokens": 0,
            "completion_tokens": 0,
            "total_tokens": 0,
            "cost_usd": 0.0,
        }
        self.status = WorkflowStatus.PENDING
        self.error: BaseException | None = None
        self.failed_step: str | None = None
        self.store_error: BaseException | None = None
        self.output: Any = None
        self.keys: list[str] = []
        """Step-call keys in call order."""
        self.statuses: list[StepStatus] = []
        self.results: list[Any] = []
        self._replay = _Replay(dict(replay or {}))
        self._counts: dict[str, int] = {}
        self._journal: Journal | None = None
        self._desk: HumanDesk | None = None
        self._executor = executor
        self._listeners = tuple(listeners)
        self._wait_for_people = wait_for_people
        self._waiting_people: set[int] = set()
        self._suspending: set[int] = set()
        self._in_flight = 0
        self._deadlines = Deadlines()
        self._task: asyncio.Task[Any] | None = None
        self._suspended = False
        self._cancelled = False
        self._started_at = 0.0
        self._elapsed = 0.0

    # --- identity for contexts and policies ---------------------------------------------------

    @property
    def workflow_id(self) -> str:
        return self.workflow.workflow_id

    @property
    def started_at(self) -> float:
        return self._started_at

    @property
    def duration(self) -> float:
        return self._elapsed

    def result_of(self, step_id: str) -> Any:
        for k, key in enumerate(self.keys):
            if key == step_id and self.statuses[k].succeeded:
                return self.results[k]
        raise KeyError(step_id)

    def finished_ids(self) -> Iterator[str]:
        return (key for k, key in enumerate(self.keys) if self.statuses[k].succeeded)

    def add_usage(
        self,
        step_id: str,
        attempt: int,
        model: str,
        prompt_tokens: int,
        completion_tokens: int,
        cost_usd: float,
    ) -> None:
        self._account_usage(step_id, attempt, model, prompt_tokens, completion_tokens, cost_usd)

    def check_budget(self, step_id: str, tokens: int, cost_usd: float) -> None:
        return None  # budgets belong to declared workflows for now

    def report_progress(self, step_id: str, attempt: int, text: str) -> None:
        if self._listeners:
            self._emit(events.StepProgress(self.run_id, step_id, attempt, text, self.clock.time()))

    @property
    def waiting_for_people(self) -> list[str]:
        return [self.keys[k] for k, s in enumerate(self.statuses) if s is StepStatus.WAITING]

    # --- running ------------------------------------------------------------------------------

    async def run(self) -> WorkflowStatus:
        """Run (or replay, then continue) the workflow function until it ends or pauses."""
        self.status = WorkflowStatus.RUNNING
        began = self.clock.monotonic()
        if not self._started_at:
            self._started_at = self.clock.time()
        if self._listeners:
            self._emit(
                events.RunStarted(
                    self.run_id, self.workflow_id, dict(self.run_inputs), (), self._started_at
                )
            )
        # Every (re)start replays the function from the top, from what is known so far.
        self._replay = _Replay({**self._replay.rows, **self._progress()})
        self.keys, self.statuses, self.results, self.records = [], [], [], []
        self._counts = {}
        self._suspended = False
        token = _CURRENT.set(self)
        try:
            self._task = asyncio.get_running_loop().create_task(
                self._call_workflow(), name=f"plait:{self.run_id}"
            )
        finally:
            _CURRENT.reset(token)
        try:
            self.output = await self._task
            self.status = WorkflowStatus.COMPLETED
        except _Suspend:
            self.status = WorkflowStatus.PAUSED
        except asyncio.CancelledError:
            if self._suspended:
                self.status = WorkflowStatus.PAUSED
            elif self._cancelled:
                self.status = WorkflowStatus.CANCELLED
            else:
                raise
        except DivergenceError as exc:
            self.error = exc
            self.status = WorkflowStatus.FAILED
        except errors.StepFailedError as exc:
            self.error = exc
            self.failed_step = exc.step_id
            self.status = WorkflowStatus.FAILED
        except Exception as exc:  # the workflow's own code raised
            self.error = exc
            self.status = WorkflowStatus.FAILED
        finally:
            self._elapsed += self.clock.monotonic() - began
        if self.store_error is not None:
            self.status = WorkflowStatus.FAILED
        self._deadlines.close()
        if self._listeners:
            self._emit(
                events.RunFinished(
                    self.run_id,
                    self.workflow_id,
                    self.status,
                    self.error,
                    self._elapsed,
                    self.clock.time(),
                )
            )
        return self.status

    async def _call_workflow(self) -> Any:
        return await self.workflow(**self.run_inputs)

    def pause(self) -> None:
        """Stop at the next step call boundary; running calls are cancelled and rerun later."""
        self._suspend_now()

    def cancel(self) -> None:
        self._cancelled = True
        if self._task is not None:
            self._task.cancel()

    def _suspend_now(self) -> None:
        self._suspended = True
        if self._task is not None and not self._task.done():
            self._task.cancel()

    # --- step calls ---------------------------------------------------------------------------

    def _progress(self) -> dict[int, StepRow]:
        """This process's finished (or waiting) calls, as rows a replay can use."""
        from plait.store.base import StepRow

        rows = {}
        for seq, (key, status) in enumerate(zip(self.keys, self.statuses, strict=True)):
            if status.succeeded or status in (StepStatus.FAILED, StepStatus.WAITING):
                record = self.records[seq]
                rows[seq] = StepRow(
                    self.run_id,
                    key,
                    status.value,
                    record.attempts if record else 1,
                    self.results[seq],
                    error=_error_text(record.error) if record and record.error else None,
                    seq=seq,
                )
        return rows

    def _next_key(self, name: str) -> tuple[int, str]:
        n = self._counts.get(name, 0) + 1
        self._counts[name] = n
        seq = len(self.keys)
        key = name if n == 1 else f"{name}#{n}"
        stored = self._replay.rows.get(seq)
        if stored is not None and stored.step_id != key:
            raise DivergenceError(
                f"the workflow's code changed: call #{seq + 1} was step {stored.step_id!r} when "
                f"run {self.run_id} began, and is now {key!r}; finish the run with the old code, "
                "or start a new run"
            )
        self.keys.append(key)
        self.statuses.append(StepStatus.PENDING)
        self.results.append(None)
        self.records.append(None)
        return seq, key

    def call(
        self, step_fn: StepFunction[Any, Any], arguments: dict[str, Any], *, instance: Any = None
    ) -> Awaitable[Any]:
        """Number the call now (call order, not completion order) and return its awaitable."""
        seq, key = self._next_key(step_fn.name)
        cs = replace(step_fn.compiled, index=seq, step_id=key)
        if instance is not None:
            cs = replace(cs, fn=functools.partial(step_fn.compiled.fn, instance))
        return self._run_call(cs, seq, arguments)

    async def _run_call(self, cs: CompiledStep, seq: int, kwargs: dict[str, Any]) -> Any:
        from plait.jsonable import restore
        from plait.runner import StepRecord

        stored = self._replay.rows.get(seq)
        if stored is not None and StepStatus(stored.status).succeeded:
            value = restore(cs.fn, stored.result)
            self._record(seq, StepStatus(stored.status), value, stored.attempts)
            return value
        if stored is not None and stored.status == "failed" and not cs.is_approval:
            error = errors.StepFailedError(
                cs.step_id, stored.attempts, RuntimeError(stored.error or "failed")
            )
            self._record(seq, StepStatus.FAILED, None, stored.attempts)
            raise error
        attempt = (stored.attempts if stored is not None else 0) + 1
        clock = self.clock
        self.records[seq] = StepRecord(
            attempts=attempt, started_at=clock.time(), started=clock.monotonic(), inputs=kwargs
        )
        self.statuses[seq] = StepStatus.RUNNING
        await self._commit(
            [
                store.AttemptStarted(
                    self.run_id,
                    cs.step_id,
                    attempt,
                    clock.time(),
                    _inputs_json(kwargs),
                    agent=cs.agent,
                    seq=seq,
                )
            ]
        )
        if self._listeners:
            self._emit(events.StepStarted(self.run_id, cs.step_id, attempt, kwargs, clock.time()))
        self._in_flight += 1
        try:
            outcome = await self._run_policies(cs, kwargs, attempt)
        except asyncio.CancelledError:
            if not self._suspended:
                await self._settle(
                    cs,
                    seq,
                    Outcome(StepStatus.CANCELLED, None, None, attempt, "the run was cancelled"),
                )
            raise
        finally:
            self._in_flight -= 1
        await self._settle(cs, seq, outcome)
        if outcome.status.succeeded:
            return outcome.result
        assert outcome.error is not None
        kind = (
            errors.StepTimeoutError
            if isinstance(outcome.error, TimeoutError)
            else errors.StepFailedError
        )
        raise kind(cs.step_id, outcome.attempts, outcome.error) from outcome.error

    async def _settle(self, cs: CompiledStep, seq: int, outcome: Outcome) -> None:
        record = self.records[seq]
        duration = self.clock.monotonic() - record.started if record else None
        if record is not None:
            record.duration = duration
            record.reason = outcome.reason
            record.error = outcome.error
        self._record(seq, outcome.status, outcome.result, outcome.attempts)
        error = outcome.error
        await self._commit(
            [
                store.StepSettled(
                    self.run_id,
                    cs.step_id,
                    outcome.status.value,
                    outcome.attempts,
                    self.clock.time(),
                    outcome.result_json
                    if outcome.result_json is not None
                    else _json_or_none(outcome.result)
                    if outcome.status.succeeded
                    else None,
                    _error_text(error) if error else None,
                    type(error).__name__ if error else None,
                    duration,
                    outcome.reason,
                    outcome.strategy,
                )
            ]
        )
        if self._listeners:
            self._emit(
                events.StepFinished(
                    self.run_id,
                    cs.step_id,
                    outcome.status,
                    outcome.attempts,
                    outcome.result,
                    error,
                    duration or 0.0,
                    self.clock.time(),
                    outcome.reason,
                )
            )

    def _record(self, seq: int, status: StepStatus, value: Any, attempts: int) -> None:
        from plait.runner import StepRecord

        self.statuses[seq] = status
        self.results[seq] = value
        if self.records[seq] is None:
            self.records[seq] = StepRecord(attempts=attempts, reason="recorded before the resume")

    async def _commit(self, writes: list[store.Write]) -> None:
        if self._journal is None:
            return
        try:
            await self._journal.commit(writes)
        except Exception as exc:
            self._store_failed(exc)
            raise

    def _store_failed(self, exc: BaseException) -> None:
        if self.store_error is None:
            self.store_error = exc
            self.error = exc

    def _emit(self, event: events.Event) -> None:
        for listener in self._listeners:
            listener.on_event(event)

    # --- waiting for people and time ----------------------------------------------------------

    def _maybe_suspend(self) -> None:
        """Pause the run when every call in flight waits for a person."""
        if self._wait_for_people or not self._waiting_people:
            return
        if self._in_flight <= len(self._waiting_people):
            for seq in self._waiting_people:
                self.statuses[seq] = StepStatus.WAITING
            self._suspend_now()

    async def approval(self, policy: ApprovalPolicy, data: Any) -> dict[str, Any]:
        from plait.graph import _ask_a_person

        seq, key = self._next_key("approval")
        approval_step = WorkflowStep(key, kind="approval", approval=policy)
        cs = replace(compile_step(approval_step), index=seq, fn=_ask_a_person)
        result: dict[str, Any] = await self._run_call(cs, seq, {"data": data})
        return result

    async def durable_sleep(self, seconds: float) -> None:
        seq, key = self._next_key("sleep")
        stored = self._replay.rows.get(seq)
        now = self.clock.time()
        if stored is not None and stored.status == "completed":
            self._record(seq, StepStatus.COMPLETED, None, stored.attempts)
            return
        wake_at = now + seconds
        if stored is not None and isinstance(stored.result, dict) and "wake_at" in stored.result:
            wake_at = float(stored.result["wake_at"])
        else:
            await self._commit(
                [
                    store.AttemptStarted(self.run_id, key, 1, now, None, seq=seq),
                    store.StepSettled(
                        self.run_id,
                        key,
                        StepStatus.WAITING.value,
                        1,
                        now,
                        _json_or_none({"wake_at": wake_at}),
                        reason=f"sleeping {seconds:g}s",
                    ),
                ]
            )
        self.statuses[seq] = StepStatus.WAITING
        self.results[seq] = {"wake_at": wake_at}
        remaining = wake_at - self.clock.time()
        if remaining >= LONG_SLEEP_S and not self._wait_for_people and self._in_flight == 0:
            self._suspended = True
            raise _Suspend()
        if remaining > 0:
            await self.clock.sleep(remaining)
        self._record(seq, StepStatus.COMPLETED, None, 1)
        await self._commit(
            [
                store.StepSettled(
                    self.run_id, key, StepStatus.COMPLETED.value, 1, self.clock.time(), "null"
                )
            ]
        )

    # --- the result -----------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        from plait.runner import describe_error

        steps: dict[str, dict[str, Any]] = {}
        for k, key in enumerate(self.keys):
            record = self.records[k]
            steps[key] = {
                "status": self.statuses[k].value,
                "attempts": record.attempts if record else 0,
                "strategies": list(record.strategies) if record else [],
                "duration_s": record.duration if record else None,
                "error": describe_error(record.error) if record else None,
                "reason": record.reason if record else "",
            }
        succeeded = [k for k, s in enumerate(self.statuses) if s.succeeded]
        return {
            "workflow_id": self.workflow_id,
            "run_id": self.run_id,
            "status": self.status.value,
            "results": {self.keys[k]: self.results[k] for k in succeeded},
            "completed_steps": [self.keys[k] for k in succeeded],
            "output": self.output if self.status is WorkflowStatus.COMPLETED else None,
            "error": describe_error(self.error),
            "failed_step": self.failed_step,
            "steps": steps,
            "waiting_for": self.waiting_for_people,
            "degraded_steps": [
                self.keys[k] for k, s in enumerate(self.statuses) if s is StepStatus.DEGRADED
            ],
            "usage": dict(self.usage),
            "duration_s": self._elapsed,
        }


def _json_or_none(value: Any) -> str | None:
    from plait.jsonable import dumps

    try:
        return dumps(value)
    except (TypeError, ValueError):
        return None


def _inputs_json(kwargs: dict[str, Any]) -> str | None:
    from plait.store.codec import lenient_dumps

    return lenient_dumps(kwargs)
