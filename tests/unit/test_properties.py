"""Properties over random DAGs, checked with hypothesis.

Engine properties run each example in its own event loop; steps yield to the loop
a random number of times so they finish in varied orders. Nothing here reads the
wall clock: a run that would deadlock fails through the workflow's own timeout.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from plait import RetryPolicy, StepStatus, WorkflowDefinition, WorkflowEngine, WorkflowStep
from plait.expressions import bind_reference, compile_value
from plait.scheduler import Scheduler
from plait.types import TriggerRule

ENGINE_RUNS = settings(max_examples=40, deadline=None)
PURE = settings(max_examples=150, deadline=None)
GUARD = 30.0
"""A workflow timeout that only a deadlock could reach; no assertion depends on it."""


@dataclass(frozen=True)
class Dag:
    deps: tuple[frozenset[int], ...]
    """deps[i] are the steps step i depends on (all lower-numbered, so it is acyclic)."""
    order: tuple[int, ...]
    """The order the steps are listed in the definition."""
    yields: tuple[int, ...]
    """How many times step i yields to the event loop while it runs."""

    @property
    def size(self) -> int:
        return len(self.deps)


@st.composite
def dags(draw: st.DrawFn, max_steps: int = 9) -> Dag:
    n = draw(st.integers(1, max_steps))
    deps = tuple(
        frozenset(draw(st.sets(st.integers(0, i - 1), max_size=3))) if i else frozenset()
        for i in range(n)
    )
    order = tuple(draw(st.permutations(range(n))))
    yields = tuple(draw(st.lists(st.integers(0, 4), min_size=n, max_size=n)))
    return Dag(deps, order, yields)


def name(i: int) -> str:
    return f"s{i}"


def definition(
    dag: Dag,
    make_action: Callable[[int], Any],
    extra: list[WorkflowStep] | None = None,
    agents: list[str | None] | None = None,
    **kwargs: Any,
) -> WorkflowDefinition:
    steps = [
        WorkflowStep(
            name(i),
            agent=agents[i] if agents else None,
            action=make_action(i),
            dependencies=[name(d) for d in sorted(dag.deps[i])],
            retry_count=1,
        )
        for i in dag.order
    ]
    return WorkflowDefinition("prop", "prop", "", steps + (extra or []), **kwargs)


def execute(workflow: WorkflowDefinition) -> dict[str, Any]:
    engine = WorkflowEngine()
    try:
        return asyncio.run(engine.execute_workflow(workflow))
    finally:
        engine.close()


# --- the engine over random DAGs ---------------------------------------------------


@ENGINE_RUNS
@given(dags())
def test_every_step_runs_exactly_once_and_only_after_all_its_dependencies(dag: Dag) -> None:
    runs: list[int] = []
    done: set[int] = set()
    early: list[int] = []

    def make_action(i: int) -> Any:
        async def act() -> int:
            runs.append(i)
            if not dag.deps[i] <= done:
                early.append(i)
            for _ in range(dag.yields[i]):
                await asyncio.sleep(0)
            done.add(i)
            return i

        return act

    result = execute(definition(dag, make_action, timeout_seconds=GUARD))
    assert result["status"] == "completed"
    assert sorted(runs) == list(range(dag.size))
    assert early == []
    assert result["results"] == {name(i): i for i in range(dag.size)}


@ENGINE_RUNS
@given(
    dag=dags(),
    limit=st.integers(1, 4),
    labels=st.lists(st.sampled_from(["llm", "db", None]), min_size=9, max_size=9),
    llm_limit=st.integers(1, 3),
)
def test_concurrency_limits_are_never_exceeded(
    dag: Dag, limit: int, labels: list[str | None], llm_limit: int
) -> None:
    live = {"all": 0, "llm": 0, "db": 0}
    peak = dict.fromkeys(live, 0)

    def make_action(i: int) -> Any:
        label = labels[i]

        async def act() -> None:
            keys = ["all", label] if label else ["all"]
            for key in keys:
                live[key] += 1
                peak[key] = max(peak[key], live[key])
            for _ in range(dag.yields[i] + 1):
                await asyncio.sleep(0)
            for key in keys:
                live[key] -= 1

        return act

    result = execute(
        definition(
            dag,
            make_action,
            agents=labels,
            max_concurrency=limit,
            agent_concurrency={"llm": llm_limit},
            timeout_seconds=GUARD,
        )
    )
    assert result["status"] == "completed"
    assert peak["all"] <= limit
    assert peak["llm"] <= llm_limit


async def watchdog(event: asyncio.Event, turns: int = 2_000) -> bool:
    """Set `event` if it is still unset after `turns` turns of the event loop.

    Counting loop turns instead of seconds keeps this deterministic: the steps
    here need a few dozen turns in all, so reaching the limit means a hang.
    Returns whether it had to step in.
    """
    for _ in range(turns):
        if event.is_set():
            return False
        await asyncio.sleep(0)
    event.set()
    return True


@ENGINE_RUNS
@given(dags())
def test_a_step_starts_once_its_dependencies_finish_while_an_unrelated_step_still_runs(
    dag: Dag,
) -> None:
    # `slow` depends on nothing and nothing depends on it; it is released only when
    # every other step has finished. A scheduler that waited for "waves" would hang.
    async def main() -> tuple[dict[str, Any], list[bool], bool]:
        release = asyncio.Event()
        slow_running_at_start: list[bool] = []
        finished = 0

        async def slow() -> str:
            await release.wait()
            return "slow"

        def make_action(i: int) -> Any:
            async def act() -> None:
                nonlocal finished
                slow_running_at_start.append(not release.is_set())
                for _ in range(dag.yields[i]):
                    await asyncio.sleep(0)
                finished += 1
                if finished == dag.size:
                    release.set()

            return act

        workflow = definition(
            dag,
            make_action,
            extra=[WorkflowStep("slow", action=slow, retry_count=1, timeout_seconds=None)],
        )
        engine = WorkflowEngine()
        try:
            guard = asyncio.create_task(watchdog(release))
            result = await engine.execute_workflow(workflow)
            return result, slow_running_at_start, await guard
        finally:
            engine.close()

    result, slow_running_at_start, hung = asyncio.run(main())
    assert not hung
    assert result["status"] == "completed"
    assert slow_running_at_start == [True] * dag.size


# --- the pure scheduler ------------------------------------------------------------


async def _never(**inputs: Any) -> None:
    raise AssertionError("not called")


def scheduler_for(dag: Dag, **kwargs: Any) -> tuple[Scheduler, list[int]]:
    """A scheduler for `dag`, and the map from plan index to dag step."""
    plan = definition(dag, lambda i: _never, **kwargs).compile()
    return Scheduler(plan), [int(sid[1:]) for sid in plan.ids]


@PURE
@given(dags(max_steps=12), st.data())
def test_the_scheduler_starts_each_step_the_moment_its_last_dependency_finishes(
    dag: Dag, data: st.DataObject
) -> None:
    sched, step_of = scheduler_for(dag)
    index_of = {s: k for k, s in enumerate(step_of)}
    running = list(sched.initial())
    assert sorted(step_of[k] for k in running) == [i for i in range(dag.size) if not dag.deps[i]]
    done: set[int] = set()
    started = {step_of[k] for k in running}
    while running:
        k = running.pop(data.draw(st.integers(0, len(running) - 1)))
        done.add(step_of[k])
        new = [step_of[j] for j in sched.finished(k, StepStatus.COMPLETED)]
        # exactly the steps whose last dependency this was
        expected = [i for i in range(dag.size) if step_of[k] in dag.deps[i] and dag.deps[i] <= done]
        assert sorted(new) == sorted(expected)
        assert not started & set(new)
        started.update(new)
        running.extend(index_of[i] for i in new)
    assert done == set(range(dag.size))
    assert sched.is_idle


RULES = [r.value for r in TriggerRule]


def rule_allows(rule: str, upstream: list[StepStatus]) -> bool:
    ok = sum(s is StepStatus.COMPLETED for s in upstream)
    bad = sum(s in (StepStatus.FAILED, StepStatus.CANCELLED) for s in upstream)
    return {
        "all_success": ok == len(upstream),
        "all_done": True,
        "one_success": ok > 0,
        "none_failed": bad == 0,
    }[rule]


@PURE
@given(dags(max_steps=12), st.data())
def test_trigger_rules_hold_for_any_mix_of_outcomes(dag: Dag, data: st.DataObject) -> None:
    rules = data.draw(st.lists(st.sampled_from(RULES), min_size=dag.size, max_size=dag.size))
    plan = WorkflowDefinition(
        "p",
        "p",
        "",
        [
            WorkflowStep(
                name(i),
                action=_never,
                dependencies=[name(d) for d in sorted(dag.deps[i])],
                trigger_rule=rules[i],
            )
            for i in dag.order
        ],
        on_failure="continue",
    ).compile()
    sched = Scheduler(plan)
    step_of = [int(sid[1:]) for sid in plan.ids]
    outcome: dict[int, StepStatus] = {}
    running = list(sched.initial())
    offered = [step_of[k] for k in running]
    while running:
        k = running.pop(data.draw(st.integers(0, len(running) - 1)))
        status = data.draw(st.sampled_from([StepStatus.COMPLETED, StepStatus.FAILED]))
        outcome[step_of[k]] = status
        new = sched.finished(k, status)
        offered += [step_of[j] for j in new]
        running += new
    for k, status in enumerate(sched.status):
        if status is StepStatus.SKIPPED:
            outcome[step_of[k]] = status
    assert sorted(offered) == sorted(set(offered))  # no step starts twice
    assert set(outcome) == set(range(dag.size))  # every step ended
    for i in range(dag.size):
        upstream = [outcome[d] for d in dag.deps[i]]
        ran = i in offered
        assert ran == (not upstream or rule_allows(rules[i], upstream)), (i, rules[i], upstream)


@PURE
@given(
    dag=dags(max_steps=12),
    limit=st.integers(1, 4),
    data=st.data(),
)
def test_the_scheduler_never_exceeds_its_limits_and_never_strands_a_step(
    dag: Dag, limit: int, data: st.DataObject
) -> None:
    labels = data.draw(
        st.lists(st.sampled_from(["llm", "db", None]), min_size=dag.size, max_size=dag.size)
    )
    agent_limit = data.draw(st.integers(1, 2))
    sched, step_of = scheduler_for(
        dag, agents=labels, max_concurrency=limit, agent_concurrency={"llm": agent_limit}
    )
    running = list(sched.initial())
    finished = 0
    while running:
        assert len(running) <= limit
        assert sum(labels[step_of[k]] == "llm" for k in running) <= agent_limit
        k = running.pop(data.draw(st.integers(0, len(running) - 1)))
        running += sched.finished(k, StepStatus.COMPLETED)
        finished += 1
    assert finished == dag.size


# --- values ------------------------------------------------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(), inner, max_size=3),
    max_leaves=10,
)


@dataclass
class _Scope:
    results: list[Any]
    statuses: list[Any]
    run_inputs: dict[str, Any]


@PURE
@given(json_values)
def test_a_whole_string_reference_returns_any_result_unchanged(value: Any) -> None:
    resolver = compile_value("{{ a.result }}", lambda ref: bind_reference(ref, {"a": 0}, ["a"]))
    assert resolver is not None
    assert resolver(_Scope([value], ["completed"], {})) is value


@PURE
@given(st.text().filter(lambda t: "{{" not in t))
def test_text_without_braces_is_left_alone(text: str) -> None:
    assert compile_value(text, lambda ref: bind_reference(ref, {}, [])) is None


@PURE
@given(
    initial=st.floats(0, 10),
    multiplier=st.floats(1, 4),
    jitter=st.floats(0, 2),
    cap=st.floats(0, 100),
    failed_attempt=st.integers(1, 40),
)
def test_a_retry_delay_always_lies_within_its_bounds(
    initial: float, multiplier: float, jitter: float, cap: float, failed_attempt: int
) -> None:
    policy = RetryPolicy(initial_delay=initial, multiplier=multiplier, jitter=jitter, max_delay=cap)
    low, high = policy.bounds(failed_attempt)
    assert low <= policy.delay(failed_attempt) <= high
