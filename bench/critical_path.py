"""Section 2: does plait start each step the moment it can?

Steps sleep 5-100 ms, so CPU overhead hardly matters here; what matters is
scheduling. The floor is the critical path (the longest chain of durations):
makespan / critical path is 1.00 for a perfect scheduler, plus timer slack.
The reference runner shows that slack on this machine; the wave scheduler
shows what level-by-level execution loses.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Sequence
from typing import Any

from harness import Config, Measure, Row, Section, interleaved, median
from plait import WorkflowEngine
from reference import Action, run_dag
from waves import run_waves
from workloads import Dag, random_dag

TARGET = (1.00, 1.02)
RUNNERS = ("plait", "reference", "wave")

Runner = Callable[
    [Sequence[Action], Sequence[Sequence[int]], Sequence[dict[str, Any]]], Awaitable[list[Any]]
]


async def run(config: Config) -> Section:
    if config.quick:
        dags = [random_dag(seed, 20, min_s=0.002, max_s=0.010) for seed in (1, 2)]
        rounds = 1
    else:
        dags = [random_dag(seed) for seed in range(1, 6)]
        rounds = 2  # sleeping dominates; more rounds buy little and cost ~25 s each
    section = Section(
        "critical_path",
        f"2. Critical-path efficiency ({len(dags)} seeded random DAGs of {len(dags[0])} steps)",
        columns=("makespan", "critical path"),
        unit="ms",
    )
    engine = WorkflowEngine()
    # Per runner: (ratio, makespan ms, critical path ms, DAG name) of its worst DAG.
    worst: dict[str, tuple[float, float, float, str]] = {}
    totals = {"plait": 0.0, "reference": 0.0}
    for dag in dags:
        samples = await _makespans(engine, dag, rounds)
        cp = dag.critical_path()
        shape = f"{dag.name} (depth {dag.depth()}, {dag.edges} edges)"
        for key in RUNNERS:
            makespan = median(samples[key])
            ratio = makespan / cp
            if key in totals:
                totals[key] += makespan
            if key not in worst or ratio > worst[key][0]:
                worst[key] = (ratio, makespan * 1e3, cp * 1e3, dag.name)
            section.rows.append(
                Row(f"{shape}: {key}", makespan * 1e3, cp * 1e3, ratio, *_target(key, ratio))
            )
    await engine.aclose()
    for key, (ratio, makespan_ms, cp_ms, name) in worst.items():
        section.rows.append(
            Row(f"worst DAG for {key}: {name}", makespan_ms, cp_ms, ratio, *_target(key, ratio))
        )
    section.rows.append(
        Row(
            "all DAGs: plait makespan vs reference makespan",
            totals["plait"] * 1e3,
            totals["reference"] * 1e3,
            totals["plait"] / totals["reference"],
        )
    )
    section.notes.extend(
        [
            "ratio = makespan / critical path (sum of sleeps on the longest path); "
            f"median makespan of {rounds} interleaved round(s)",
            "reference = bench/reference.py (starts a step when its last dependency ends); "
            "wave = bench/waves.py (the guide's run-all-ready-then-wait loop)",
            "asyncio timers fire up to ~1 ms late, so even a perfect scheduler scores "
            "slightly above 1.00 on deep DAGs; the last row compares plait with the "
            "reference directly (columns: summed makespans)",
        ]
    )
    return section


def _target(key: str, ratio: float) -> tuple[str, bool | None]:
    """Only plait has a target; the other runners are context."""
    if key != "plait":
        return "-", None
    return f"{TARGET[0]:.2f}-{TARGET[1]:.2f}x", TARGET[0] <= round(ratio, 2) <= TARGET[1]


async def _makespans(engine: WorkflowEngine, dag: Dag, rounds: int) -> dict[str, list[float]]:
    """Seconds from start to last step, per runner, `rounds` interleaved samples each."""
    definition = dag.definition()
    definition.compile()
    actions, preds, inputs = dag.runner_args()

    async def plait_run() -> float:
        t0 = time.perf_counter()
        result = await engine.execute_workflow(definition)
        assert result["status"] == "completed", result["error"]
        return time.perf_counter() - t0

    def timed(runner: Runner) -> Measure:
        async def measure() -> float:
            t0 = time.perf_counter()
            await runner(actions, preds, inputs)
            return time.perf_counter() - t0

        return measure

    variants = {"plait": plait_run, "reference": timed(run_dag), "wave": timed(run_waves)}
    return await interleaved(variants, rounds, warmup=0)
