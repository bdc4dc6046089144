"""The guide's four recovery strategies, taken after ordinary retries are spent."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from plait import WorkflowDefinition, WorkflowEngine, WorkflowStep
from plait.definition import CachePolicy, RecoveryStrategy
from plait.retry import RetryPolicy
from plait.store.memory import MemoryStore

FAST = RetryPolicy(initial_delay=0, max_delay=0, jitter=0)


class Script:
    """An action whose attempts follow a script: raise the exception, or return the value."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls: list[dict[str, Any]] = []

    async def __call__(self, **kwargs: Any) -> Any:
        self.calls.append(kwargs)
        outcome = self.outcomes.pop(0) if len(self.outcomes) > 1 else self.outcomes[0]
        if isinstance(outcome, BaseException):
            raise outcome
        if outcome == "hang":
            await asyncio.Event().wait()
        return outcome


def flow(*steps: WorkflowStep, **kwargs: Any) -> WorkflowDefinition:
    return WorkflowDefinition("recovery", "Recovery", "", list(steps), **kwargs)


def step(action: Any, *recovery: RecoveryStrategy, **kwargs: Any) -> WorkflowStep:
    options: dict[str, Any] = {"retry_count": 1, "retry": FAST, **kwargs}
    return WorkflowStep(
        "fetch", action=action, inputs={"q": "x"}, recovery=list(recovery), **options
    )


async def test_extend_timeout_retries_a_timed_out_step_with_a_longer_timeout() -> None:
    seen_timeouts: list[float] = []

    async def slow(q: str) -> str:
        seen_timeouts.append(asyncio.current_task().get_name() and len(seen_timeouts))  # type: ignore[union-attr]
        if len(seen_timeouts) == 1:
            await asyncio.Event().wait()  # the first attempt never ends
        return "late but fine"

    result = await WorkflowEngine().execute_workflow(
        flow(step(slow, RecoveryStrategy("extend_timeout", factor=4), timeout_seconds=0.05))
    )
    assert result["status"] == "completed"
    assert result["results"]["fetch"] == "late but fine"
    assert result["steps"]["fetch"]["strategies"] == ["extend_timeout"]
    assert result["steps"]["fetch"]["attempts"] == 2


async def test_extend_timeout_is_not_taken_for_other_errors() -> None:
    action = Script(ValueError("bad"))
    result = await WorkflowEngine().execute_workflow(
        flow(step(action, RecoveryStrategy("extend_timeout"), timeout_seconds=1))
    )
    assert result["status"] == "failed"
    assert result["steps"]["fetch"]["strategies"] == []
    assert len(action.calls) == 1


async def test_use_cache_falls_back_to_the_last_good_result_for_the_same_inputs() -> None:
    store = MemoryStore()
    action = Script({"price": 10})
    recovery = RecoveryStrategy("use_cache", max_age_seconds=3600)
    async with WorkflowEngine(store=store) as engine:
        first = await engine.execute_workflow(flow(step(action, recovery)))
        assert first["steps"]["fetch"]["status"] == "completed"
        action.outcomes = [ConnectionError("api down")]
        second = await engine.execute_workflow(flow(step(action, recovery)))
    assert second["status"] == "completed"
    assert second["steps"]["fetch"]["status"] == "cached"
    assert second["results"]["fetch"] == {"price": 10}
    assert second["steps"]["fetch"]["strategies"] == ["use_cache"]
    attempts = await store.get_attempts(second["run_id"])
    assert [(a.attempt, a.strategy, a.outcome) for a in attempts] == [
        (1, None, "failed"),
        (2, "use_cache", "cached"),
    ]


async def test_use_cache_with_nothing_cached_fails_with_both_reasons() -> None:
    action = Script(ConnectionError("api down"))
    result = await WorkflowEngine().execute_workflow(
        flow(step(action, RecoveryStrategy("use_cache")))
    )
    assert result["status"] == "failed"
    assert "api down" in result["error"]
    assert "no cached result of step 'fetch'" in result["error"]


async def test_use_cache_ignores_results_for_other_inputs_and_other_errors() -> None:
    store = MemoryStore()
    recovery = RecoveryStrategy("use_cache")
    async with WorkflowEngine(store=store) as engine:
        await engine.execute_workflow(flow(step(Script({"price": 10}), recovery)))
        other_inputs = step(Script(ConnectionError("down")), recovery)
        other_inputs = WorkflowStep(
            "fetch",
            action=other_inputs.action,
            inputs={"q": "y"},
            recovery=[recovery],
            retry_count=1,
            retry=FAST,
        )
        assert (await engine.execute_workflow(flow(other_inputs)))["status"] == "failed"
        wrong_error = await engine.execute_workflow(flow(step(Script(KeyError("k")), recovery)))
        assert wrong_error["status"] == "failed"
        assert wrong_error["steps"]["fetch"]["strategies"] == []


async def test_human_review_asks_a_person_and_their_answer_becomes_the_result() -> None:
    action = Script(ValueError("total does not add up"))
    recovery = RecoveryStrategy("human_review", prompt="Fix the totals")
    async with WorkflowEngine(store=MemoryStore()) as engine:
        paused = await engine.execute_workflow(flow(step(action, recovery)))
        assert paused["status"] == "paused"
        assert paused["waiting_for"] == ["fetch"]
        [request] = await engine.inbox()
        assert request.prompt == "Fix the totals"
        assert request.data == {"error": "ValueError: total does not add up", "inputs": {"q": "x"}}
        await engine.approve(paused["run_id"], "fetch", {"total": 42}, by="ann")
        done = await engine.resume(paused["run_id"])
    assert done["status"] == "completed"
    assert done["results"]["fetch"] == {"total": 42}
    assert done["steps"]["fetch"]["strategies"] == ["human_review"]
    assert len(action.calls) == 1


async def test_degrade_returns_the_declared_default_and_marks_the_step_degraded() -> None:
    downstream: list[Any] = []

    async def use(value: Any) -> None:
        downstream.append(value)

    result = await WorkflowEngine().execute_workflow(
        flow(
            step(
                Script(RuntimeError("model crashed")),
                RecoveryStrategy("degrade", default={"summary": "unavailable"}),
            ),
            WorkflowStep("use", action=use, inputs={"value": "{{ fetch.result }}"}),
        )
    )
    assert result["status"] == "completed"
    assert result["steps"]["fetch"]["status"] == "degraded"
    assert result["degraded_steps"] == ["fetch"]
    assert downstream == [{"summary": "unavailable"}]


async def test_degrade_prefers_the_partial_result_the_action_offered() -> None:
    async def partly(q: str, context: Any) -> None:
        context.partial({"done": 3, "of": 5})
        raise RuntimeError("ran out of time")

    result = await WorkflowEngine().execute_workflow(
        flow(step(partly, RecoveryStrategy("degrade", default="nothing")))
    )
    assert result["results"]["fetch"] == {"done": 3, "of": 5}


async def test_strategies_are_tried_in_order_until_one_applies() -> None:
    action = Script(ConnectionError("down"))
    result = await WorkflowEngine().execute_workflow(
        flow(
            step(
                action,
                RecoveryStrategy("extend_timeout"),
                RecoveryStrategy("use_cache"),
                RecoveryStrategy("degrade", default=0),
            )
        )
    )
    assert result["steps"]["fetch"]["status"] == "degraded"
    assert result["steps"]["fetch"]["strategies"] == ["use_cache", "degrade"]


async def test_recovery_starts_only_after_the_ordinary_retries_are_spent() -> None:
    action = Script(RuntimeError("1"), RuntimeError("2"), RuntimeError("3"))
    result = await WorkflowEngine().execute_workflow(
        flow(step(action, RecoveryStrategy("degrade", default="d"), retry_count=3))
    )
    assert len(action.calls) == 3
    assert result["steps"]["fetch"]["attempts"] == 4  # three tries, then the degrade


async def test_a_workflow_wide_recovery_applies_to_steps_without_their_own() -> None:
    result = await WorkflowEngine().execute_workflow(
        flow(
            WorkflowStep("a", action=Script(RuntimeError("x")), retry_count=1),
            WorkflowStep("b", action=Script(RuntimeError("y")), retry_count=1, recovery=[]),
            recovery=[RecoveryStrategy("degrade", default="fallback")],
            on_failure="continue",
        )
    )
    assert result["steps"]["a"]["status"] == "degraded"
    assert result["steps"]["b"]["status"] == "failed"


@pytest.mark.parametrize(
    ("change", "runs_again"),
    [
        ({}, False),  # same inputs, same version: served from the cache
        ({"inputs": {"q": "other"}}, True),  # other inputs
        ({"cache": CachePolicy(version="2")}, True),  # a new version invalidates
    ],
)
async def test_a_cached_step_runs_again_only_when_inputs_or_version_change(
    change: dict[str, Any], runs_again: bool
) -> None:
    action = Script({"n": 1})
    base: dict[str, Any] = {"inputs": {"q": "x"}, "cache": CachePolicy(ttl_seconds=60)}

    def defn(**overrides: Any) -> WorkflowDefinition:
        return flow(WorkflowStep("fetch", action=action, **{**base, **overrides}))

    async with WorkflowEngine(store=MemoryStore()) as engine:
        first = await engine.execute_workflow(defn())
        second = await engine.execute_workflow(defn(**change))
    assert first["steps"]["fetch"]["status"] == "completed"
    assert second["steps"]["fetch"]["status"] == ("completed" if runs_again else "cached")
    assert len(action.calls) == (2 if runs_again else 1)
    assert second["results"]["fetch"] == {"n": 1}
