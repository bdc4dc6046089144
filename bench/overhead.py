"""Section 1: what plait costs per step, next to a hand-written asyncio runner.

Steps are no-ops, so every microsecond measured is the engine's. The definition
is compiled before timing (a compiled plan is cached on the definition, and a
real application compiles once); compiling is reported on its own rows.
"""

from __future__ import annotations

import time

from harness import Config, Measure, Row, Section, at_most, interleaved, median, paired_ratio
from plait import WorkflowDefinition, WorkflowEngine
from reference import run_dag
from workloads import Dag, chain, fan_out

TARGET = 2.0


async def run(config: Config) -> Section:
    n = 200 if config.quick else 10_000
    section = Section(
        "overhead",
        f"1. Per-step overhead, in memory ({n:,} no-op steps)",
        unit="µs/step",
    )
    for dag in (chain(n), fan_out(n)):
        section.rows.extend(await _compare(dag, config.rounds))
    section.notes.extend(
        [
            "ratio = plait time per step / reference.run_dag time per step, median of "
            f"{config.rounds} interleaved rounds",
            "timeout=300 is plait's default (each attempt under asyncio.timeout); "
            "timeout=None shows what the timeout costs",
            "compile rows: WorkflowDefinition.compile() per step, as a ratio to the "
            "reference's time to *run* a step (no target)",
        ]
    )
    return section


async def _compare(dag: Dag, rounds: int) -> list[Row]:
    engine = WorkflowEngine()
    with_timeout = dag.definition(timeout=300)
    without_timeout = dag.definition(timeout=None)
    with_timeout.compile()
    without_timeout.compile()
    actions, preds, inputs = dag.runner_args()
    steps = len(dag)

    async def reference() -> float:
        t0 = time.perf_counter()
        await run_dag(actions, preds, inputs)
        return time.perf_counter() - t0

    def plait_run(definition: WorkflowDefinition) -> Measure:
        async def measure() -> float:
            t0 = time.perf_counter()
            result = await engine.execute_workflow(definition)
            elapsed = time.perf_counter() - t0
            assert result["status"] == "completed", result["error"]
            return elapsed

        return measure

    async def compile_fresh() -> float:
        fresh = WorkflowDefinition(
            with_timeout.workflow_id, with_timeout.name, "", with_timeout.steps
        )
        t0 = time.perf_counter()
        fresh.compile()
        return time.perf_counter() - t0

    samples = await interleaved(
        {
            "reference": reference,
            "timeout": plait_run(with_timeout),
            "no_timeout": plait_run(without_timeout),
            "compile": compile_fresh,
        },
        rounds,
    )
    await engine.aclose()
    ref = samples["reference"]

    def per_step(values: list[float]) -> float:
        return median(values) / steps * 1e6

    rows = []
    for key, label in (("timeout", "timeout=300"), ("no_timeout", "timeout=None")):
        ratio = paired_ratio(samples[key], ref)
        rows.append(
            Row(
                f"{dag.name}: execute, {label}",
                per_step(samples[key]),
                per_step(ref),
                ratio,
                f"<= {TARGET:.2f}x",
                at_most(ratio, TARGET),
            )
        )
    rows.append(
        Row(
            f"{dag.name}: compile",
            per_step(samples["compile"]),
            per_step(ref),
            paired_ratio(samples["compile"], ref),
        )
    )
    return rows
