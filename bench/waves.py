"""A level-by-level ("wave") scheduler, as in the guide's sample engine.

It runs every ready step, waits for all of them, and repeats. A step whose
dependencies finished early still waits for the slowest step of its wave, which
is the cost the critical-path section makes visible next to plait's.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from typing import Any

from reference import Action


async def run_waves(
    actions: Sequence[Action],
    preds: Sequence[Sequence[int]],
    inputs: Sequence[Mapping[str, Any]] | None = None,
) -> list[Any]:
    """Run the DAG in waves; same arguments and result as `reference.run_dag`."""
    n = len(actions)
    kwargs = inputs if inputs is not None else [{}] * n
    done = [False] * n
    results: list[Any] = [None] * n
    left = n
    while left:
        ready = [i for i in range(n) if not done[i] and all(done[p] for p in preds[i])]
        if not ready:
            raise RuntimeError("dependency cycle")
        outcomes = await asyncio.gather(*(actions[i](**kwargs[i]) for i in ready))
        for i, result in zip(ready, outcomes, strict=True):
            results[i] = result
            done[i] = True
        left -= len(ready)
    return results
