"""Where a step's action runs when it is not this process: a process pool, or Ray.

`executor: process` sends CPU-bound Python to a pool of worker processes (no
GIL contention with the event loop); `executor: ray` sends it to a Ray cluster
(`RAY_ADDRESS`, or a local Ray started on first use). Either way the result comes
back to the step's attempt and goes through the same policies, journal and
scheduler as a local result. Actions must be importable functions (they are
pickled by reference), and they cannot take a `context`.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import multiprocessing
import os
import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ProcessPoolExecutor
from typing import Any

from plait.errors import PlaitError

_lock = threading.Lock()
_pool: ProcessPoolExecutor | None = None


class ExecutorError(PlaitError):
    """The step cannot run on its executor (Ray missing, or an action that takes a context)."""


async def run(name: str, fn: Callable[..., Any], kwargs: Mapping[str, Any]) -> Any:
    """Run `fn(**kwargs)` (sync or async) on the executor `name`; its result."""
    if isinstance(fn, functools.partial) and "context" in fn.keywords:
        raise ExecutorError(f"an action that takes a context cannot run on executor {name!r}")
    call = functools.partial(_call, fn, dict(kwargs))
    if name == "process":
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(process_pool(), call)
    if name == "ray":
        return await _ray(call)
    raise ExecutorError(f"no executor {name!r}: use local, process or ray")


def _call(fn: Callable[..., Any], kwargs: dict[str, Any]) -> Any:
    """In the worker process: call the action, driving it to its end if it is async."""
    result = fn(**kwargs)
    if inspect.isawaitable(result):
        return asyncio.run(_await(result))
    return result


async def _await(awaitable: Any) -> Any:
    return await awaitable


def process_pool() -> ProcessPoolExecutor:
    """The shared pool (spawned processes: safe with threads, and they see our sys.path)."""
    global _pool
    with _lock:
        if _pool is None:
            workers = int(os.environ.get("PLAIT_PROCESS_WORKERS", "0")) or os.cpu_count() or 2
            _pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        return _pool


def shutdown() -> None:
    """Stop the process pool (and disconnect from Ray) if they were started."""
    global _pool
    with _lock:
        pool, _pool = _pool, None
    if pool is not None:
        pool.shutdown(wait=True, cancel_futures=True)
    try:
        import ray
    except ImportError:
        return
    if ray.is_initialized():
        ray.shutdown()


async def _ray(call: Callable[[], Any]) -> Any:
    try:
        import ray
    except ImportError:
        raise ExecutorError(
            "executor: ray needs Ray: pip install 'plait[ray]' (or run the step locally)"
        ) from None
    if not ray.is_initialized():
        # RAY_ADDRESS names a cluster (ship code with its runtime_env); without it Ray
        # starts a local one for development, whose workers import what this process can.
        address = os.environ.get("RAY_ADDRESS")
        runtime_env = None
        if not address:
            path = os.pathsep.join(p for p in sys.path if p)
            runtime_env = {"env_vars": {"PYTHONPATH": path}}
        ray.init(address=address, runtime_env=runtime_env, log_to_driver=False)
    ref = ray.remote(_run_call).remote(call)
    return await ref


def _run_call(call: Callable[[], Any]) -> Any:
    return call()
