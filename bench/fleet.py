"""Fleet throughput: runs per second of a 10-step workflow with 1, 2 and 4 workers.

Standalone: `python bench/fleet.py [--quick] [--url postgresql://...]`. Each
measurement uses a fresh schema (dropped afterwards), enqueues the runs first,
then starts the workers and times until every run has completed. Steps are
no-ops, so the figure is the cost of the fleet itself: claims, leases, commits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ACTIONS = """
async def noop(name, context, **upstream):
    return 1 + sum(upstream.values())
"""


def workflow_text() -> str:
    lines = ["workflow_id: bench_fanout", "steps:"]
    lines += ["  - {step_id: a, action: 'bench_actions:noop', inputs: {name: a}}"]
    for b in ("b1", "b2", "b3"):
        lines += [
            f"  - {{step_id: {b}, action: 'bench_actions:noop', "
            f"inputs: {{name: {b}, a: '{{{{ a.result }}}}'}}}}"
        ]
    ups = ", ".join(f"{b}: '{{{{ {b}.result }}}}'" for b in ("b1", "b2", "b3"))
    lines += [f"  - {{step_id: c, action: 'bench_actions:noop', inputs: {{name: c, {ups}}}}}"]
    for d in ("d1", "d2", "d3", "d4"):
        lines += [
            f"  - {{step_id: {d}, action: 'bench_actions:noop', "
            f"inputs: {{name: {d}, c: '{{{{ c.result }}}}'}}}}"
        ]
    ups = ", ".join(f"{d}: '{{{{ {d}.result }}}}'" for d in ("d1", "d2", "d3", "d4"))
    lines += [f"  - {{step_id: e, action: 'bench_actions:noop', inputs: {{name: e, {ups}}}}}"]
    return "\n".join(lines) + "\n"


async def measure(url: str, folder: Path, workers: int, runs: int) -> float:
    import asyncpg

    from plait.fleet.submit import submit
    from plait.loader import load_workflow
    from plait.store.postgres import PostgresStore

    schema = f"plait_bench_{uuid.uuid4().hex[:10]}"
    store_url = f"{url}{'&' if '?' in url else '?'}schema={schema}"
    store = PostgresStore(store_url)
    await store.open()
    procs: list[subprocess.Popen[bytes]] = []
    try:
        definition = load_workflow(folder / "fanout.yaml")
        env = {**os.environ, "PYTHONPATH": str(folder)}
        for _ in range(workers):
            procs.append(
                subprocess.Popen(
                    [sys.executable, "-m", "plait", "worker", "--store", store_url],
                    env=env,
                    stderr=subprocess.PIPE,
                )
            )
        for p in procs:  # time the fleet, not Python's start-up: wait for "ready"
            assert p.stderr is not None
            await asyncio.to_thread(p.stderr.readline)
        began = time.perf_counter()
        run_ids = await asyncio.gather(*(submit(store, definition, {}) for _ in range(runs)))
        while True:
            left = await store.pool.fetchval("SELECT count(*) FROM runs WHERE status = 'running'")
            if not left:
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - began
        done = await store.list_runs(status="completed", limit=runs)
        if len(done) != len(run_ids):
            failed = await store.list_runs(status="failed", limit=1)
            raise SystemExit(f"some runs did not complete: {failed[0].error if failed else '?'}")
        return runs / elapsed
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait()
            if p.stderr is not None:
                p.stderr.close()
        await store.close()
        conn = await asyncpg.connect(url)
        try:
            await conn.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
        finally:
            await conn.close()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer runs (a smoke test)")
    parser.add_argument(
        "--url",
        default=os.environ.get("PLAIT_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1/test"),
    )
    args = parser.parse_args()
    runs = 40 if args.quick else 300
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "bench_actions.py").write_text(ACTIONS)
        (folder / "fanout.yaml").write_text(workflow_text())
        print(f"fleet: {runs} runs of a 10-step fan-out workflow, no-op steps")
        for workers in (1, 2, 4):
            rate = await measure(args.url, folder, workers, runs)
            print(f"  {workers} worker{'s' if workers > 1 else ' '}: {rate:7.1f} runs/s")


if __name__ == "__main__":
    asyncio.run(main())
