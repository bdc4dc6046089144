"""A code-first workflow with an `asyncio.gather` fan-out survives SIGKILL at random moments."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

FLOW = """
import asyncio, os, random
import plait

LOG = os.environ["PLAIT_TEST_LOG"]

def note(n):
    with open(LOG, "a") as log:
        log.write(f"{n}\\n")
        log.flush()
        os.fsync(log.fileno())

@plait.step
async def work(n: int) -> int:
    note(n)
    await asyncio.sleep(random.uniform(0.05, 0.25))
    return n * n

@plait.step
async def combine(parts: list[int]) -> int:
    note("combine")
    return sum(parts)

@plait.workflow
async def fan(count: int) -> int:
    head = [await work(k) for k in range(20)]  # a chain first, then a fan-out
    parts = await asyncio.gather(*[work(k) for k in range(20, count)])
    return await combine(head + list(parts))
"""

COUNT = 36
EXPECTED = sum(k * k for k in range(COUNT))


def completed_inputs(db: Path) -> set[str]:
    """What the store says has completed, as the logged names (n, or 'combine')."""
    if not db.exists():
        return set()
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        try:
            rows = conn.execute(
                "SELECT step_id, inputs FROM steps WHERE status = 'completed'"
            ).fetchall()
        except sqlite3.OperationalError:
            return set()
    return {
        "combine" if key.startswith("combine") else str(json.loads(inputs)["n"])
        for key, inputs in rows
    }


def run_state(db: Path, run_id: str) -> dict[str, object] | None:
    with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
        row = conn.execute("SELECT status, output FROM runs WHERE run_id = ?", (run_id,)).fetchone()
    if row is None:
        return None
    return {"status": row[0], "output": json.loads(row[1]) if row[1] else None}


@pytest.mark.slow
def test_no_completed_call_runs_again_across_sigkills(tmp_path: Path) -> None:
    (tmp_path / "flow.py").write_text(FLOW)
    log = tmp_path / "calls.log"
    db = tmp_path / "runs.db"
    # Kills here land on whatever is in flight, often the same fan-out calls again:
    # this test is about replay, so the poison-step bound is set out of the way.
    env = {
        **os.environ,
        "PLAIT_STORE": f"sqlite:///{db}",
        "PLAIT_TEST_LOG": str(log),
        "PLAIT_MAX_STEP_CRASHES": "1000",
    }
    rng = random.Random(7)

    def start(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "plait", *args],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    checks: list[tuple[int, set[str]]] = []  # (log lines at the kill, completed at the kill)
    kills = 0
    command = ["run", "flow.py:fan", "-i", f"count={COUNT}", "--json"]
    run_id = None
    outcome = None
    for _ in range(60):
        proc = start(*command)
        # Kill only once this process has started some work (however slow its start-up
        # on a loaded machine), at a random moment after that; after enough kills, let
        # the run finish.
        logged = len(log.read_text().splitlines()) if log.exists() else 0
        while proc.poll() is None and kills < 12:
            now = len(log.read_text().splitlines()) if log.exists() else 0
            if now > logged:
                break
            time.sleep(0.01)
        deadline = time.monotonic() + rng.uniform(0.0, 0.4)
        while proc.poll() is None and time.monotonic() < deadline and kills < 12:
            time.sleep(0.01)
        if proc.poll() is None and kills < 12:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            kills += 1
            lines = len(log.read_text().splitlines()) if log.exists() else 0
            checks.append((lines, completed_inputs(db)))
        out, err = proc.communicate()
        if run_id is None:
            listed = subprocess.run(
                [sys.executable, "-m", "plait", "runs", "--json"],
                cwd=tmp_path,
                env=env,
                capture_output=True,
                text=True,
                check=False,
            )
            rows = json.loads(listed.stdout or "[]") if listed.returncode == 0 else []
            if rows:
                run_id = rows[0]["run_id"]
        if proc.returncode == 0:
            outcome = json.loads(out)
            break
        finished = run_state(db, run_id) if run_id else None
        if finished is not None and finished["status"] == "completed":
            outcome = finished  # it completed just before the kill landed
            break
        if run_id is not None:
            command = ["resume", run_id, "--json"]
    assert outcome is not None, f"the run never completed; last stderr: {err[-2000:]}"
    assert outcome["status"] == "completed"
    assert outcome["output"] == EXPECTED
    assert kills >= 8, f"only {kills} kills landed; the test needs more mid-run kills"
    calls = log.read_text().splitlines()
    for at_kill, completed in checks:
        rerun = completed & set(calls[at_kill:])
        assert not rerun, f"calls completed before a kill ran again: {sorted(rerun)}"
    executions = len(calls)
    print(f"kills={kills} executions={executions} (minimum {COUNT + 1})")
