"""Per-agent limits hold across the whole fleet, not per worker or per run."""

from __future__ import annotations

from pathlib import Path

import pytest
from fleet_support import HERE
from test_chaos import executions
from test_worker import running, wait_for_end

from plait.fleet.submit import submit
from plait.loader import load_workflow
from plait.store.postgres import PostgresStore

LIMITED = HERE / "limited.yaml"  # agent_concurrency: {api: 2}


def most_at_once(intervals: list[tuple[float, float]]) -> int:
    edges = sorted([(s, 1) for s, _ in intervals] + [(e, -1) for _, e in intervals])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


async def test_an_agent_limit_holds_across_workers_and_runs(
    store: PostgresStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PLAIT_FLEET_LOG", str(tmp_path))
    definition = load_workflow(LIMITED)
    run_ids = [await submit(store, definition, {}) for _ in range(3)]

    async with running(store, 3):  # 3 workers x 8 slots: room for all 24 calls at once
        statuses = await wait_for_end(store, run_ids)

    assert set(statuses.values()) == {"completed"}
    calls = [
        (start, end)
        for runs in executions(tmp_path).values()
        for _pid, start, end in runs
        if end is not None
    ]
    assert len(calls) == 24
    assert most_at_once(calls) == 2
