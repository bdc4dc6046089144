"""Triggers: filters, input mappings, the event log and dispatcher, and cron on a given clock."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from server_support import SteppedClock, config_for, serving, wait_for, write_workflows

from plait.definition import Trigger, WorkflowDefinition, WorkflowStep
from plait.errors import DefinitionError, ExpressionError
from plait.triggers import (
    CronScheduler,
    EventDispatcher,
    EventLog,
    MemoryEventLog,
    SQLiteEventLog,
    compile_triggers,
    new_event,
    parse_event_reference,
)

T0 = datetime(2024, 1, 1, 0, 1, tzinfo=UTC).timestamp()  # one minute past midnight


def workflow(*triggers: Trigger, workflow_id: str = "wf") -> WorkflowDefinition:
    return WorkflowDefinition(
        workflow_id, workflow_id, "", [WorkflowStep("a", action=lambda: 1)], triggers=triggers
    )


def event_view(data: Any, type: str = "order", id: str = "e1") -> dict[str, Any]:
    return new_event(type, data, id=id, now=T0).as_mapping()


# --- compiling --------------------------------------------------------------------------


def test_a_filter_reads_type_data_and_id() -> None:
    (t,) = compile_triggers(
        workflow(
            Trigger(event="order", filter="data.total > 100 and type == 'order' and id != 'x'")
        )
    )
    assert t.matches(event_view({"total": 150}))
    assert not t.matches(event_view({"total": 50}))


def test_a_filter_may_be_written_as_a_template() -> None:
    (t,) = compile_triggers(workflow(Trigger(event="order", filter="{{ data.tier in ['gold'] }}")))
    assert t.matches(event_view({"tier": "gold"}))


def test_a_filter_reading_a_missing_field_raises_an_expression_error() -> None:
    (t,) = compile_triggers(workflow(Trigger(event="order", filter="data.total > 1")))
    with pytest.raises(ExpressionError, match="total"):
        t.matches(event_view({}))


@pytest.mark.parametrize(
    ("trigger", "problem"),
    [
        (Trigger(event="e", filter="inputs.x == 1"), "unknown name inputs"),
        (Trigger(event="e", filter="data.x =="), "invalid condition syntax"),
        (Trigger(event="e", filter="__import__('os')"), "unknown name __import__"),
        (Trigger(cron="*/5 * * *"), "invalid cron schedule"),  # four fields
        (Trigger(cron="*/5 * * * * *"), "invalid cron schedule"),  # seconds are not cron
        (Trigger(cron="61 * * * *"), "invalid cron schedule"),
        (Trigger(event="e", inputs={"x": "{{ inputs.name }}"}), "read the event"),
        (Trigger(event="e", inputs={"x": "{{ event.payload }}"}), "no field 'payload'"),
        (Trigger(event="e", inputs={"x": "{{ event.data.[0] }}"}), "cannot read"),
    ],
)
def test_bad_triggers_are_definition_errors_located_at_the_trigger(
    trigger: Trigger, problem: str
) -> None:
    with pytest.raises(DefinitionError, match=problem) as caught:
        compile_triggers(workflow(Trigger(event="fine"), trigger))
    assert caught.value.problems[0].location.field.startswith("triggers[1]")


def test_inputs_resolve_native_values_text_and_the_whole_event() -> None:
    (t,) = compile_triggers(
        workflow(
            Trigger(
                event="order",
                inputs={
                    "total": "{{ event.data.total }}",
                    "first": "{{ event.data.items[0]['sku'] }}",
                    "line": "order {{ event.id }}: {{ event.data.items }}",
                    "event": "{{ event }}",
                    "nested": {"type": "{{ event.type }}", "fixed": [1, "{{ event.data.total }}"]},
                    "plain": 7,
                },
            )
        )
    )
    data = {"total": 12.5, "items": [{"sku": "A"}]}
    inputs = t.build_inputs(event_view(data))
    assert inputs["total"] == 12.5
    assert inputs["first"] == "A"
    assert inputs["line"] == 'order e1: [{"sku": "A"}]'
    assert inputs["event"]["data"] == data
    assert inputs["event"]["type"] == "order"
    assert inputs["nested"] == {"type": "order", "fixed": [1, 12.5]}
    assert inputs["plain"] == 7


def test_event_references_share_the_step_reference_path_syntax() -> None:
    assert parse_event_reference("event") == ()
    assert parse_event_reference(" event.data.a[2]['b c'] ") == ("data", "a", 2, "b c")
    with pytest.raises(ExpressionError):
        parse_event_reference("events.data")


# --- the event log and dispatcher -------------------------------------------------------


@pytest.fixture(params=["memory", "sqlite"])
async def event_log(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    log: EventLog = (
        MemoryEventLog() if request.param == "memory" else SQLiteEventLog(tmp_path / "e.db")
    )
    await log.open()
    yield log
    await log.close()


class Starts:
    """A stand-in for the run service: records what it was asked to start."""

    def __init__(self) -> None:
        self.started: list[tuple[str, dict[str, Any]]] = []

    async def __call__(self, wf: WorkflowDefinition, inputs: dict[str, Any]) -> str:
        self.started.append((wf.workflow_id, inputs))
        return f"run-{len(self.started)}"


async def test_dispatcher_stores_routes_and_refuses_duplicates(event_log: EventLog) -> None:
    triggers = compile_triggers(
        workflow(
            Trigger(event="order", filter="data.total > 10", inputs={"t": "{{ event.data.total }}"})
        )
    )
    starts = Starts()
    dispatcher = EventDispatcher(event_log, lambda: triggers, starts)
    first = await dispatcher.receive(new_event("order", {"total": 11}, id="o1", now=T0))
    assert (first.duplicate, first.record.status, first.record.run_ids) == (
        False,
        "handled",
        ("run-1",),
    )
    again = await dispatcher.receive(new_event("order", {"total": 99}, id="o1", now=T0 + 1))
    assert again.duplicate
    assert again.record.run_ids == ("run-1",)
    assert again.record.event.data == {"total": 11}  # the original, not the replay
    small = await dispatcher.receive(new_event("order", {"total": 1}, id="o2", now=T0))
    assert small.record.status == "filtered"
    other = await dispatcher.receive(new_event("refund", {}, id="r1", now=T0))
    assert other.record.status == "unhandled"
    assert starts.started == [("wf", {"t": 11})]
    assert await event_log.counts() == {
        "order": {"handled": 1, "filtered": 1},
        "refund": {"unhandled": 1},
    }
    listed = await event_log.list(status="unhandled")
    assert [r.event.id for r in listed] == ["r1"]


async def test_one_failing_trigger_does_not_stop_the_others(event_log: EventLog) -> None:
    bad = compile_triggers(
        workflow(Trigger(event="e", inputs={"x": "{{ event.data.missing }}"}), workflow_id="bad")
    )
    good = compile_triggers(workflow(Trigger(event="e"), workflow_id="good"))
    starts = Starts()
    receipt = await EventDispatcher(event_log, lambda: bad + good, starts).receive(
        new_event("e", {}, now=T0)
    )
    assert receipt.record.status == "handled"
    assert [w for w, _ in starts.started] == ["good"]
    assert "bad:" in receipt.record.errors[0]


async def test_events_stored_but_never_routed_are_routed_on_recover(tmp_path: Path) -> None:
    log = SQLiteEventLog(tmp_path / "e.db")
    await log.open()
    await log.add(new_event("e", {"n": 1}, id="lost", now=T0))  # the process died here
    starts = Starts()
    triggers = compile_triggers(workflow(Trigger(event="e")))
    assert await EventDispatcher(log, lambda: triggers, starts).recover() == 1
    record = await log.get("lost")
    await log.close()
    assert record is not None
    assert record.status == "handled"
    assert record.run_ids == ("run-1",)


# --- cron -------------------------------------------------------------------------------


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def time(self) -> float:
        return self.now

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.now += seconds
        await asyncio.sleep(0)  # a point where others run, as a real sleep is


def scheduler(
    log: EventLog, clock: Clock, starts: Starts, cron: str = "*/5 * * * *"
) -> CronScheduler:
    triggers = compile_triggers(
        workflow(Trigger(cron=cron, inputs={"at": "{{ event.data.scheduled_at }}"}))
    )
    return CronScheduler(log, lambda: triggers, starts, clock)


async def test_cron_starts_its_schedule_when_first_seen(event_log: EventLog) -> None:
    clock, starts = Clock(T0), Starts()
    cron = scheduler(event_log, clock, starts)
    assert await cron.tick() == 240  # until 00:05
    assert starts.started == []


async def test_cron_fires_at_each_tick(event_log: EventLog) -> None:
    clock, starts = Clock(T0), Starts()
    cron = scheduler(event_log, clock, starts)
    await cron.tick()
    clock.now += 240
    assert await cron.tick() == 300
    clock.now += 300
    await cron.tick()
    assert [inputs["at"] for _, inputs in starts.started] == [
        "2024-01-01T00:05:00Z",
        "2024-01-01T00:10:00Z",
    ]


async def test_missed_ticks_fire_once_not_once_each(event_log: EventLog) -> None:
    clock, starts = Clock(T0), Starts()
    cron = scheduler(event_log, clock, starts)
    await cron.tick()
    clock.now += 3 * 3600 + 60  # three hours of downtime: 36 ticks missed
    await cron.tick()
    await cron.tick()
    assert [inputs["at"] for _, inputs in starts.started] == ["2024-01-01T03:00:00Z"]


async def test_missed_ticks_across_a_restart_fire_once(tmp_path: Path) -> None:
    clock, starts = Clock(T0), Starts()
    for _ in range(2):  # two processes, the second one an hour later
        log = SQLiteEventLog(tmp_path / "e.db")
        await log.open()
        await scheduler(log, clock, starts).tick()
        await log.close()
        clock.now += 3600
    assert [inputs["at"] for _, inputs in starts.started] == ["2024-01-01T01:00:00Z"]


async def test_the_run_loop_sleeps_on_the_injected_clock(event_log: EventLog) -> None:
    clock, starts = Clock(T0), Starts()
    cron = scheduler(event_log, clock, starts)
    cron.max_sleep = 60
    task = asyncio.create_task(cron.run())
    while len(starts.started) < 3:
        await asyncio.sleep(0)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert [inputs["at"][11:16] for _, inputs in starts.started] == ["00:05", "00:10", "00:15"]


def test_a_served_cron_trigger_fires_when_the_clock_says_so(tmp_path: Path) -> None:
    folder = write_workflows(
        tmp_path / "workflows",
        {
            "tick.yaml": """
                workflow_id: tick
                name: Tick
                inputs:
                  at: {type: string, required: true}
                triggers:
                  - cron: "*/5 * * * *"
                    inputs: {at: "{{ event.data.scheduled_at }}"}
                steps:
                  - step_id: note
                    action: acts.py:echo
                    inputs: {at: "{{ inputs.at }}"}
            """
        },
    )
    clock = SteppedClock(T0)
    config = config_for(folder, tmp_path / "plait.db", clock=clock, cron_max_sleep=60)
    with serving(config) as server, server.client() as http:

        def runs() -> list[dict[str, Any]]:
            body: list[dict[str, Any]] = http.get(
                "/api/runs", params={"workflow_id": "tick"}
            ).json()["runs"]
            return body

        wait_for(clock.sleepers, "the scheduler to sleep")
        assert runs() == []
        clock.advance(240)  # 00:05
        wait_for(lambda: len(runs()) == 1, "the 00:05 run")
        wait_for(clock.sleepers, "the scheduler to sleep again")
        clock.advance(2 * 3600)  # nobody looked for two hours
        wait_for(lambda: len(runs()) == 2, "the catch-up run")
        wait_for(clock.sleepers, "the scheduler to sleep again")
        assert sorted(r["inputs"]["at"] for r in runs()) == [
            "2024-01-01T00:05:00Z",
            "2024-01-01T02:05:00Z",
        ]
