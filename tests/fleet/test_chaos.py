"""Chaos: workers SIGKILLed at random while 300 runs go through; nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import itertools
import random
from collections import defaultdict
from pathlib import Path

import pytest
from fleet_support import FANOUT, Fleet

from plait.fleet.submit import submit
from plait.loader import load_workflow
from plait.store.postgres import PostgresStore

RUNS = 300
WORKERS = 3
KILL_EVERY_S = 2.0

Execution = tuple[int, float, float | None]
"""(pid, start, end; None if its process was killed before it ended)."""


def executions(log_dir: Path) -> dict[tuple[str, str], list[Execution]]:
    """Every execution of every step, from the actions' logs."""
    started: dict[tuple[str, str, int], float] = {}
    done: dict[tuple[str, str], list[Execution]] = defaultdict(list)
    for path in log_dir.glob("*.log"):
        for line in path.read_text().splitlines():
            event, run_id, step, pid, at = line.split()
            key = (run_id, step, int(pid))
            if event == "start":
                started[key] = float(at)
            else:
                done[(run_id, step)].append((int(pid), started.pop(key), float(at)))
    for (run_id, step, pid), at in started.items():
        done[(run_id, step)].append((pid, at, None))
    return done


@pytest.mark.slow
async def test_runs_survive_workers_killed_at_random(
    store: PostgresStore, fleet: Fleet, tmp_path: Path
) -> None:
    rng = random.Random(7)
    workers = [fleet.start() for _ in range(WORKERS)]
    definition = load_workflow(FANOUT)
    run_ids = [await submit(store, definition, {}) for _ in range(RUNS)]

    async with asyncio.timeout(100):
        while True:
            await asyncio.sleep(KILL_EVERY_S)
            open_runs = await store.list_runs(status="running", limit=1)
            if not open_runs:
                break
            victim = rng.randrange(WORKERS)
            fleet.kill(workers[victim])
            workers[victim] = fleet.start()

    # Every run completed, with the result a local run gives.
    runs = [await store.get_run(r) for r in run_ids]
    assert {r.status for r in runs} == {"completed"}
    assert {r.output for r in runs} == {33}

    # Every completed step's result was recorded exactly once: one completed attempt.
    for run_id in run_ids:
        attempts = await store.get_attempts(run_id)
        completed = defaultdict(int)
        for a in attempts:
            assert a.outcome in ("completed", "crashed"), a
            completed[a.step_id] += a.outcome == "completed"
        assert set(completed.values()) == {1}
        assert len(completed) == 10

    # No step ever ran on two workers at once; only steps in flight at a kill ran again.
    log = executions(tmp_path)
    again = 0
    for (run_id, step), runs_of_step in log.items():
        runs_of_step.sort(key=lambda e: e[1])
        for (pid, _start, end), (next_pid, next_start, _end) in itertools.pairwise(runs_of_step):
            assert pid in fleet.killed, f"{run_id}/{step} ran again though {pid} lived"
            finished = end if end is not None else fleet.killed[pid]
            assert finished <= next_start, f"{run_id}/{step} ran on {pid} and {next_pid} at once"
            again += 1
    assert sum(len(v) for v in log.values()) == RUNS * 10 + again
    print(
        f"\nchaos: {RUNS} runs x 10 steps on {WORKERS} workers, {len(fleet.killed)} SIGKILLs, "
        f"{again} steps re-executed (in flight at a kill)"
    )
    assert fleet.killed, "the test killed no worker: it ran too fast to mean anything"
