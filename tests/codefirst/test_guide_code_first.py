"""The guide's class-based workflows, made durable with two decorators, run and replay."""

from __future__ import annotations

import asyncio
from pathlib import Path

import codefirst_agents as agents
import pytest
from codefirst_guide import (
    DecisionWorkflow,
    ETLWorkflow,
    EventDrivenWorkflow,
    ParallelWorkflow,
    SequentialWorkflow,
)

import plait
from plait import WorkflowEngine
from plait.clock import VirtualClock
from plait.store.memory import MemoryStore

REPORT = Path(__file__).parents[2] / "examples" / "data" / "quarterly_report.md"


@pytest.fixture(autouse=True)
def fresh_log() -> None:
    agents.LOG.calls.clear()


async def test_decorated_functions_are_plain_functions_outside_a_workflow() -> None:
    text = await agents.TextExtractor().extract(str(REPORT))
    assert text.startswith("#")
    report = await SequentialWorkflow().document_analysis_workflow(str(REPORT))
    assert report["sentiment"] in ("positive", "negative", "neutral")


async def test_the_sequential_workflow_checkpoints_every_step_call() -> None:
    store = MemoryStore()
    async with WorkflowEngine(store=store) as engine:
        wf = SequentialWorkflow()
        result = await engine.execute_workflow(
            wf.document_analysis_workflow, {"document_path": str(REPORT)}
        )
    assert result["status"] == "completed"
    assert result["completed_steps"] == ["extract", "analyze", "summarize", "create"]
    assert result["output"]["characters"] == len(REPORT.read_text(encoding="utf-8"))
    [run] = await store.list_runs()
    assert (run.workflow_id, run.status) == ("document_analysis", "completed")
    rows = await store.get_steps(run.run_id)
    assert [(r.step_id, r.seq, r.status) for r in rows] == [
        ("extract", 0, "completed"),
        ("analyze", 1, "completed"),
        ("summarize", 2, "completed"),
        ("create", 3, "completed"),
    ]
    assert rows[1].inputs == {"text": REPORT.read_text(encoding="utf-8")}


async def test_gather_numbers_calls_in_call_order_not_completion_order() -> None:
    store = MemoryStore()
    async with WorkflowEngine(store=store) as engine:
        result = await engine.execute_workflow(
            ParallelWorkflow().market_research_workflow, {"query": "robots"}
        )
    assert result["status"] == "completed"
    assert result["output"] == [
        "competitor=competitor",
        "pricing=pricing",
        "sentiment=sentiment",
        "trends=trends",
    ]
    rows = await store.get_steps(result["run_id"])
    assert [(r.seq, r.step_id, r.result and r.result.get("topic")) for r in rows[:4]] == [
        (0, "research", "competitor"),
        (1, "research#2", "sentiment"),
        (2, "research#3", "pricing"),
        (3, "research#4", "trends"),
    ]
    # Completion order was the reverse: the slowest was called first.
    finished = sorted(rows[:4], key=lambda r: r.finished_at or 0)
    assert [r.step_id for r in finished] == ["research#4", "research#3", "research#2", "research"]


async def test_the_etl_workflow_runs_its_parallel_extracts_and_reports() -> None:
    wf = ETLWorkflow()
    result = await WorkflowEngine().execute_workflow(
        wf.bi_etl_workflow, {"sources": ["salesforce", "hubspot", "quickbooks"]}
    )
    assert result["output"] == {"status": "success", "records_processed": 3, "reports_generated": 3}
    assert [r["amount"] for r in wf.loader.warehouse] == [100, 70, 100]
    assert result["results"]["report#3"] == {"kind": "finance", "total": 270}


async def test_the_event_driven_workflow_routes_by_type() -> None:
    wf = EventDrivenWorkflow()
    engine = WorkflowEngine()
    signup = await engine.execute_workflow(
        wf.process_event, {"event": {"type": "customer_signup", "data": {"email": "a@b.c"}}}
    )
    assert sorted(signup["results"].values()) == [
        "assign_rep:a@b.c",
        "checkin:a@b.c",
        "onboarding:a@b.c",
        "welcome:a@b.c",
    ]
    unknown = await engine.execute_workflow(wf.process_event, {"event": {"type": "refund"}})
    assert unknown["status"] == "completed"
    assert unknown["completed_steps"] == []


async def test_the_decision_workflow_returns_the_guides_shape() -> None:
    result = await WorkflowEngine(store=MemoryStore()).execute_workflow(
        DecisionWorkflow().investment_decision_workflow,
        {"opportunity": {"financial": 2.0, "market": 1.0, "risk": 1.0, "competitive": 1.0}},
    )
    out = result["output"]
    assert out["decision"].choice == "invest"
    assert out["recommendation"] == "Recommendation: invest (confidence 1.00)"
    assert set(out["analyses"]) == {"financial", "market", "risk", "competitive"}


async def test_resume_replays_completed_calls_from_the_store_without_running_them(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    gate = asyncio.Event()

    @plait.step
    async def fetch(n: int) -> int:
        agents.LOG.hit(f"fetch{n}")
        return n * 10

    @plait.step
    async def slow(total: int) -> int:
        agents.LOG.hit("slow")
        await gate.wait()
        return total + 1

    @plait.workflow
    async def flow() -> int:
        parts = await asyncio.gather(fetch(1), fetch(2), fetch(3))
        return await slow(sum(parts))

    async with WorkflowEngine(store=url) as engine:
        run = engine.start(flow)
        task = asyncio.create_task(engine.wait(run.run_id))
        while "slow" not in agents.LOG.calls:
            await asyncio.sleep(0.01)
        task.cancel()  # the process "dies" while `slow` runs
        with pytest.raises(asyncio.CancelledError):
            await task
    agents.LOG.calls.clear()
    gate.set()
    async with WorkflowEngine(store=url) as engine:
        result = await engine.resume(run.run_id, flow)
    assert result["status"] == "completed"
    assert result["output"] == 61
    assert agents.LOG.calls == ["slow"]  # the three fetches came from the store


async def test_a_changed_workflow_body_is_detected_with_the_divergent_step_named() -> None:
    store = MemoryStore()

    @plait.step
    async def first() -> int:
        return 1

    @plait.step
    async def second() -> int:
        return 2

    @plait.workflow(workflow_id="changing")
    async def original() -> int:
        await first()
        return await plait.wait_for_approval("go on?")  # type: ignore[return-value]

    @plait.workflow(workflow_id="changing")
    async def edited() -> int:
        await second()
        return 0

    async with WorkflowEngine(store=store) as engine:
        paused = await engine.execute_workflow(original)
        assert paused["status"] == "paused"
        result = await engine.resume(paused["run_id"], edited)
    assert result["status"] == "failed"
    assert "call #1 was step 'first'" in result["error"]
    assert "is now 'second'" in result["error"]


async def test_an_hour_of_durable_sleep_passes_instantly_on_a_virtual_clock() -> None:
    clock = VirtualClock()

    @plait.workflow
    async def patient() -> float:
        before = clock.time()
        await plait.sleep(3600)
        return clock.time() - before

    engine = WorkflowEngine(store=MemoryStore(), clock=clock, wait_for_people=True)
    result = await asyncio.wait_for(engine.execute_workflow(patient), timeout=10)
    assert result["status"] == "completed"
    assert result["output"] == 3600
    assert clock.slept == [3600]


async def test_a_long_durable_sleep_pauses_the_run_and_resume_finishes_it() -> None:
    clock = VirtualClock()
    store = MemoryStore()

    @plait.workflow
    async def later() -> str:
        await plait.sleep(7200)
        return "woke"

    async with WorkflowEngine(store=store, clock=clock) as engine:
        paused = await engine.execute_workflow(later)
        assert paused["status"] == "paused"
        assert paused["waiting_for"] == ["sleep"]
        clock.advance(7200)
        done = await engine.resume(paused["run_id"], later)
    assert (done["status"], done["output"]) == ("completed", "woke")


async def test_wait_for_approval_pauses_and_the_answer_comes_back() -> None:
    store = MemoryStore()

    @plait.workflow
    async def publish(text: str) -> str:
        answer = await plait.wait_for_approval("Publish this?", data={"text": text})
        return f"{text} ({answer['data']['note']})"

    async with WorkflowEngine(store=store) as engine:
        paused = await engine.execute_workflow(publish, {"text": "hello"})
        assert paused["status"] == "paused"
        [request] = await engine.inbox()
        assert (request.prompt, request.data) == ("Publish this?", {"data": {"text": "hello"}})
        await engine.approve(paused["run_id"], "approval", {"note": "ok"})
        done = await engine.resume(paused["run_id"], publish)
    assert done["output"] == "hello (ok)"


async def test_a_failed_step_call_raises_in_the_workflow_and_fails_the_run() -> None:
    @plait.step(retry_count=2, retry=plait.RetryPolicy(initial_delay=0, jitter=0))
    async def broken() -> None:
        raise ValueError("no")

    @plait.workflow
    async def flow() -> None:
        await broken()

    result = await WorkflowEngine().execute_workflow(flow)
    assert result["status"] == "failed"
    assert result["failed_step"] == "broken"
    assert result["steps"]["broken"]["attempts"] == 2
    assert result["error"] == "ValueError: no"


def test_plait_run_and_show_work_for_a_code_first_file(tmp_path: Path) -> None:
    import json
    import os
    import subprocess
    import sys

    (tmp_path / "flow.py").write_text(
        "import asyncio\nimport plait\n\n"
        "@plait.step\nasync def double(n: int) -> int:\n    return n * 2\n\n"
        "@plait.workflow\nasync def twice(n: int, times: int = 2) -> list[int]:\n"
        "    return list(await asyncio.gather(*[double(n + k) for k in range(times)]))\n"
    )
    env = {**os.environ, "PLAIT_STORE": f"sqlite:///{tmp_path / 'runs.db'}"}

    def plait_cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-m", "plait", *args],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )

    done = plait_cli("run", "flow.py:twice", "-i", "n=5", "-i", "times=3", "--json")
    assert done.returncode == 0, done.stderr
    outcome = json.loads(done.stdout)
    assert outcome["output"] == [10, 12, 14]
    assert list(outcome["steps"]) == ["double", "double#2", "double#3"]
    shown = plait_cli("show", outcome["run_id"])
    assert "double#3: completed" in shown.stdout
    bad = plait_cli("run", "flow.py:twice", "-i", "n=five")
    assert bad.returncode == 2
    assert "input 'n' must be an integer" in bad.stderr
