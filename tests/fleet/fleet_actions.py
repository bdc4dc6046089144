"""Actions of the fleet tests' workflows; they log each execution, for the chaos checks.

With `PLAIT_FLEET_LOG` set to a folder, every execution appends `start` and `end`
lines (run, step, pid, time) to a file per process, flushed at once, so a
process killed mid-step leaves its `start` behind.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any


def _log(event: str, run_id: str, step: str) -> None:
    folder = os.environ.get("PLAIT_FLEET_LOG")
    if folder:
        with open(os.path.join(folder, f"{os.getpid()}.log"), "a", encoding="utf-8") as f:
            f.write(f"{event} {run_id} {step} {os.getpid()} {time.time():.6f}\n")


async def tick(name: str, context: Any, **upstream: int) -> dict[str, Any]:
    """A tiny step: its `n` is one more than the sum of its upstream steps' `n`."""
    _log("start", context.run_id, name)
    await asyncio.sleep(0.005)
    _log("end", context.run_id, name)
    return {"step": name, "n": 1 + sum(upstream.values())}


def crunch(n: int) -> int:
    """CPU-bound work for the process executor (a sum of squares)."""
    return sum(i * i for i in range(n))


def whoami(n: int) -> dict[str, int]:
    """The process a step ran in, and a result that depends on its input."""
    return {"pid": os.getpid(), "double": 2 * n}


async def api_call(i: int, context: Any) -> int:
    """A call to a rate-limited API: logs its interval, for the fleet-wide limit test."""
    _log("start", context.run_id, context.step_id)
    await asyncio.sleep(0.05)
    _log("end", context.run_id, context.step_id)
    return i


async def nap(seconds: float, context: Any) -> dict[str, Any]:
    """A step that takes a while and says which process ran it (the fencing test)."""
    _log("start", context.run_id, context.step_id)
    await asyncio.sleep(seconds)
    _log("end", context.run_id, context.step_id)
    return {"pid": os.getpid()}
