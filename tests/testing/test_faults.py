"""Injected faults: errors, timeouts and delays at chosen attempts, and process crashes."""

from __future__ import annotations

import pytest
from kit_workflows import ORDER, ORDERS, pipeline, with_recovery

from plait import RecoveryStrategy, StepTimeoutError
from plait.policies import AttemptTimeout
from plait.testing import WorkflowKit, faults


async def test_an_error_at_one_attempt_is_retried(plait_kit: WorkflowKit):
    result = await plait_kit.run(
        ORDERS, {"order": ORDER}, faults=[faults.error("stock", ConnectionError("down"))]
    )

    assert result.ok
    assert result.results["stock"]["attempt"] == 2  # the action itself saw attempt 2
    assert result.steps["stock"].executions == 2
    assert plait_kit.clock.slept == [1.0]


async def test_an_error_at_every_attempt_fails_the_step(plait_kit: WorkflowKit):
    result = await plait_kit.run(
        ORDERS, {"order": ORDER}, faults=[faults.error("stock", "OSError: disk", attempt=None)]
    )

    assert result.failed_step == "stock"
    assert result.error == "OSError: disk"
    assert result.steps["stock"].attempts == 3


async def test_a_timeout_is_the_engines_own_after_the_steps_timeout(plait_kit: WorkflowKit):
    result = await plait_kit.run(with_recovery(), {"text": "q3"}, faults=[faults.timeout("report")])

    assert result.status == "failed"
    assert isinstance(result.exception, StepTimeoutError)
    assert isinstance(result.exception.__cause__, AttemptTimeout)
    assert plait_kit.clock.elapsed == 10  # the step's timeout_seconds, in virtual time
    with pytest.raises(TimeoutError):
        result.raise_for_status()


async def test_extend_timeout_recovers_an_injected_timeout(plait_kit: WorkflowKit):
    workflow = with_recovery(RecoveryStrategy("extend_timeout", factor=3))
    result = await plait_kit.run(workflow, {"text": "q3"}, faults=[faults.timeout("report")])

    report = result.steps["report"]
    assert (report.status, report.strategies, report.attempts) == (
        "completed",
        ("extend_timeout",),
        2,
    )
    assert result.results["report"] == "Q3"


async def test_a_delay_past_the_timeout_times_out_and_one_within_does_not(plait_kit: WorkflowKit):
    slow = await plait_kit.run(with_recovery(), {"text": "a"}, faults=[faults.delay("report", 15)])
    assert slow.status == "failed" and "timeout_seconds=10" in (slow.error or "")

    before = plait_kit.clock.elapsed
    late = await plait_kit.run(with_recovery(), {"text": "a"}, faults=[faults.delay("report", 4)])
    assert late.ok
    assert plait_kit.clock.elapsed - before == 4


# --- crashes -----------------------------------------------------------------------------


async def test_a_crash_leaves_the_store_as_a_killed_process_would(plait_kit: WorkflowKit):
    crashed = await plait_kit.run(
        ORDERS,
        {"order": ORDER},
        faults=[faults.delay("stock", 5), faults.crash_after("price")],
    )

    assert crashed.crashed and crashed.status == "running"
    assert crashed.steps["price"].status == "completed"
    assert crashed.steps["stock"].status == "running"  # in flight when the process died
    assert crashed.steps["confirm"].status == "pending"
    stored = await plait_kit.store.get_run(crashed.run_id)
    assert stored.status == "running"


async def test_a_resumed_run_does_not_run_what_completed_again(plait_kit: WorkflowKit):
    crashed = await plait_kit.run(
        ORDERS, {"order": ORDER}, faults=[faults.delay("stock", 5), faults.crash_after("price")]
    )
    resumed = await plait_kit.resume(crashed)

    assert resumed.ok and resumed.output == {"total": 10.0, "shipped": True}
    assert resumed.executions == {"stock": 1, "confirm": 1}
    assert resumed.steps["stock"].attempts == 2  # the crashed attempt counts


async def test_a_crash_and_resume_on_sqlite(plait_sqlite_kit: WorkflowKit):
    crashed = await plait_sqlite_kit.run(
        ORDERS, {"order": ORDER}, faults=[faults.crash_after("validate")]
    )
    assert crashed.executions == {"validate": 1}

    resumed = await plait_sqlite_kit.resume(crashed.run_id)
    assert resumed.ok
    assert resumed.executions == {"price": 1, "stock": 1, "confirm": 1}


async def test_a_code_first_run_resumes_after_a_crash_in_its_fan_out(plait_kit: WorkflowKit):
    crashed = await plait_kit.run(pipeline, faults=[faults.crash_after("score#2")])
    done_before = {s for s, step in crashed.steps.items() if step.status == "completed"}
    assert {"load", "score#2"} <= done_before

    resumed = await plait_kit.resume(crashed)

    assert resumed.output == 60
    assert not done_before & set(resumed.executions)
    assert resumed.executions["total"] == 1


async def test_a_crash_point_that_is_never_reached_fails_the_test(plait_kit: WorkflowKit):
    with pytest.raises(AssertionError, match="no crash happened"):
        await plait_kit.run(
            ORDERS,
            {"order": {"sku": "A-1", "quantity": 0}},  # fails at validate: confirm never runs
            faults=[faults.crash_after("confirm")],
        )


async def test_in_real_time_an_injected_timeout_is_raised_at_once():
    async with WorkflowKit(virtual_time=False) as kit:
        result = await kit.run(with_recovery(), {"text": "q3"}, faults=[faults.timeout("report")])
    assert isinstance(result.exception, StepTimeoutError)
    assert "injected by plait.testing" in (result.error or "")
