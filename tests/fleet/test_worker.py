"""Workers run enqueued runs to the same results as a local run, step by step."""

from __future__ import annotations

import asyncio
import contextlib
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

from fleet_support import FANOUT

from plait.fleet.submit import submit
from plait.fleet.worker import Worker
from plait.loader import load_workflow
from plait.store.postgres import PostgresStore


@contextlib.asynccontextmanager
async def running(
    store: PostgresStore, n: int = 1, **options: float
) -> AsyncIterator[list[Worker]]:
    workers = [Worker(store, lease_s=options.get("lease_s", 5.0), name=f"w{k}") for k in range(n)]
    tasks = [asyncio.create_task(w.run()) for w in workers]
    try:
        yield workers
    finally:
        for w in workers:
            w.stop()
        await asyncio.gather(*tasks)


async def wait_for_end(store: PostgresStore, run_ids: list[str]) -> dict[str, str]:
    async with asyncio.timeout(60):
        while True:
            statuses = {r: (await store.get_run(r)).status for r in run_ids}
            if all(s in ("completed", "failed", "cancelled") for s in statuses.values()):
                return statuses
            await asyncio.sleep(0.05)


async def test_a_run_enqueued_for_the_fleet_completes_with_the_local_output(
    store: PostgresStore,
) -> None:
    definition = load_workflow(FANOUT)
    run_id = await submit(store, definition, {})

    async with running(store, 2):
        statuses = await wait_for_end(store, [run_id])

    assert statuses == {run_id: "completed"}
    assert (await store.get_run(run_id)).output == 33
    steps = await store.get_steps(run_id)
    assert sorted(s.step_id for s in steps) == sorted(definition.compile().ids)
    assert {s.status for s in steps} == {"completed"}


async def test_a_run_whose_workflow_file_changed_fails_instead_of_looping(
    store: PostgresStore, tmp_path: Path
) -> None:
    copy = tmp_path / "fanout.yaml"
    shutil.copy(FANOUT, copy)
    shutil.copy(Path(FANOUT).parent / "fleet_actions.py", tmp_path / "fleet_actions.py")
    run_id = await submit(store, load_workflow(copy), {})
    copy.write_text(copy.read_text().replace("retry_count: 0", "retry_count: 1", 1))

    async with running(store, 1):
        statuses = await wait_for_end(store, [run_id])

    assert statuses == {run_id: "failed"}
    run = await store.get_run(run_id)
    assert run.error is not None and "changed" in run.error


async def test_a_server_with_detach_enqueues_runs_that_workers_complete(
    pg_url: str, store: PostgresStore
) -> None:
    from plait.server.config import ServerConfig
    from plait.server.services import Services

    services = Services(
        ServerConfig(store_url=pg_url, workflows_dir=Path(FANOUT).parent, detach=True)
    )
    await services.open()
    try:
        run_id = await services.runs.start(load_workflow(FANOUT), {})
        assert services.runs.active_count() == 0  # nothing runs in the server itself
    finally:
        await services.aclose()
    async with running(store, 1):
        statuses = await wait_for_end(store, [run_id])
    assert statuses == {run_id: "completed"}
    assert (await store.get_run(run_id)).output == 33
