"""Running a workflow: timeouts, retries, cancellation, trigger rules, conditions, limits, hooks.

Steps that must stay busy await an `asyncio.Event` the test controls, so nothing
here depends on how fast the machine is. Backoff waits go through a fake clock that
returns at once; only step timeouts use (tiny) real time.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import pytest

from plait import (
    ExpressionError,
    InputError,
    InputSpec,
    RetryPolicy,
    StepFailedError,
    StepStatus,
    StepTimeoutError,
    WorkflowDefinition,
    WorkflowEngine,
    WorkflowStatus,
    WorkflowStep,
    WorkflowTimeoutError,
    events,
)
from plait.context import StepContext

if TYPE_CHECKING:
    from conftest import FakeClock, Recorder

TINY = 0.05
"""A step timeout short enough to keep the suite fast; no assertion reads elapsed time."""


def workflow(*steps: WorkflowStep, **kwargs: Any) -> WorkflowDefinition:
    return WorkflowDefinition("wf", "Workflow", "", list(steps), **kwargs)


def returns(value: Any) -> Callable[..., Any]:
    async def action(**inputs: Any) -> Any:
        return value

    return action


async def echo(**inputs: Any) -> Any:
    inputs.pop("context")  # an action taking **kwargs is given the context too
    return inputs


class Boom(Exception):
    pass


def failing(error: BaseException | None = None) -> Callable[..., Any]:
    async def action(**inputs: Any) -> Any:
        raise error or Boom("boom")

    return action


class Blocker:
    """An action that signals when it starts and then waits until released."""

    def __init__(self, value: Any = None) -> None:
        self.started = asyncio.Event()
        self.release = asyncio.Event()
        self.cancelled = 0
        self.value = value

    async def __call__(self, **inputs: Any) -> Any:
        self.started.set()
        try:
            await self.release.wait()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return self.value


class Flaky:
    """Fails `failures` times with `error`, then returns `value`; counts its calls."""

    def __init__(self, failures: int, error: type[Exception] = Boom, value: Any = "ok") -> None:
        self.failures = failures
        self.error = error
        self.value = value
        self.calls = 0

    async def __call__(self) -> Any:
        self.calls += 1
        if self.calls <= self.failures:
            raise self.error(f"failure {self.calls}")
        return self.value


def statuses(result: dict[str, Any]) -> dict[str, str]:
    return {sid: step["status"] for sid, step in result["steps"].items()}


# --- the result ----------------------------------------------------------------------


async def test_a_run_returns_the_guides_result_with_per_step_details(
    engine: WorkflowEngine,
) -> None:
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns(1)),
            WorkflowStep("b", action=echo, inputs={"x": "{{ a.result }}"}),
        )
    )
    assert result["workflow_id"] == "wf"
    assert result["status"] == "completed" == WorkflowStatus.COMPLETED
    assert result["results"] == {"a": 1, "b": {"x": 1}}
    assert result["completed_steps"] == ["a", "b"]
    assert result["error"] is None
    assert result["failed_step"] is None
    assert result["steps"]["b"] == {
        "status": "completed",
        "attempts": 1,
        "strategies": [],
        "duration_s": 0.0,  # the fake clock does not move while nothing sleeps
        "error": None,
        "reason": "",
    }
    assert isinstance(result["run_id"], str)
    assert engine.execution_history[-1]["run_id"] == result["run_id"]
    assert engine.execution_history[-1]["status"] == "completed"


async def test_the_output_is_resolved_from_the_results(engine: WorkflowEngine) -> None:
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns({"n": 2})),
            output={"total": "{{ a.result.n }}", "label": "n={{ a.result.n }}"},
        )
    )
    assert result["output"] == {"total": 2, "label": "n=2"}


async def test_run_inputs_fill_references_and_defaults(engine: WorkflowEngine) -> None:
    definition = workflow(
        WorkflowStep(
            "greet", action=echo, inputs={"text": "hi {{ inputs.name }}{{ inputs.mark }}"}
        ),
        inputs={
            "name": InputSpec("name", "string", required=True),
            "mark": InputSpec("mark", "string", default="!"),
        },
    )
    result = await engine.execute_workflow(definition, {"name": "Ada"})
    assert result["results"]["greet"] == {"text": "hi Ada!"}


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ({}, "input 'name' (string) is required"),
        ({"name": 3}, "input 'name' must be a string, got int 3"),
        ({"name": "x", "nmae": "y"}, "unknown input 'nmae' (declared inputs: name)"),
    ],
)
async def test_bad_run_inputs_are_refused_before_anything_runs(
    engine: WorkflowEngine, given: dict[str, Any], says: str
) -> None:
    ran = Flaky(0)
    definition = workflow(
        WorkflowStep("s", action=ran), inputs={"name": InputSpec("name", "string", required=True)}
    )
    with pytest.raises(InputError, match=re.escape(says)):
        await engine.execute_workflow(definition, given)
    assert ran.calls == 0


# --- dependencies ------------------------------------------------------------------


async def test_a_step_starts_while_an_unrelated_slow_step_is_still_running(
    engine: WorkflowEngine,
) -> None:
    slow = Blocker()
    seen_slow_running: list[bool] = []

    async def dependent(value: Any) -> Any:
        seen_slow_running.append(not slow.release.is_set())
        slow.release.set()
        return value

    async def watchdog() -> None:
        # Counts loop turns, not seconds: if `b` waited for `slow`, release it anyway
        # so the test fails on the assertion below instead of hanging.
        for _ in range(1_000):
            await asyncio.sleep(0)
        slow.release.set()

    guard = asyncio.create_task(watchdog())
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("slow", action=slow),
            WorkflowStep("a", action=returns(1)),
            WorkflowStep("b", action=dependent, inputs={"value": "{{ a.result }}"}),
        )
    )
    guard.cancel()
    assert result["status"] == "completed"
    assert seen_slow_running == [True]


# --- timeouts ------------------------------------------------------------------------


async def test_a_timed_out_attempt_is_cancelled_and_counts_as_a_failed_attempt(
    engine: WorkflowEngine, recorder: Recorder
) -> None:
    never = Blocker()
    result = await engine.execute_workflow(
        workflow(WorkflowStep("slow", action=never, retry_count=2, timeout_seconds=TINY))
    )
    assert never.cancelled == 2  # each attempt's coroutine saw CancelledError
    assert result["status"] == "failed"
    assert result["failed_step"] == "slow"
    step = result["steps"]["slow"]
    assert (step["status"], step["attempts"]) == ("failed", 2)
    assert (
        step["error"] == "AttemptTimeout: attempt 2 ran past timeout_seconds=0.05 and was cancelled"
    )
    [finished] = recorder.of(events.StepFinished, "slow")
    assert isinstance(finished.error, StepTimeoutError)
    assert isinstance(finished.error, TimeoutError)
    assert (finished.error.step_id, finished.error.attempts) == ("slow", 2)


async def test_an_attempt_after_a_timeout_may_succeed(engine: WorkflowEngine) -> None:
    calls = 0

    async def first_hangs() -> str:
        nonlocal calls
        calls += 1
        if calls == 1:
            await asyncio.Event().wait()
        return "second"

    result = await engine.execute_workflow(
        workflow(WorkflowStep("s", action=first_hangs, retry_count=2, timeout_seconds=TINY))
    )
    assert result["results"] == {"s": "second"}
    assert result["steps"]["s"]["attempts"] == 2


async def test_the_workflow_timeout_fails_the_run_and_cancels_its_steps(
    engine: WorkflowEngine,
) -> None:
    never = Blocker()
    handled: list[BaseException] = []
    definition = workflow(
        WorkflowStep("slow", action=never, timeout_seconds=None),
        WorkflowStep("after", action=returns(1), dependencies=["slow"]),
        timeout_seconds=TINY,
        error_handler=lambda error, results: handled.append(error),
    )
    result = await engine.execute_workflow(definition)
    assert result["status"] == "failed"
    assert (
        result["error"] == "WorkflowTimeoutError: workflow 'wf' ran past its timeout_seconds=0.05"
    )
    assert never.cancelled == 1
    assert result["steps"]["slow"]["status"] == "cancelled"
    assert result["steps"]["slow"]["reason"] == "the workflow timed out"
    assert result["steps"]["after"]["status"] == "cancelled"
    assert [type(e) for e in handled] == [WorkflowTimeoutError]


async def test_no_step_starts_after_the_workflow_has_timed_out(engine: WorkflowEngine) -> None:
    cleanup = Flaky(0)
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("slow", action=Blocker(), timeout_seconds=None),
            WorkflowStep("cleanup", action=cleanup, dependencies=["slow"], trigger_rule="all_done"),
            timeout_seconds=TINY,
        )
    )
    assert result["status"] == "failed"
    assert cleanup.calls == 0
    assert result["steps"]["cleanup"]["status"] == "cancelled"


# --- retries -------------------------------------------------------------------------


@pytest.mark.parametrize("retry_count", [1, 2, 3, 5])
async def test_the_number_of_attempts_is_retry_count_including_the_first(
    engine: WorkflowEngine, clock: FakeClock, retry_count: int
) -> None:
    always = Flaky(failures=99)
    result = await engine.execute_workflow(
        workflow(WorkflowStep("s", action=always, retry_count=retry_count))
    )
    assert always.calls == retry_count
    assert result["steps"]["s"]["attempts"] == retry_count
    assert result["steps"]["s"]["error"] == f"Boom: failure {retry_count}"
    assert len(clock.sleeps) == retry_count - 1


async def test_a_retry_count_of_zero_still_makes_one_attempt(engine: WorkflowEngine) -> None:
    once = Flaky(failures=99)
    await engine.execute_workflow(workflow(WorkflowStep("s", action=once, retry_count=0)))
    assert once.calls == 1


async def test_a_step_that_succeeds_on_a_later_attempt_completes(engine: WorkflowEngine) -> None:
    flaky = Flaky(failures=2, value="done")
    result = await engine.execute_workflow(workflow(WorkflowStep("s", action=flaky, retry_count=3)))
    assert result["results"] == {"s": "done"}
    assert result["steps"]["s"] == {
        "status": "completed",
        "attempts": 3,
        "strategies": [],
        "duration_s": result["steps"]["s"]["duration_s"],
        "error": None,
        "reason": "",
    }


async def test_backoff_delays_lie_within_the_policys_bounds(
    engine: WorkflowEngine, clock: FakeClock
) -> None:
    policy = RetryPolicy(initial_delay=0.5, multiplier=3.0, jitter=0.25, max_delay=10.0)
    await engine.execute_workflow(
        workflow(WorkflowStep("s", action=Flaky(99), retry_count=5, retry=policy))
    )
    assert len(clock.sleeps) == 4
    for failed_attempt, delay in enumerate(clock.sleeps, start=1):
        low, high = policy.bounds(failed_attempt)
        assert low <= delay <= high


async def test_the_default_backoff_follows_the_default_policy(
    engine: WorkflowEngine, clock: FakeClock
) -> None:
    await engine.execute_workflow(workflow(WorkflowStep("s", action=Flaky(99))))
    default = RetryPolicy()
    assert len(clock.sleeps) == 2  # the guide's default of 3 attempts
    for failed_attempt, delay in enumerate(clock.sleeps, start=1):
        low, high = default.bounds(failed_attempt)
        assert low <= delay <= high


class Transient(Exception):
    pass


class Fatal(Transient):
    pass


@pytest.mark.parametrize(
    ("error", "policy", "attempts"),
    [
        (Transient, RetryPolicy(retry_on=(Transient,)), 3),  # listed: retried
        (ValueError, RetryPolicy(retry_on=(Transient,)), 1),  # not listed: fails at once
        (Fatal, RetryPolicy(no_retry_on=(Fatal,)), 1),  # excluded: fails at once
        (Fatal, RetryPolicy(retry_on=(Transient,), no_retry_on=(Fatal,)), 1),  # exclusion wins
    ],
)
async def test_retry_on_and_no_retry_on_choose_which_errors_are_retried(
    engine: WorkflowEngine, error: type[Exception], policy: RetryPolicy, attempts: int
) -> None:
    action = Flaky(failures=99, error=error)
    result = await engine.execute_workflow(
        workflow(WorkflowStep("s", action=action, retry_count=3, retry=policy))
    )
    assert action.calls == attempts
    assert result["steps"]["s"]["attempts"] == attempts


# --- failure handling ----------------------------------------------------------------


async def test_a_failed_step_cancels_its_running_siblings_by_default(
    engine: WorkflowEngine,
) -> None:
    left, right = Blocker(), Blocker()

    async def fails_once_siblings_run() -> None:
        await left.started.wait()
        await right.started.wait()
        raise Boom("bad input")

    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("left", action=left),
            WorkflowStep("right", action=right),
            WorkflowStep("bad", action=fails_once_siblings_run, retry_count=1),
            WorkflowStep("after_left", action=returns(1), dependencies=["left"]),
        )
    )
    assert result["status"] == "failed"
    assert result["failed_step"] == "bad"
    assert result["error"] == "Boom: bad input"
    assert (left.cancelled, right.cancelled) == (1, 1)
    assert statuses(result) == {
        "left": "cancelled",
        "right": "cancelled",
        "bad": "failed",
        "after_left": "cancelled",
    }
    assert result["steps"]["left"]["reason"] == "another step failed"
    assert result["steps"]["after_left"]["reason"] == "the run ended before it could start"


async def test_on_failure_continue_lets_independent_branches_finish(
    engine: WorkflowEngine,
) -> None:
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("bad", action=failing(), retry_count=1),
            WorkflowStep("after_bad", action=returns(0), dependencies=["bad"]),
            WorkflowStep("good", action=returns(1)),
            WorkflowStep("after_good", action=returns(2), dependencies=["good"]),
            on_failure="continue",
        )
    )
    assert result["status"] == "failed"
    assert result["results"] == {"good": 1, "after_good": 2}
    assert statuses(result)["after_bad"] == "skipped"
    assert result["steps"]["after_bad"]["reason"] == "an upstream step failed (all_success)"


async def test_a_step_started_in_the_same_moment_a_sibling_fails_is_cancelled_cleanly(
    engine: WorkflowEngine,
) -> None:
    # `ok` and `bad` wake together; `ok` finishing starts `next`, then `bad` fails
    # before `next` has run a single line. The run must still end.
    gate = asyncio.Event()
    ran_next = Flaky(0)

    async def ok() -> int:
        await gate.wait()
        return 1

    async def bad() -> None:
        await gate.wait()
        raise Boom("late")

    async def open_gate() -> None:
        gate.set()

    run = engine.start(
        workflow(
            WorkflowStep("ok", action=ok),
            WorkflowStep("bad", action=bad, retry_count=1),
            WorkflowStep("next", action=ran_next, dependencies=["ok"]),
            WorkflowStep("opener", action=open_gate),
        )
    )
    result = await asyncio.wait_for(engine.wait(run.run_id), timeout=30)  # a hang fails here
    assert result["status"] == "failed"
    assert ran_next.calls == 0
    assert statuses(result) == {
        "ok": "completed",
        "bad": "failed",
        "next": "cancelled",
        "opener": "completed",
    }


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_the_error_handler_gets_the_error_and_the_results_so_far(
    engine: WorkflowEngine, kind: str
) -> None:
    calls: list[tuple[BaseException, dict[str, Any]]] = []

    def sync_handler(error: BaseException, results: dict[str, Any]) -> None:
        calls.append((error, results))

    async def async_handler(error: BaseException, results: dict[str, Any]) -> None:
        calls.append((error, results))

    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("first", action=returns("kept")),
            WorkflowStep("bad", action=failing(Boom("why")), dependencies=["first"], retry_count=2),
            error_handler=sync_handler if kind == "sync" else async_handler,
            success_callback=lambda results: pytest.fail("not on failure"),
        )
    )
    assert result["status"] == "failed"
    [(error, results)] = calls
    assert isinstance(error, StepFailedError)
    assert (error.step_id, error.attempts) == ("bad", 2)
    assert isinstance(error.__cause__, Boom)
    assert str(error) == "step 'bad' failed after 2 attempts: Boom: why"
    assert results == {"first": "kept"}


@pytest.mark.parametrize("kind", ["sync", "async"])
async def test_the_success_callback_gets_the_results(engine: WorkflowEngine, kind: str) -> None:
    calls: list[dict[str, Any]] = []

    def sync_callback(results: dict[str, Any]) -> None:
        calls.append(results)

    async def async_callback(results: dict[str, Any]) -> None:
        calls.append(results)

    await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns(1)),
            success_callback=sync_callback if kind == "sync" else async_callback,
            error_handler=lambda error, results: pytest.fail("not on success"),
        )
    )
    assert calls == [{"a": 1}]


async def test_a_plain_function_runs_in_a_worker_thread_and_never_blocks_the_loop(
    engine: WorkflowEngine,
) -> None:
    gate = threading.Event()
    threads: list[threading.Thread] = []

    def blocking() -> bool:
        threads.append(threading.current_thread())
        # Only the async step below can open the gate; on the loop's thread this
        # would wait out the timeout and return False.
        return gate.wait(timeout=30)

    async def opener() -> None:
        gate.set()

    result = await engine.execute_workflow(
        workflow(WorkflowStep("blocking", action=blocking), WorkflowStep("opener", action=opener))
    )
    assert result["results"]["blocking"] is True
    assert threads[0] is not threading.main_thread()
    assert threads[0] is not threading.current_thread()


async def test_a_plain_function_that_raises_fails_its_step(engine: WorkflowEngine) -> None:
    def broken() -> None:
        raise Boom("in a thread")

    result = await engine.execute_workflow(
        workflow(WorkflowStep("s", action=broken, retry_count=1))
    )
    assert result["steps"]["s"]["error"] == "Boom: in a thread"


async def test_a_plain_function_returning_a_coroutine_is_awaited(engine: WorkflowEngine) -> None:
    async def inner() -> str:
        return "awaited"

    def outer() -> Any:
        return inner()

    result = await engine.execute_workflow(workflow(WorkflowStep("s", action=outer)))
    assert result["results"] == {"s": "awaited"}


# --- trigger rules -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("rule", "upstream", "expected"),
    [
        ("all_success", ["completed", "completed"], "completed"),
        ("all_success", ["completed", "skipped"], "skipped"),
        ("all_success", ["completed", "failed"], "skipped"),
        ("all_done", ["failed", "skipped"], "completed"),
        ("one_success", ["completed", "skipped"], "completed"),
        ("one_success", ["skipped", "failed"], "skipped"),
        ("none_failed", ["completed", "skipped"], "completed"),
        ("none_failed", ["completed", "failed"], "skipped"),
    ],
)
async def test_trigger_rules_decide_from_the_upstream_outcomes(
    engine: WorkflowEngine, rule: str, upstream: list[str], expected: str
) -> None:
    def upstream_step(name: str, outcome: str) -> WorkflowStep:
        if outcome == "failed":
            return WorkflowStep(name, action=failing(), retry_count=1)
        return WorkflowStep(name, action=returns(name), condition=lambda ctx: outcome != "skipped")

    result = await engine.execute_workflow(
        workflow(
            upstream_step("u1", upstream[0]),
            upstream_step("u2", upstream[1]),
            WorkflowStep(
                "join", action=returns("ran"), dependencies=["u1", "u2"], trigger_rule=rule
            ),
            on_failure="continue",
        )
    )
    assert [result["steps"][u]["status"] for u in ("u1", "u2")] == upstream
    assert result["steps"]["join"]["status"] == expected


# --- conditions ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "condition",
    [
        lambda ctx: ctx["analyze"]["is_safe"] and ctx["analyze"]["confidence"] > 0.95,
        "analyze.result.is_safe and analyze.result.confidence > 0.95",
        "{{ analyze.result.is_safe and analyze.result.confidence > 0.95 }}",
    ],
    ids=["callable", "expression", "braced-expression"],
)
@pytest.mark.parametrize(
    ("analysis", "expected"),
    [
        ({"is_safe": True, "confidence": 0.99}, "completed"),
        ({"is_safe": True, "confidence": 0.5}, "skipped"),
        ({"is_safe": False, "confidence": 0.99}, "skipped"),
    ],
)
async def test_a_step_runs_only_when_its_condition_holds(
    engine: WorkflowEngine, condition: Any, analysis: dict[str, Any], expected: str
) -> None:
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("analyze", action=returns(analysis)),
            WorkflowStep(
                "approve", action=returns("ok"), dependencies=["analyze"], condition=condition
            ),
            WorkflowStep("notify", action=returns("sent"), dependencies=["approve"]),
        )
    )
    assert result["status"] == "completed"
    assert result["steps"]["approve"]["status"] == expected
    assert result["steps"]["notify"]["status"] == expected  # a skip skips what follows
    if expected == "skipped":
        assert result["steps"]["approve"]["reason"] == "its condition was false"
        assert "approve" not in result["results"]


async def test_a_callable_condition_sees_only_finished_results(engine: WorkflowEngine) -> None:
    seen: list[dict[str, Any]] = []
    slow = Blocker()

    def condition(ctx: StepContext) -> bool:
        seen.append(dict(ctx))
        slow.release.set()
        return True

    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns(1)),
            WorkflowStep("slow", action=slow),
            WorkflowStep("b", action=returns(2), dependencies=["a"], condition=condition),
        )
    )
    assert seen == [{"a": 1}]  # `slow` was still running
    assert result["status"] == "completed"


async def test_a_condition_that_raises_fails_the_step(engine: WorkflowEngine) -> None:
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns({})),
            WorkflowStep("b", action=returns(1), dependencies=["a"], condition=lambda ctx: 1 / 0),
        )
    )
    assert result["status"] == "failed"
    assert result["failed_step"] == "b"
    assert result["steps"]["b"]["status"] == "failed"
    assert result["steps"]["b"]["error"] == "ZeroDivisionError: division by zero"


@pytest.mark.parametrize(
    "condition",
    [
        "a.result.text * (10**9)",
        "a.result.__class__",
        "a.result.missing > 1",
    ],
)
async def test_an_unsafe_or_broken_condition_fails_the_step_cleanly(
    engine: WorkflowEngine, recorder: Recorder, condition: str
) -> None:
    body = Flaky(0)
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns({"text": "a"})),
            WorkflowStep("b", action=body, condition=condition),
        )
    )
    assert result["status"] == "failed"
    assert body.calls == 0
    [finished] = recorder.of(events.StepFinished, "b")
    assert isinstance(finished.error, StepFailedError)
    assert isinstance(finished.error.__cause__, ExpressionError)


async def test_a_reference_that_cannot_be_resolved_fails_the_step(engine: WorkflowEngine) -> None:
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns({"text": "t"})),
            WorkflowStep("b", action=echo, inputs={"x": "{{ a.result.txt }}"}),
        )
    )
    assert result["steps"]["b"]["status"] == "failed"
    assert result["steps"]["b"]["error"] == (
        "ExpressionError: the value (keys: text) has no 'txt' (in 'a.result.txt')"
    )


# --- references ----------------------------------------------------------------------


async def test_references_pass_values_between_steps(engine: WorkflowEngine) -> None:
    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns({"items": ["x", "y"], "meta": {"odd key": 7}})),
            WorkflowStep(
                "b",
                action=echo,
                inputs={
                    "whole": "{{ a.result }}",
                    "first": "{{ a.result.items[0] }}",
                    "keyed": "{{ a.result.meta['odd key'] }}",
                    "text": "got {{ a.result.items[1] }} and {{ a.result.meta }}",
                    "status": "{{ a.status }}",
                },
            ),
        )
    )
    assert result["results"]["b"] == {
        "whole": {"items": ["x", "y"], "meta": {"odd key": 7}},
        "first": "x",
        "keyed": 7,
        "text": 'got y and {"odd key": 7}',
        "status": "completed",
    }


# --- limits --------------------------------------------------------------------------


class Gauge:
    """Counts how many of its actions run at once, and the most ever seen."""

    def __init__(self) -> None:
        self.live = 0
        self.peak = 0

    def action(self) -> Callable[..., Any]:
        async def act() -> None:
            self.live += 1
            self.peak = max(self.peak, self.live)
            for _ in range(3):
                await asyncio.sleep(0)
            self.live -= 1

        return act


async def test_max_concurrency_is_never_exceeded(engine: WorkflowEngine) -> None:
    gauge = Gauge()
    result = await engine.execute_workflow(
        workflow(
            *(WorkflowStep(f"s{i}", action=gauge.action()) for i in range(8)), max_concurrency=3
        )
    )
    assert result["status"] == "completed"
    assert gauge.peak == 3


async def test_agent_concurrency_limits_each_agent_label(engine: WorkflowEngine) -> None:
    llm, db = Gauge(), Gauge()
    steps = [WorkflowStep(f"llm{i}", agent="llm", action=llm.action()) for i in range(5)]
    steps += [WorkflowStep(f"db{i}", agent="db", action=db.action()) for i in range(5)]
    result = await engine.execute_workflow(workflow(*steps, agent_concurrency={"llm": 2}))
    assert result["status"] == "completed"
    assert llm.peak == 2
    assert db.peak == 5  # no limit for this label


async def test_an_agent_objects_name_is_its_label(engine: WorkflowEngine) -> None:
    class Summarizer:
        name = "llm"

    gauge = Gauge()
    steps = [WorkflowStep(f"s{i}", agent=Summarizer(), action=gauge.action()) for i in range(4)]
    await engine.execute_workflow(workflow(*steps, agent_concurrency={"llm": 1}))
    assert gauge.peak == 1


# --- context -------------------------------------------------------------------------


async def test_an_action_taking_context_sees_its_run_step_and_attempt(
    engine: WorkflowEngine,
) -> None:
    seen: list[tuple[Any, ...]] = []

    async def action(context: StepContext) -> str:
        seen.append(
            (
                dict(context),
                context.step_id,
                context.attempt,
                context.idempotency_key,
                context.run_id,
            )
        )
        if context.attempt == 1:
            raise Boom("again")
        return "ok"

    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns(1)),
            WorkflowStep("b", action=action, dependencies=["a"]),
        )
    )
    run_id = result["run_id"]
    assert seen == [
        ({"a": 1}, "b", 1, f"{run_id}:b", run_id),
        ({"a": 1}, "b", 2, f"{run_id}:b", run_id),
    ]


async def test_the_context_is_read_only(engine: WorkflowEngine) -> None:
    async def action(context: Any) -> None:
        context["a"] = "changed"

    result = await engine.execute_workflow(
        workflow(
            WorkflowStep("a", action=returns(1)),
            WorkflowStep("b", action=action, dependencies=["a"], retry_count=1),
        )
    )
    assert result["steps"]["b"]["error"].startswith("TypeError")


# --- events --------------------------------------------------------------------------


async def test_every_attempt_is_reported_to_listeners(
    engine: WorkflowEngine, recorder: Recorder
) -> None:
    result = await engine.execute_workflow(
        workflow(WorkflowStep("s", action=Flaky(failures=1, value="v"), retry_count=3))
    )
    kinds = [type(e).__name__ for e in recorder.events]
    assert kinds == [
        "RunStarted",
        "StepStarted",
        "StepRetrying",
        "StepStarted",
        "StepFinished",
        "RunFinished",
    ]
    started = recorder.of(events.StepStarted)
    assert [e.attempt for e in started] == [1, 2]  # type: ignore[attr-defined]
    [retrying] = recorder.of(events.StepRetrying)
    assert isinstance(retrying, events.StepRetrying)
    assert retrying.attempt == 1
    assert str(retrying.error) == "failure 1"
    assert retrying.delay == engine.clock.sleeps[0]  # type: ignore[attr-defined]
    [finished] = recorder.of(events.StepFinished)
    assert isinstance(finished, events.StepFinished)
    assert (finished.status, finished.attempts, finished.result, finished.error) == (
        StepStatus.COMPLETED,
        2,
        "v",
        None,
    )
    run_finished = recorder.events[-1]
    assert isinstance(run_finished, events.RunFinished)
    assert run_finished.status is WorkflowStatus.COMPLETED
    assert run_finished.run_id == result["run_id"]


async def test_a_final_failure_is_reported_with_its_error(
    engine: WorkflowEngine, recorder: Recorder
) -> None:
    await engine.execute_workflow(workflow(WorkflowStep("s", action=failing(), retry_count=1)))
    [finished] = recorder.of(events.StepFinished)
    assert isinstance(finished, events.StepFinished)
    assert finished.status is StepStatus.FAILED
    assert isinstance(finished.error, StepFailedError)
    assert isinstance(finished.error.__cause__, Boom)
    run_finished = recorder.events[-1]
    assert isinstance(run_finished, events.RunFinished)
    assert run_finished.status is WorkflowStatus.FAILED
    assert run_finished.error is finished.error


async def test_skipped_and_cancelled_steps_are_reported_with_a_reason(
    engine: WorkflowEngine, recorder: Recorder
) -> None:
    blocker = Blocker()

    async def bad() -> None:
        await blocker.started.wait()
        raise Boom("x")

    await engine.execute_workflow(
        workflow(
            WorkflowStep("never", action=returns(0), condition=lambda ctx: False),
            WorkflowStep("after_never", action=returns(0), dependencies=["never"]),
            WorkflowStep("blocked", action=blocker),
            WorkflowStep("bad", action=bad, retry_count=1),
        )
    )
    reasons = {
        e.step_id: (e.status, e.reason)
        for e in recorder.of(events.StepFinished)
        if isinstance(e, events.StepFinished)
    }
    assert reasons == {
        "never": (StepStatus.SKIPPED, "its condition was false"),
        "after_never": (StepStatus.SKIPPED, "an upstream step was skipped (all_success)"),
        "blocked": (StepStatus.CANCELLED, "another step failed"),
        "bad": (StepStatus.FAILED, ""),
    }


# --- pause, resume, cancel -----------------------------------------------------------


async def test_a_paused_run_lets_running_steps_finish_and_resumes_later(
    engine: WorkflowEngine, recorder: Recorder
) -> None:
    first = Blocker(value=1)
    second = Flaky(0, value=2)
    run = engine.start(
        workflow(
            WorkflowStep("first", action=first),
            WorkflowStep("second", action=second, dependencies=["first"]),
        )
    )
    waiting = asyncio.create_task(engine.wait(run.run_id))
    await first.started.wait()
    engine.pause(run.run_id)
    first.release.set()
    paused = await waiting
    assert paused["status"] == "paused" == WorkflowStatus.PAUSED
    assert paused["completed_steps"] == ["first"]
    assert paused["steps"]["second"]["status"] == "pending"
    assert second.calls == 0
    run_finished = recorder.events[-1]
    assert isinstance(run_finished, events.RunFinished)
    assert run_finished.status is WorkflowStatus.PAUSED

    resumed = await engine.resume(run.run_id)
    assert resumed["status"] == "completed"
    assert resumed["results"] == {"first": 1, "second": 2}
    assert resumed["run_id"] == run.run_id
    assert len(recorder.of(events.RunStarted)) == 1


async def test_a_run_paused_before_it_starts_runs_nothing(engine: WorkflowEngine) -> None:
    step = Flaky(0)
    run = engine.start(workflow(WorkflowStep("s", action=step)))
    engine.pause(run.run_id)
    assert (await engine.wait(run.run_id))["status"] == "paused"
    assert step.calls == 0
    assert (await engine.resume(run.run_id))["status"] == "completed"
    assert step.calls == 1


async def test_cancel_stops_a_running_step_and_ends_the_run_cancelled(
    engine: WorkflowEngine,
) -> None:
    blocker = Blocker()
    after = Flaky(0)
    run = engine.start(
        workflow(
            WorkflowStep("blocked", action=blocker),
            WorkflowStep("after", action=after, dependencies=["blocked"]),
            error_handler=lambda error, results: pytest.fail("a cancel is not a failure"),
        )
    )
    waiting = asyncio.create_task(engine.wait(run.run_id))
    await blocker.started.wait()
    engine.cancel(run.run_id)
    result = await waiting
    assert result["status"] == "cancelled" == WorkflowStatus.CANCELLED
    assert blocker.cancelled == 1
    assert after.calls == 0
    assert statuses(result) == {"blocked": "cancelled", "after": "cancelled"}
    assert result["steps"]["blocked"]["reason"] == "the run was cancelled"


async def test_a_run_cancelled_while_paused_never_starts_its_held_steps(
    engine: WorkflowEngine,
) -> None:
    step = Flaky(0)
    run = engine.start(workflow(WorkflowStep("s", action=step)))
    engine.pause(run.run_id)
    await engine.wait(run.run_id)
    engine.cancel(run.run_id)
    result = await engine.wait(run.run_id)
    assert result["status"] == "cancelled"
    assert step.calls == 0


async def test_a_cancelled_backoff_wait_ends_the_step_cancelled(clock: FakeClock) -> None:
    class StuckClock(type(clock)):  # type: ignore[misc]
        async def sleep(self, seconds: float) -> None:
            self.sleeps.append(seconds)
            await asyncio.Event().wait()

    clock = StuckClock()
    engine = WorkflowEngine(clock=clock)
    try:
        run = engine.start(workflow(WorkflowStep("s", action=Flaky(99))))
        waiting = asyncio.create_task(engine.wait(run.run_id))
        while not clock.sleeps:
            await asyncio.sleep(0)
        engine.cancel(run.run_id)
        result = await waiting
    finally:
        engine.close()
    assert result["status"] == "cancelled"
    assert result["steps"]["s"]["status"] == "cancelled"
    assert result["steps"]["s"]["attempts"] == 1


@pytest.mark.parametrize("control", ["pause", "cancel", "wait", "resume"])
async def test_controlling_an_unknown_run_raises_key_error(
    engine: WorkflowEngine, control: str
) -> None:
    with pytest.raises(KeyError, match="no active run 'nope'"):
        outcome = getattr(engine, control)("nope")
        if asyncio.iscoroutine(outcome):
            await outcome


async def test_a_finished_run_can_no_longer_be_controlled(engine: WorkflowEngine) -> None:
    result = await engine.execute_workflow(workflow(WorkflowStep("s", action=returns(1))))
    with pytest.raises(KeyError):
        engine.pause(result["run_id"])


def test_run_sync_runs_a_workflow_without_a_running_loop() -> None:
    engine = WorkflowEngine()
    try:
        result = engine.run_sync(workflow(WorkflowStep("s", action=returns(3))))
    finally:
        engine.close()
    assert result["results"] == {"s": 3}
