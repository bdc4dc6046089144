"""A code-first run is drawn as the graph of the step calls it made."""

from __future__ import annotations

import asyncio

import plait
from plait import WorkflowEngine
from plait.server.views import call_graph
from plait.store.memory import MemoryStore


@plait.step
async def fetch(n: int) -> int:
    await asyncio.sleep(0.001 * (3 - n))
    return n


@plait.step
async def total(parts: list[int]) -> int:
    return sum(parts)


@plait.workflow
async def fan() -> int:
    first = await fetch(0)
    parts = await asyncio.gather(fetch(1), fetch(2))
    return first + await total(list(parts))


async def test_calls_that_ran_together_share_a_level_and_follow_the_calls_before() -> None:
    store = MemoryStore()
    async with WorkflowEngine(store=store) as engine:
        result = await engine.execute_workflow(fan)
    run = await store.get_run(result["run_id"])
    graph = call_graph(run, await store.get_steps(run.run_id))
    assert graph is not None
    assert [s["step_id"] for s in graph["steps"]] == ["fetch", "fetch#2", "fetch#3", "total"]
    assert sorted((e["source"], e["target"]) for e in graph["edges"]) == [
        ("fetch", "fetch#2"),
        ("fetch", "fetch#3"),
        ("fetch#2", "total"),
        ("fetch#3", "total"),
    ]
    levels = {n["id"]: n["level"] for n in graph["graph"]["nodes"]}
    assert levels["fetch#2"] == levels["fetch#3"] == levels["fetch"] + 1
