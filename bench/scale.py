"""Section 4: does the cost per step stay flat as workflows and run counts grow?

A per-step cost that creeps up with size means something quadratic (a scan, a
copy) is hiding in compile or execute. Memory is measured in a separate pass
under tracemalloc, which slows allocation and so must not overlap the timings.
"""

from __future__ import annotations

import asyncio
import gc
import time
import tracemalloc
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from harness import Config, Measure, Row, Section, interleaved, median, paired_ratio
from plait import WorkflowDefinition, WorkflowEngine
from reference import run_dag
from workloads import Dag, chain, fan_out, layered

FLAT_TARGET = 1.5


async def run(config: Config) -> Section:
    sizes = (100, 300, 1_000) if config.quick else (1_000, 10_000, 100_000)
    runs = 50 if config.quick else 1_000
    section = Section(
        "scale",
        f"4. Scale (chains and layered graphs of {', '.join(f'{s:,}' for s in sizes)} "
        f"steps; {runs:,} concurrent runs)",
    )
    for shape in (chain, layered):
        section.rows.extend(await _sizes(shape, sizes, config.rounds))
    section.rows.extend(await _memory(chain(sizes[-1])))
    section.rows.extend(await _concurrent_runs(fan_out(8), runs, config.rounds))
    section.notes.extend(
        [
            "layered = layers of 100 steps, each waiting for two steps of the layer before",
            "compile and execute rows: plait µs/step vs the reference runner's execute "
            "µs/step on the same graph; ratio is the median of per-round ratios",
            "flatness rows: the plait column is µs/step at the largest size, the "
            "reference column µs/step at the smallest; ratio = median of their per-round "
            "quotients (all sizes run interleaved in every round); the 'relative' row "
            "divides plait's flatness by the reference runner's, which removes what "
            "CPython itself loses at size (GC passes, cache misses)",
            "memory rows: tracemalloc peak above the start of the call, per step "
            "(the plan row is what compile() keeps)",
            f"concurrent rows: {runs:,} runs of a 10-step fan-out/fan-in workflow "
            "started together with asyncio.gather, one engine, one event loop",
        ]
    )
    return section


async def _sizes(shape: Callable[[int], Dag], sizes: Sequence[int], rounds: int) -> list[Row]:
    """Compile and execute µs/step at every size, all sizes interleaved in each round.

    Interleaving the sizes (not measuring one size after another) matters: the
    flatness ratio compares sizes, so a slow spell must hit them all alike. Small
    sizes repeat within a sample so each sample runs at least `sizes[-1] // 10` steps.
    """
    engine = WorkflowEngine()
    variants: dict[str, Measure] = {}
    for n in sizes:
        variants.update(_variants(engine, shape(n), repeat=max(1, sizes[-1] // 10 // n)))
    # The largest size takes seconds per round; fewer rounds keep the suite short.
    samples = await interleaved(variants, max(2, rounds - 4) if sizes[-1] >= 100_000 else rounds)
    await engine.aclose()
    kind = shape(1).name.split("_")[0]
    rows = []
    for n in sizes:
        ref = samples[f"reference@{n}"]
        for key in ("compile", "execute"):
            got = samples[f"{key}@{n}"]
            rows.append(
                Row(
                    f"{kind} {n:,}: {key} (µs/step)",
                    median(got) * 1e6,
                    median(ref) * 1e6,
                    paired_ratio(got, ref),
                )
            )
    small, large = sizes[0], sizes[-1]

    def series(key: str) -> dict[int, list[float]]:
        if key == "both":  # compile + execute: the cost of one fresh run
            return {
                n: [
                    c + e
                    for c, e in zip(samples[f"compile@{n}"], samples[f"execute@{n}"], strict=True)
                ]
                for n in (small, large)
            }
        return {n: samples[f"{key}@{n}"] for n in (small, large)}

    flat: dict[str, float] = {}
    for key, label, targeted in (
        ("both", "compile + execute", True),
        ("compile", "compile", False),
        ("execute", "execute", False),
        ("reference", "reference runner", False),
    ):
        values = series(key)
        flat[key] = ratio = paired_ratio(values[large], values[small])
        rows.append(
            Row(
                f"{kind} flatness, {label}: µs/step at {large:,} vs {small:,}",
                median(values[large]) * 1e6,
                median(values[small]) * 1e6,
                ratio,
                f"< {FLAT_TARGET:.1f}x" if targeted else "-",
                ratio < FLAT_TARGET if targeted else None,
            )
        )
    rows.append(
        Row(
            f"{kind} flatness, compile + execute relative to the reference's",
            flat["both"],
            flat["reference"],
            flat["both"] / flat["reference"],
        )
    )
    return rows


def _variants(engine: WorkflowEngine, dag: Dag, repeat: int) -> dict[str, Measure]:
    """Measures of seconds per step for `dag`: reference execute, plait execute, compile."""
    definition = dag.definition()
    definition.compile()
    actions, preds, inputs = dag.runner_args()
    steps = len(dag) * repeat

    async def reference() -> float:
        t0 = time.perf_counter()
        for _ in range(repeat):
            await run_dag(actions, preds, inputs)
        return (time.perf_counter() - t0) / steps

    async def execute() -> float:
        t0 = time.perf_counter()
        for _ in range(repeat):
            result = await engine.execute_workflow(definition)
            assert result["status"] == "completed", result["error"]
        return (time.perf_counter() - t0) / steps

    async def compile_fresh() -> float:
        fresh = [
            WorkflowDefinition(dag.name, dag.name, "", definition.steps) for _ in range(repeat)
        ]
        t0 = time.perf_counter()
        for each in fresh:
            each.compile()
        return (time.perf_counter() - t0) / steps

    n = len(dag)
    return {f"reference@{n}": reference, f"execute@{n}": execute, f"compile@{n}": compile_fresh}


async def _traced(call: Callable[[], Awaitable[Any]]) -> tuple[int, int]:
    """(peak, retained) bytes allocated during `await call()`."""
    gc.collect()
    tracemalloc.start()
    try:
        result = await call()
        retained, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    del result
    return peak, retained


async def _memory(dag: Dag) -> list[Row]:
    n = len(dag)
    engine = WorkflowEngine()
    definition = dag.definition()

    async def build() -> WorkflowDefinition:
        return dag.definition()

    async def compile_plan() -> Any:
        return WorkflowDefinition(dag.name, dag.name, "", definition.steps).compile()

    definition.compile()
    actions, preds, inputs = dag.runner_args()
    _, steps_bytes = await _traced(build)
    _, plan_bytes = await _traced(compile_plan)
    plait_peak, _ = await _traced(lambda: engine.execute_workflow(definition))
    ref_peak, _ = await _traced(lambda: run_dag(actions, preds, inputs))
    await engine.aclose()
    return [
        Row(f"memory, chain {n:,}: definition (bytes/step)", steps_bytes / n, None, None),
        Row(f"memory, chain {n:,}: compiled plan (bytes/step)", plan_bytes / n, None, None),
        Row(
            f"memory, chain {n:,}: execute peak (bytes/step)",
            plait_peak / n,
            ref_peak / n,
            plait_peak / ref_peak,
        ),
    ]


async def _concurrent_runs(dag: Dag, runs: int, rounds: int) -> list[Row]:
    engine = WorkflowEngine()
    definition = dag.definition()
    definition.compile()
    actions, preds, inputs = dag.runner_args()

    async def plait_all() -> Any:
        results = await asyncio.gather(*(engine.execute_workflow(definition) for _ in range(runs)))
        assert all(r["status"] == "completed" for r in results)
        return results

    async def reference_all() -> Any:
        return await asyncio.gather(*(run_dag(actions, preds, inputs) for _ in range(runs)))

    def timed(call: Callable[[], Awaitable[Any]]) -> Callable[[], Awaitable[float]]:
        async def measure() -> float:
            t0 = time.perf_counter()
            await call()
            return time.perf_counter() - t0

        return measure

    samples = await interleaved(
        {"plait": timed(plait_all), "reference": timed(reference_all)}, rounds
    )
    plait_peak, _ = await _traced(plait_all)
    ref_peak, _ = await _traced(reference_all)
    await engine.aclose()
    return [
        Row(
            f"{runs:,} concurrent runs x {len(dag)} steps: wall time (ms)",
            median(samples["plait"]) * 1e3,
            median(samples["reference"]) * 1e3,
            paired_ratio(samples["plait"], samples["reference"]),
        ),
        Row(
            f"{runs:,} concurrent runs x {len(dag)} steps: peak memory (MB)",
            plait_peak / 1e6,
            ref_peak / 1e6,
            plait_peak / ref_peak,
        ),
    ]
