"""Fencing: a worker that lost its lease cannot record a stale result."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

import pytest
from fleet_support import HERE, Fleet

from plait.fleet import queue
from plait.fleet.plans import unlimited
from plait.fleet.progress import advance
from plait.fleet.submit import submit
from plait.loader import load_workflow
from plait.store.base import StepSettled
from plait.store.postgres import PostgresStore

SLOW = HERE / "slow.yaml"


async def test_the_store_rejects_a_commit_whose_lease_was_taken_over(
    store: PostgresStore,
) -> None:
    definition = load_workflow(SLOW)
    plan = unlimited(definition.compile())
    run_id = await submit(store, definition, {})
    [stale], _ = await queue.claim(store, "frozen", 1, lease_s=0.05)
    await asyncio.sleep(0.1)  # the lease runs out
    [fresh], _ = await queue.claim(store, "alive", 1, lease_s=30)
    assert (fresh.run_id, fresh.step_id) == (stale.run_id, stale.step_id)
    assert fresh.token != stale.token

    def decide(run, rows):  # type: ignore[no-untyped-def]
        return advance(plan, run, rows, 0.0)

    late = [StepSettled(run_id, "nap", "completed", 1, 1.0, '{"pid": 0}')]
    with pytest.raises(queue.LeaseLostError, match="taken over"):
        await queue.complete(store, stale, late, plan, decide)
    with pytest.raises(queue.LeaseLostError):
        await queue.apply_fenced(store, stale, late)
    assert await store.get_steps(run_id) == []

    await queue.complete(
        store, fresh, [StepSettled(run_id, "nap", "completed", 1, 2.0, "1")], plan, decide
    )
    assert (await store.get_run(run_id)).status == "completed"


def lines_of(log_dir: Path, pid: int) -> list[str]:
    path = log_dir / f"{pid}.log"
    return path.read_text().splitlines() if path.exists() else []


async def until(predicate, what: str, seconds: float = 20) -> None:  # type: ignore[no-untyped-def]
    async with asyncio.timeout(seconds):
        while not predicate():
            await asyncio.sleep(0.02)


@pytest.mark.slow
async def test_a_worker_frozen_past_its_lease_cannot_commit_after_it_thaws(
    store: PostgresStore, fleet: Fleet, tmp_path: Path
) -> None:
    fleet.lease_s = 0.5
    frozen = fleet.start()
    run_id = await submit(store, load_workflow(SLOW), {})
    await until(lambda: lines_of(tmp_path, frozen.pid), "the first worker starts the step")
    frozen.send_signal(signal.SIGSTOP)  # mid-step, holding the lease

    alive = fleet.start()
    await until(lambda: lines_of(tmp_path, alive.pid), "another worker takes the step over")
    frozen.send_signal(signal.SIGCONT)  # it wakes up with a result it may not commit

    async with asyncio.timeout(20):
        while (await store.get_run(run_id)).status == "running":
            await asyncio.sleep(0.05)
    await asyncio.sleep(1.0)  # time for the thawed worker to try (and fail) to commit

    run = await store.get_run(run_id)
    assert run.status == "completed"
    assert run.output == {"pid": alive.pid}  # the result of the worker that held the lease
    attempts = await store.get_attempts(run_id)
    assert [a.outcome for a in attempts] == ["crashed", "completed"]
    fleet.stop_all()
    said = (tmp_path / "worker-0.err").read_text()
    assert "taken over by another worker" in said
