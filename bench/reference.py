"""The yardstick: a minimal, decent hand-written asyncio DAG runner.

Every plait figure is divided by this runner's figure from the same process, so
the ratios describe plait's own overhead and survive a noisy machine. It is what
a competent engineer writes in an afternoon: one task per step, per-step
dependency counters, and a step starts the moment its last dependency finishes.
It has no retries, timeouts, records or events; that is the point.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

Action = Callable[..., Awaitable[Any]]


async def run_dag(
    actions: Sequence[Action],
    preds: Sequence[Sequence[int]],
    inputs: Sequence[Mapping[str, Any]] | None = None,
) -> list[Any]:
    """Run step `i` as `await actions[i](**inputs[i])` once all of `preds[i]` are done."""
    n = len(actions)
    succs: list[list[int]] = [[] for _ in range(n)]
    for j, ps in enumerate(preds):
        for i in ps:
            succs[i].append(j)
    waiting = [len(p) for p in preds]
    kwargs = inputs if inputs is not None else [{}] * n
    results: list[Any] = [None] * n
    loop = asyncio.get_running_loop()
    done: asyncio.Future[None] = loop.create_future()
    tasks: dict[int, asyncio.Task[None]] = {}
    left = n

    async def step(i: int) -> None:
        nonlocal left
        try:
            results[i] = await actions[i](**kwargs[i])
        except Exception as exc:  # fail fast, like plait's default policy
            if not done.done():
                done.set_exception(exc)
            return
        finally:
            del tasks[i]
        left -= 1
        for j in succs[i]:
            waiting[j] -= 1
            if not waiting[j]:
                tasks[j] = loop.create_task(step(j))
        if not left:
            done.set_result(None)

    for i in range(n):
        if not waiting[i]:
            tasks[i] = loop.create_task(step(i))
    try:
        await done
    finally:
        for task in list(tasks.values()):
            task.cancel()
    return results
