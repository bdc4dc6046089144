"""Section 3: steps per second when every step's outcome is committed to SQLite.

The reference is the storage floor: one INSERT and one COMMIT per step into a
WAL-mode file with synchronous=NORMAL, with no engine around it. plait's rows
print n/a when `WorkflowEngine` takes no `store` (as before the store was
written); otherwise `_plait_durable` runs.
"""

from __future__ import annotations

import inspect
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

from harness import Config, Row, Section, interleaved, median, paired_ratio
from plait import WorkflowEngine
from workloads import Dag, chain, fan_out

SCHEMA = """
CREATE TABLE IF NOT EXISTS step_results (
    run_id TEXT NOT NULL, step_id TEXT NOT NULL, status TEXT NOT NULL,
    result TEXT, finished_at REAL NOT NULL, PRIMARY KEY (run_id, step_id)
)
"""


def store_supported() -> bool:
    """True once the engine accepts a durable store."""
    return "store" in inspect.signature(WorkflowEngine).parameters


def _connect(path: Path) -> sqlite3.Connection:
    db = sqlite3.connect(path, isolation_level=None)  # explicit BEGIN/COMMIT below
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute(SCHEMA)
    return db


async def _reference(path: Path, steps: int, run: int) -> float:
    """One INSERT + one COMMIT per step, the way a minimal durable runner checkpoints."""
    db = _connect(path)
    run_id = f"ref-{run}"
    t0 = time.perf_counter()
    for i in range(steps):
        db.execute("BEGIN")
        db.execute(
            "INSERT INTO step_results VALUES (?, ?, ?, ?, ?)",
            (run_id, f"s{i}", "completed", "null", time.time()),
        )
        db.execute("COMMIT")
    elapsed = time.perf_counter() - t0
    db.close()
    return elapsed


async def _plait_durable(path: Path, dag: Dag) -> float:
    """Run `dag` with every step checkpointed to an SQLite file; seconds taken.

    Opening the store (schema, migrations) happens before the clock starts: it is
    paid once per process, not per step.
    """
    definition = dag.definition()
    definition.compile()
    engine = WorkflowEngine(store=f"sqlite:///{path}")
    try:
        await engine.open()
        t0 = time.perf_counter()
        result = await engine.execute_workflow(definition)
        elapsed = time.perf_counter() - t0
        assert result["status"] == "completed", result["error"]
        return elapsed
    finally:
        await engine.aclose()


async def run(config: Config) -> Section:
    n = 100 if config.quick else 2_000
    section = Section(
        "durable",
        f"3. Durable throughput, SQLite ({n:,} no-op steps)",
        unit="steps/s",
    )
    supported = store_supported()
    with tempfile.TemporaryDirectory(prefix="plait-bench-") as tmp:
        counter = iter(range(1_000_000))

        def reference() -> Any:
            async def measure() -> float:
                k = next(counter)
                return await _reference(Path(tmp) / f"ref-{k}.db", n, k)

            return measure

        def plait_run(dag: Dag) -> Any:
            async def measure() -> float:
                return await _plait_durable(Path(tmp) / f"plait-{next(counter)}.db", dag)

            return measure

        variants = {"reference": reference()}
        dags = (chain(n), fan_out(n - 2))
        if supported:
            variants.update({dag.name: plait_run(dag) for dag in dags})
        samples = await interleaved(variants, config.rounds)
    ref = samples["reference"]
    ref_rate = n / median(ref)
    section.rows.append(Row("reference: INSERT + COMMIT per step", None, ref_rate, None))
    # The targets, as rates: plait's steps/s over the floor's.
    targets = {dags[0].name: 0.5, dags[1].name: 1.0}
    for dag in dags:
        label = f"plait: {dag.name} ({len(dag):,} steps)"
        if not supported:
            section.rows.append(
                Row(label, None, ref_rate, None, note="(durable store not implemented yet)")
            )
            continue
        got = samples[dag.name]
        # A rate ratio (plait steps/s over the floor's), so > 1 is faster, as the
        # targets are stated; from paired rounds like every other ratio.
        per_step = [t / len(dag) for t in got]
        ratio = 1 / paired_ratio(per_step, [t / n for t in ref])
        limit = targets[dag.name]
        target = f">= {limit:.2f}x" if limit < 1 else f"> {limit:.2f}x"
        met = ratio >= limit if limit < 1 else ratio > limit
        section.rows.append(Row(label, len(dag) / median(got), ref_rate, ratio, target, met))
    section.notes.extend(
        [
            "reference = a Python loop doing BEGIN; INSERT; COMMIT per step into a fresh "
            "SQLite file (WAL, synchronous=NORMAL), no engine",
            "ratio = plait steps/s / reference steps/s (so < 1 is slower); targets: "
            "at least 0.5 for the chain, above 1.0 for the fan-out (group commit)",
        ]
    )
    return section
