"""`WorkflowKit`: run workflows in a test, with overrides, faults, crashes and virtual time.

    async with WorkflowKit() as kit:                 # or the `plait_kit` pytest fixture
        result = await kit.run("flow.yaml", {"n": 3},
                               overrides={"fetch": ["raise ConnectionError", {"ok": 1}]},
                               faults=[faults.timeout("analyze")])
        assert result.steps["fetch"].attempts == 2

The kit owns a store (memory, or an SQLite file) and one engine on it at a time,
the "process". Every engine gets the kit's clock, which reads the event loop's
virtual time, so backoffs, timeouts, durable sleeps, approval deadlines and cron
ticks take no wall time. A crash kills the process; the next call starts a new
one on the same store, as a restarted worker would.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import shutil
import tempfile
import uuid
from collections.abc import AsyncIterator, Callable, Coroutine, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, final

from plait import events
from plait.codefirst import StepFunction, WorkflowFunction
from plait.definition import WorkflowDefinition
from plait.engine import WorkflowEngine
from plait.store.base import Store
from plait.testing import result as results
from plait.testing.cassette import Replay
from plait.testing.clock import LoopClock, virtual_time
from plait.testing.faults import Fault, crash_point
from plait.testing.interception import Interceptor, RunPlan, step_functions
from plait.testing.overrides import scripts
from plait.testing.process import Process, TaskTracker

Workflow = WorkflowDefinition | WorkflowFunction[Any, Any] | str | Path
"""A definition, a `@plait.workflow` function, or a file (`flow.yaml`, `file.py:function`)."""

DEFAULT_START = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
"""Where the kit's clock starts: a fixed date, so schedules and timestamps are repeatable."""


@final
class WorkflowKit:
    """Runs workflows for tests; use it as an async context manager (one event loop)."""

    def __init__(
        self,
        *,
        store: Literal["memory", "sqlite"] | Store = "memory",
        path: str | Path | None = None,
        start: dt.datetime | float = DEFAULT_START,
        virtual_time: bool = True,
        wait_for_people: bool = False,
        listeners: Sequence[events.Listener] = (),
    ) -> None:
        """
        Args:
            store: "memory", "sqlite" (a file at `path`, else in a temporary folder),
                or a store object.
            start: what the clock reads when the kit opens.
            virtual_time: fast-forward the running loop's time (a selector loop);
                False waits in real time.
            wait_for_people: keep runs alive while they wait for a person or a long
                durable sleep, instead of pausing them (see `WorkflowEngine`).
            listeners: more listeners for every engine the kit makes.
        """
        self._store_arg = store
        self._path = Path(path) if path is not None else None
        self._start = start.timestamp() if isinstance(start, dt.datetime) else float(start)
        self.virtual = virtual_time
        self.wait_for_people = wait_for_people
        self._listeners = list(listeners)
        self._tape = results.Tape()
        self._interceptor = Interceptor()
        self._tracker = TaskTracker()
        self._workflows: dict[str, WorkflowDefinition | WorkflowFunction[Any, Any]] = {}
        self._process: Process | None = None
        self._store: Store | None = None
        self._temp: Path | None = None
        self._time: contextlib.ExitStack | None = None
        self._clock: LoopClock | None = None

    # --- lifecycle -------------------------------------------------------------------------

    async def __aenter__(self) -> WorkflowKit:
        loop = asyncio.get_running_loop()
        stack = contextlib.ExitStack()
        if self.virtual:
            stack.enter_context(virtual_time(loop))
        self._time = stack
        self._tracker.install(loop)
        self._clock = LoopClock(loop, start=self._start)
        self._store = self._open_store()
        await self._store.open()
        return self

    async def __aexit__(self, *exc: object) -> None:
        try:
            if self._process is not None:
                await self._process.stop()
                self._process = None
            if self._store is not None:
                await self._store.close()
        finally:
            self._tracker.uninstall()
            if self._time is not None:
                self._time.close()
            if self._temp is not None:
                shutil.rmtree(self._temp, ignore_errors=True)

    def _open_store(self) -> Store:
        arg = self._store_arg
        if arg == "memory":
            from plait.store.memory import MemoryStore

            return MemoryStore()
        if arg == "sqlite":
            from plait.store.sqlite import SQLiteStore

            path = self._path
            if path is None:
                self._temp = Path(tempfile.mkdtemp(prefix="plait-kit-"))
                path = self._temp / "plait.db"
            return SQLiteStore(path)
        if isinstance(arg, str):
            raise ValueError(f"store must be 'memory', 'sqlite' or a store object, not {arg!r}")
        return arg

    @property
    def clock(self) -> LoopClock:
        """The clock every engine of the kit uses (`elapsed`, `time()`, `slept`)."""
        if self._clock is None:
            raise RuntimeError("open the kit first: async with WorkflowKit() as kit")
        return self._clock

    @property
    def store(self) -> Store:
        """The store the kit's runs are kept in (read it to check what a crash left)."""
        if self._store is None:
            raise RuntimeError("open the kit first: async with WorkflowKit() as kit")
        return self._store

    @property
    def engine(self) -> WorkflowEngine:
        """The engine of the current process (a new one after a crash)."""
        return self._current().engine

    def _current(self) -> Process:
        if self._process is None or self._process.dead:
            self._process = Process(self.store, self._tracker, self._make_engine)
        return self._process

    def _make_engine(self, store: Store) -> WorkflowEngine:
        return WorkflowEngine(
            store=store,
            clock=self.clock,
            listeners=[self._tape, *self._listeners],
            wait_for_people=self.wait_for_people,
            # How often an engine looks for other processes' pause/cancel requests and
            # answers: rare in a test, and each look is a wake-up in a virtual week.
            poll_interval=3600.0,
        )

    # --- running ---------------------------------------------------------------------------

    async def run(
        self,
        workflow: Workflow,
        inputs: Mapping[str, Any] | None = None,
        *,
        overrides: Mapping[str | StepFunction[Any, Any], Any] | None = None,
        faults: Sequence[Fault] = (),
        replay: Replay | None = None,
        run_id: str | None = None,
    ) -> results.RunResult:
        """Run `workflow` to its end (or until it pauses, or its process crashes).

        Args:
            overrides: step id (or name, or step function) -> outcome or list of
                outcomes, one per call; see `plait.testing.overrides`.
            faults: errors, timeouts, delays and a crash (`plait.testing.faults`).
            replay: steps answered from a cassette (`Cassette.replay(...)`).

        Raises:
            KeyError: an override or fault names a step the workflow does not have.
            CassetteMismatchError: a replayed step had other inputs than recorded.
            AssertionError: `faults.crash_after(step)` was given but the step never finished.
        """
        target = self._load(workflow)
        run_id = run_id or uuid.uuid4().hex[:12]
        self._workflows[run_id] = target
        wrapped, steps = self._prepare(target, overrides, faults, replay, run_id)

        def work(engine: WorkflowEngine) -> Coroutine[Any, Any, dict[str, Any]]:
            return engine.execute_workflow(wrapped, inputs, run_id=run_id)

        return await self._drive(run_id, target, steps, work)

    async def resume(
        self,
        run: results.RunResult | str,
        workflow: Workflow | None = None,
        *,
        overrides: Mapping[str | StepFunction[Any, Any], Any] | None = None,
        faults: Sequence[Fault] = (),
        replay: Replay | None = None,
    ) -> results.RunResult:
        """Continue a paused or crashed run, as `WorkflowEngine.resume` does.

        Overrides, faults and replay apply afresh to this call (counts start at zero).
        """
        run_id = run if isinstance(run, str) else run.run_id
        target = self._load(workflow) if workflow is not None else self._workflows[run_id]
        self._workflows[run_id] = target
        wrapped, steps = self._prepare(target, overrides, faults, replay, run_id)

        def work(engine: WorkflowEngine) -> Coroutine[Any, Any, dict[str, Any]]:
            return engine.resume(run_id, wrapped)

        return await self._drive(run_id, target, steps, work)

    async def advance(
        self, seconds: float = 0.0, *, minutes: float = 0.0, hours: float = 0.0, days: float = 0.0
    ) -> None:
        """Let time pass (virtual: instantly), running whatever comes due meanwhile."""
        await asyncio.sleep(seconds + 60 * minutes + 3600 * hours + 86400 * days)

    async def approve(
        self, run: results.RunResult | str, step_id: str, data: Any = None, *, by: str = "test"
    ) -> None:
        """Answer an approval request with yes (then `resume` a paused run)."""
        run_id = run if isinstance(run, str) else run.run_id
        await self.engine.approve(run_id, step_id, data, by=by)

    async def reject(
        self, run: results.RunResult | str, step_id: str, reason: str, *, by: str = "test"
    ) -> None:
        """Answer an approval request with no."""
        run_id = run if isinstance(run, str) else run.run_id
        await self.engine.reject(run_id, step_id, reason, by=by)

    @contextlib.asynccontextmanager
    async def cron(self, *workflows: WorkflowDefinition, **options: Any) -> AsyncIterator[CronRuns]:
        """Serve the workflows' `cron:` triggers on the kit's clock while inside.

        `options` go to `run` for every run the schedule starts. On exit, the
        schedule stops and the runs it started are awaited: `runs.results`.
        """
        from plait.triggers import CronScheduler, MemoryEventLog, compile_triggers

        triggers = [t for w in workflows for t in compile_triggers(w)]
        runs = CronRuns()

        async def start(workflow: WorkflowDefinition, inputs: dict[str, Any]) -> str:
            run_id = uuid.uuid4().hex[:12]
            run = self.run(workflow, inputs, run_id=run_id, **options)
            runs._tasks.append(asyncio.ensure_future(run))
            return run_id

        scheduler = CronScheduler(MemoryEventLog(), lambda: triggers, start, self.clock)
        ticking = asyncio.ensure_future(scheduler.run())
        try:
            yield runs
        finally:
            ticking.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticking
            runs.results = list(await asyncio.gather(*runs._tasks))

    # --- the machinery ---------------------------------------------------------------------

    def _load(self, workflow: Workflow) -> WorkflowDefinition | WorkflowFunction[Any, Any]:
        if isinstance(workflow, WorkflowDefinition | WorkflowFunction):
            return workflow
        from plait.loader import load_target

        loaded: WorkflowDefinition | WorkflowFunction[Any, Any] = load_target(str(workflow))
        return loaded

    def _prepare(
        self,
        target: WorkflowDefinition | WorkflowFunction[Any, Any],
        overrides: Mapping[str | StepFunction[Any, Any], Any] | None,
        faults: Sequence[Fault],
        replay: Replay | None,
        run_id: str,
    ) -> tuple[Any, dict[str, StepFunction[Any, Any]]]:
        named: dict[str, Any] = {}
        extra: dict[str, StepFunction[Any, Any]] = {}
        for key, spec in (overrides or {}).items():
            if isinstance(key, StepFunction):
                extra[key.name] = key
                key = key.name
            named[key] = spec
        if isinstance(target, WorkflowDefinition):
            known = [s.step_id for s in target.steps if s.kind != "approval"]
            steps: dict[str, StepFunction[Any, Any]] = {}
            wrapped: Any = self._interceptor.wrap_definition(target)
        else:
            steps = {**step_functions(target), **extra}
            known = list(steps)
            wrapped = target
        for name in [*named, *(f.step for f in faults)]:
            if name.partition("#")[0] not in known:
                raise KeyError(
                    f"{name!r} is not a step of {_name(target)} that runs an action; "
                    f"its steps: {', '.join(known)}"
                )
        crash_point(tuple(faults))  # at most one, checked before anything runs
        plan = RunPlan(scripts(named), tuple(faults), replay, self.virtual)
        self._interceptor.plans[run_id] = plan
        return wrapped, steps

    async def _drive(
        self,
        run_id: str,
        target: WorkflowDefinition | WorkflowFunction[Any, Any],
        steps: dict[str, StepFunction[Any, Any]],
        work: Callable[[WorkflowEngine], Coroutine[Any, Any, dict[str, Any]]],
    ) -> results.RunResult:
        plan = self._interceptor.plans[run_id]
        crash_after = crash_point(plan.faults)
        process = self._current()
        position = self._tape.mark(run_id)
        if crash_after is not None:
            process.store.crash_points[run_id] = crash_after
        try:
            with self._interceptor.swapped(steps):
                task = process.spawn(work(process.engine))
                try:
                    await asyncio.wait([task, process.crashed], return_when=asyncio.FIRST_COMPLETED)
                except asyncio.CancelledError:
                    task.cancel()
                    raise
                if process.dead:
                    self._tape.cut(run_id)
                    await process.kill()
                    if task.done() and not task.cancelled():
                        task.exception()
                    return await self._crashed_result(run_id, target, plan, position)
                summary = task.result()
        finally:
            process.store.crash_points.pop(run_id, None)
            del self._interceptor.plans[run_id]
        if crash_after is not None:
            raise AssertionError(
                f"faults.crash_after({crash_after!r}): the run ended ({summary['status']}) "
                f"without step {crash_after!r} finishing, so no crash happened"
            )
        if plan.mismatches:
            raise plan.mismatches[0]
        seen = self._tape.since(run_id, position)
        return results.from_summary(summary, seen, plan.executions)

    async def _crashed_result(
        self,
        run_id: str,
        target: WorkflowDefinition | WorkflowFunction[Any, Any],
        plan: RunPlan,
        position: int,
    ) -> results.RunResult:
        store = self.store
        run = await store.get_run(run_id)
        rows = await store.get_steps(run_id)
        ids = [s.step_id for s in target.steps] if isinstance(target, WorkflowDefinition) else []
        seen = self._tape.since(run_id, position)
        return results.from_store(run, rows, ids, seen, plan.executions)


@final
class CronRuns:
    """The runs a `kit.cron(...)` schedule started; `results` is filled when the block ends."""

    def __init__(self) -> None:
        self._tasks: list[asyncio.Future[results.RunResult]] = []
        self.results: list[results.RunResult] = []

    @property
    def started(self) -> int:
        """How many runs the schedule has started so far."""
        return len(self._tasks)


def _name(target: WorkflowDefinition | WorkflowFunction[Any, Any]) -> str:
    return f"workflow {target.workflow_id!r}"
