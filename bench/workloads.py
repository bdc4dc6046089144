"""Workflow shapes, built once as plain graphs and handed to every runner alike.

A `Dag` is just predecessor lists and optional step durations, so plait, the
reference runner and the wave scheduler all run exactly the same work; only
the conversion to each runner's input differs.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any

from plait import WorkflowDefinition, WorkflowStep
from reference import Action


async def noop() -> None:
    """The cheapest possible step: what is left is the engine's own cost."""
    return None


async def sleep_step(seconds: float) -> None:
    """A step that takes `seconds` without using the CPU, like waiting on a model."""
    await asyncio.sleep(seconds)


@dataclass(frozen=True)
class Dag:
    """A workflow shape: `preds[i]` are the steps that step `i` waits for."""

    name: str
    preds: tuple[tuple[int, ...], ...]
    durations: tuple[float, ...] | None = None
    """Seconds each step sleeps; None for no-op steps."""

    def __len__(self) -> int:
        return len(self.preds)

    @property
    def edges(self) -> int:
        return sum(len(p) for p in self.preds)

    def depth(self) -> int:
        """Steps on the longest path (the number of waves a level scheduler runs)."""
        level = [0] * len(self.preds)
        for j, ps in enumerate(self.preds):  # nodes are in topological order
            level[j] = 1 + max((level[i] for i in ps), default=0)
        return max(level, default=0)

    def critical_path(self) -> float:
        """Seconds on the longest path: no scheduler can finish sooner."""
        assert self.durations is not None
        finish = [0.0] * len(self.preds)
        for j, ps in enumerate(self.preds):
            finish[j] = self.durations[j] + max((finish[i] for i in ps), default=0.0)
        return max(finish, default=0.0)

    # --- conversions -----------------------------------------------------------------

    def runner_args(self) -> tuple[list[Action], list[tuple[int, ...]], list[dict[str, Any]]]:
        """Arguments for `reference.run_dag` and `wave.run_waves`."""
        if self.durations is None:
            return [noop] * len(self), list(self.preds), [{}] * len(self)
        inputs = [{"seconds": d} for d in self.durations]
        return [sleep_step] * len(self), list(self.preds), inputs

    def definition(self, *, timeout: float | None = 300) -> WorkflowDefinition:
        """The same graph as a plait workflow with explicit dependencies."""
        ids = [f"s{i}" for i in range(len(self))]
        actions, _, inputs_of = self.runner_args()
        steps = []
        for i, ps in enumerate(self.preds):
            action, inputs = actions[i], inputs_of[i]
            steps.append(
                WorkflowStep(
                    ids[i],
                    None,
                    action,
                    inputs,
                    dependencies=[ids[p] for p in ps] or None,
                    timeout_seconds=timeout,
                )
            )
        return WorkflowDefinition(self.name, self.name, "benchmark workload", steps)


def chain(n: int) -> Dag:
    """`s0 -> s1 -> ... -> s(n-1)`: every step waits for the one before."""
    return Dag(f"chain_{n}", tuple((i - 1,) if i else () for i in range(n)))


def fan_out(n: int) -> Dag:
    """One source, `n` parallel steps, and one step joining them all (n + 2 steps)."""
    preds: list[tuple[int, ...]] = [()]
    preds.extend((0,) for _ in range(n))
    preds.append(tuple(range(1, n + 1)))
    return Dag(f"fan_out_{n}", tuple(preds))


def layered(n: int, width: int = 100) -> Dag:
    """Layers of `width` steps; each step waits for two steps of the layer before."""
    preds: list[tuple[int, ...]] = []
    for i in range(n):
        layer, k = divmod(i, width)
        if layer == 0:
            preds.append(())
        else:
            base = (layer - 1) * width
            preds.append(tuple(sorted({base + k, base + (k + 1) % width})))
    return Dag(f"layered_{n}", tuple(preds))


def random_dag(seed: int, n: int = 100, *, min_s: float = 0.005, max_s: float = 0.100) -> Dag:
    """A seeded random DAG with its own depth and fan-in, and step durations.

    Each step picks 1..`fan_in` predecessors among the `window` steps before it
    (a small window makes a deep, narrow graph; a large one a wide, shallow one);
    a few steps are extra roots.
    """
    rng = random.Random(seed)
    window = rng.choice((6, 12, 25, 50))
    fan_in = rng.choice((1, 2, 3, 5))
    preds: list[tuple[int, ...]] = [()]
    for j in range(1, n):
        if rng.random() < 0.05:
            preds.append(())
            continue
        pool = range(max(0, j - window), j)
        k = rng.randint(1, min(fan_in, len(pool)))
        preds.append(tuple(sorted(rng.sample(pool, k))))
    durations = tuple(round(rng.uniform(min_s, max_s), 3) for _ in range(n))
    return Dag(f"random_{seed}", tuple(preds), durations)
