"""Virtual time: backoffs, timeouts, durable sleeps, approval deadlines and cron ticks take
no wall time, and the engine's clock agrees with the event loop's."""

from __future__ import annotations

import asyncio
from typing import Any

from kit_workflows import CALLS, nightly, signed

from plait import RetryPolicy, Trigger, WorkflowDefinition, WorkflowStep
from plait.testing import WorkflowKit

HOURLY_RETRY = RetryPolicy(initial_delay=3600, max_delay=3600, jitter=0)


async def call_partner(order_id: str) -> str:
    return f"order {order_id} sent"


PARTNER = WorkflowDefinition(
    "partner",
    "Partner",
    "",
    [
        WorkflowStep(
            "send",
            action=call_partner,
            inputs={"order_id": "{{ inputs.order_id }}"},
            retry_count=2,
            retry=HOURLY_RETRY,
        )
    ],
    inputs=["order_id"],
)


async def test_a_one_hour_backoff_passes_in_virtual_time(plait_kit: WorkflowKit):
    result = await plait_kit.run(
        PARTNER, {"order_id": "7"}, overrides={"send": ["raise ConnectionError", "sent"]}
    )

    assert result.ok and result.steps["send"].attempts == 2
    assert plait_kit.clock.slept == [3600]
    assert plait_kit.clock.elapsed == 3600


async def test_the_engine_clock_and_the_loop_clock_agree(plait_kit: WorkflowKit):
    loop = asyncio.get_running_loop()
    wall, mono, loop_time = plait_kit.clock.time(), plait_kit.clock.monotonic(), loop.time()

    await plait_kit.advance(minutes=90)

    assert plait_kit.clock.time() - wall == 5400
    assert plait_kit.clock.monotonic() - mono == loop.time() - loop_time == 5400


async def test_a_long_durable_sleep_pauses_and_resumes_when_its_time_has_come(
    plait_kit: WorkflowKit,
):
    CALLS.clear()
    paused = await plait_kit.run(nightly, {"hours": 8})
    assert paused.status == "paused"
    assert paused.waiting_for == ("sleep",)

    await plait_kit.advance(hours=8)
    resumed = await plait_kit.resume(paused)

    assert resumed.output == "woke up"
    assert CALLS == ["load:morning"]  # not loaded again after the sleep
    assert plait_kit.clock.elapsed == 8 * 3600


async def test_a_durable_sleep_in_a_kit_that_waits_takes_one_call():
    async with WorkflowKit(wait_for_people=True) as kit:
        result = await kit.run(nightly, {"hours": 24})
        assert result.output == "woke up"
        assert kit.clock.elapsed == 24 * 3600


async def test_an_unanswered_approval_takes_its_default_when_the_deadline_passes(
    plait_kit: WorkflowKit,
):
    paused = await plait_kit.run(signed, {"amount": 120})
    assert paused.waiting_for == ("approval",)

    await plait_kit.advance(hours=1)
    resumed = await plait_kit.resume(paused)

    assert resumed.output == {"paid": 120, "timed_out": True}


async def test_an_answered_approval_is_not_a_timeout(plait_kit: WorkflowKit):
    paused = await plait_kit.run(signed, {"amount": 120})
    await plait_kit.approve(paused, "approval", {"note": "fine"})

    resumed = await plait_kit.resume(paused)

    assert resumed.output == {"paid": 120, "timed_out": False}


async def test_an_approval_deadline_passes_while_a_waiting_run_waits():
    async with WorkflowKit(wait_for_people=True) as kit:
        result = await kit.run(signed, {"amount": 5})
        assert result.output == {"paid": 5, "timed_out": True}
        assert kit.clock.elapsed == 3600


def stamp(slot: str) -> str:
    return f"report for {slot}"


HOURLY_REPORT = WorkflowDefinition(
    "hourly",
    "Hourly report",
    "",
    [WorkflowStep("stamp", action=stamp, inputs={"slot": "{{ inputs.slot }}"})],
    inputs=["slot"],
    triggers=[Trigger(cron="0 * * * *", inputs={"slot": "{{ event.data.scheduled_at }}"})],
)


async def test_cron_ticks_start_runs_as_the_clock_advances(plait_kit: WorkflowKit):
    async with plait_kit.cron(HOURLY_REPORT) as cron:
        await plait_kit.advance(hours=3, minutes=30)  # the kit's clock starts at midnight

    outputs: list[Any] = [r.results["stamp"] for r in cron.results]
    assert outputs == [
        "report for 2026-01-01T01:00:00Z",
        "report for 2026-01-01T02:00:00Z",
        "report for 2026-01-01T03:00:00Z",
    ]
