"""Crash and restart: `plait stream run --from FILE` killed with SIGKILL mid-stream.

The same file is fed again after each kill (events already stored are duplicates).
The promise: every window's final result equals that of an uninterrupted run, every
event is counted once, and no window version's run is started twice.
"""

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
from typing import Any

from stream_support import write_stream

from plait.streams import feed, load_stream, open_processor

KILL_AFTER = (5, 25, 60)
"""Kill once this many window runs have finished (the last kill may find it done)."""


def events_file(path: Path) -> list[dict[str, Any]]:
    rng = random.Random(11)
    events = [{"id": f"e{k}", "t": k * 0.1, "value": k} for k in range(1500)]
    arrival = sorted(events, key=lambda e: e["t"] + rng.uniform(0, 5))
    path.write_text("".join(json.dumps(e) + "\n" for e in arrival), encoding="utf-8")
    return arrival


def finished_windows(db: Path) -> int:
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            row = conn.execute(
                "SELECT COUNT(*) FROM plait_stream_windows WHERE status = 'succeeded'"
            ).fetchone()
            return int(row[0])
    except sqlite3.Error:
        return 0


def final_outputs(db: Path) -> dict[tuple[int, int], Any]:
    with sqlite3.connect(db) as conn:
        rows = conn.execute('SELECT start, "end", status, output FROM plait_stream_windows')
        found = {(s, e): (st, json.loads(o)) for s, e, st, o in rows}
    conn.close()
    assert {st for st, _ in found.values()} == {"succeeded"}
    return {k: out for k, (_, out) in found.items()}


def plait(folder: Path, db: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "plait",
            "stream",
            "run",
            "s.yml",
            "--from",
            "events.jsonl",
            "--store",
            f"sqlite:///{db}",
            "--batch",
            "10",
        ],
        cwd=folder,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


async def test_a_killed_stream_restarts_to_the_results_of_an_uninterrupted_run(
    tmp_path: Path,
) -> None:
    stream = write_stream(tmp_path, "type: tumbling\nsize: 2s\nlateness: 3s")
    events = events_file(tmp_path / "events.jsonl")
    db = tmp_path / "crashed.db"

    kills = 0
    for threshold in KILL_AFTER:
        proc = plait(tmp_path, db)
        try:
            while proc.poll() is None and finished_windows(db) < threshold:
                time.sleep(0.002)
            if proc.poll() is None:
                os.kill(proc.pid, signal.SIGKILL)
                kills += 1
        finally:
            proc.wait()
            proc.stdout.close()  # type: ignore[union-attr]
            proc.stderr.close()  # type: ignore[union-attr]
    final = plait(tmp_path, db)
    _, err = final.communicate(timeout=100)
    assert final.returncode == 0, err.decode()
    assert kills >= 2

    async with open_processor(load_stream(stream), f"sqlite:///{tmp_path / 'clean.db'}") as p:
        await feed(p, events, batch_size=10)
    clean = final_outputs(tmp_path / "clean.db")
    crashed = final_outputs(db)
    assert crashed == clean
    counted = [i for out in crashed.values() for i in out["ids"]]
    assert len(counted) == len(set(counted))

    with sqlite3.connect(db) as conn:
        runs = dict(conn.execute("SELECT run_id, status FROM runs").fetchall())
        windows = conn.execute("SELECT run_id, version FROM plait_stream_windows").fetchall()
    conn.close()
    assert set(runs.values()) == {"completed"}
    for run_id, version in windows:
        assert run_id in runs and run_id.endswith(f"-v{version}")
