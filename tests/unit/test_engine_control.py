"""Controlling a run that is paused in this very engine: the store hears about it."""

from __future__ import annotations

import asyncio

from plait import WorkflowDefinition, WorkflowEngine, WorkflowStep
from plait.store.memory import MemoryStore


async def noop() -> str:
    return "ok"


def two_steps(gate: asyncio.Event) -> WorkflowDefinition:
    async def first() -> str:
        await gate.wait()
        return "first"

    return WorkflowDefinition(
        "control",
        "Control",
        "",
        [
            WorkflowStep("first", action=first),
            WorkflowStep("second", action=noop, dependencies=["first"]),
        ],
    )


async def paused_run(engine: WorkflowEngine, gate: asyncio.Event) -> str:
    run = engine.start(two_steps(gate))
    waiting = asyncio.create_task(engine.wait(run.run_id))
    await asyncio.sleep(0)
    engine.pause(run.run_id)
    gate.set()
    assert (await waiting)["status"] == "paused"
    return run.run_id


async def test_cancelling_a_run_paused_here_ends_it_as_cancelled_in_the_store() -> None:
    store = MemoryStore()
    async with WorkflowEngine(store=store) as engine:
        run_id = await paused_run(engine, asyncio.Event())
        assert (await store.get_run(run_id)).status == "paused"
        assert await engine.request(run_id, "cancel") == f"run {run_id} cancelled"
        assert (await store.get_run(run_id)).status == "cancelled"


async def test_resuming_a_run_paused_here_marks_it_running_again() -> None:
    store = MemoryStore()
    seen: list[str] = []

    class Watch:
        def on_event(self, event: object) -> None:
            if type(event).__name__ == "StepStarted":
                run_id = event.run_id  # type: ignore[attr-defined]
                seen.append(store._runs[run_id].status)  # what other readers see

    async with WorkflowEngine(store=store, listeners=[Watch()]) as engine:
        run_id = await paused_run(engine, asyncio.Event())
        seen.clear()
        done = await engine.resume(run_id)
    assert done["status"] == "completed"
    assert seen == ["running"]


async def test_a_step_cancelled_before_it_ran_is_recorded_as_cancelled_in_the_store() -> None:
    # `ok` and `bad` wake together: `ok` releases `next`, then `bad` fails before
    # `next` runs a line. The store must not keep `next` as running.
    gate = asyncio.Event()

    async def ok() -> int:
        await gate.wait()
        return 1

    async def bad() -> None:
        await gate.wait()
        raise ValueError("late")

    async def opener() -> None:
        gate.set()

    store = MemoryStore()
    async with WorkflowEngine(store=store) as engine:
        result = await engine.execute_workflow(
            WorkflowDefinition(
                "w",
                "w",
                "",
                [
                    WorkflowStep("ok", action=ok),
                    WorkflowStep("bad", action=bad, retry_count=1),
                    WorkflowStep("next", action=noop, dependencies=["ok"]),
                    WorkflowStep("opener", action=opener),
                ],
            )
        )
    assert result["status"] == "failed"
    rows = {s.step_id: s.status for s in await store.get_steps(result["run_id"])}
    assert rows["next"] == "cancelled"
    assert "running" not in rows.values()
