"""Monitoring: the guide's health report from the store, Prometheus text, traces, JSON logs."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from plait import RetryPolicy, WorkflowDefinition, WorkflowEngine, WorkflowStep
from plait.monitoring.health import health_report
from plait.progress import JsonLines

FAST = RetryPolicy(initial_delay=0, max_delay=0, jitter=0)


class Flaky:
    """Fails the first `failures` calls with `error`, then returns `value`."""

    def __init__(self, failures: int, value: Any = "ok", error: type = ConnectionError) -> None:
        self.failures = failures
        self.value = value
        self.error = error

    async def __call__(self) -> Any:
        if self.failures:
            self.failures -= 1
            raise self.error("flaky")
        return self.value


def pipeline(fetch: Flaky, *, notify: bool = True) -> WorkflowDefinition:
    async def report(data: Any) -> str:
        return f"report of {data}"

    async def notify_team(text: str) -> None:
        return None

    return WorkflowDefinition(
        "etl",
        "ETL",
        "",
        [
            WorkflowStep("fetch", agent="fetcher", action=fetch, retry_count=2, retry=FAST),
            WorkflowStep(
                "report", agent="writer", action=report, inputs={"data": "{{ fetch.result }}"}
            ),
            WorkflowStep(
                "notify",
                agent="writer",
                action=notify_team,
                inputs={"text": "{{ report.result }}"},
                condition=lambda ctx: notify,
            ),
        ],
    )


async def scripted_mix(store_url: str) -> None:
    """3 clean runs, 1 run that needed a retry, 1 skipped notify, 2 failed runs."""
    async with WorkflowEngine(store=store_url) as engine:
        for _ in range(3):
            await engine.execute_workflow(pipeline(Flaky(0)))
        await engine.execute_workflow(pipeline(Flaky(1)))
        await engine.execute_workflow(pipeline(Flaky(0), notify=False))
        for _ in range(2):
            await engine.execute_workflow(pipeline(Flaky(5, error=TimeoutError)))


async def test_the_health_report_counts_exactly_what_happened(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}"
    await scripted_mix(url)
    async with WorkflowEngine(store=url) as engine:  # a new process would see the same
        assert engine.store is not None
        report = await health_report(engine.store)
    assert report["total_executions"] == 7
    assert (report["successes"], report["failures"]) == (5, 2)
    assert report["success_rate"] == pytest.approx(5 / 7)
    assert report["most_common_failures"] == [("fetch", 2)]
    fetch = report["steps"]["etl.fetch"]
    assert (fetch["executions"], fetch["successes"], fetch["failures"]) == (7, 5, 2)
    assert fetch["retries"] == 3  # one in the flaky run, one in each failed run
    assert fetch["most_common_errors"] == [{"error_type": "TimeoutError", "count": 2}]
    notify = report["steps"]["etl.notify"]
    # Ran in the 4 runs that got that far and notified; skipped once by its condition.
    # (A failed fetch cancels the run before notify starts: that is not a skip.)
    assert (notify["executions"], notify["skips"]) == (4, 1)
    writer = report["agents"]["writer"]
    assert writer["executions"] == 5 + 4
    assert (
        report["workflows"]["etl"]["duration_s"]["max"]
        >= report["workflows"]["etl"]["duration_s"]["p50"]
    )


def test_plait_stats_json_and_prometheus_agree(tmp_path: Path) -> None:
    import asyncio

    from prometheus_client.parser import text_string_to_metric_families

    url = f"sqlite:///{tmp_path / 'runs.db'}"
    asyncio.run(scripted_mix(url))
    env = {**os.environ, "PLAIT_STORE": url}

    def plait(*args: str) -> str:
        done = subprocess.run(
            [sys.executable, "-m", "plait", *args],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    report = json.loads(plait("stats", "--json", "--since", "1h"))
    assert report["total_executions"] == 7
    assert report["success_rate"] == pytest.approx(5 / 7)
    families = {f.name: f for f in text_string_to_metric_families(plait("stats", "--prometheus"))}
    executions = {
        s.labels["workflow"]: s.value
        for s in families["plait_workflow_executions"].samples
        if s.name.endswith("_total")
    }
    assert executions == {"etl": 7.0}
    rates = {s.labels["step"]: s.value for s in families["plait_step_success_rate"].samples}
    assert rates["etl.fetch"] == pytest.approx(5 / 7)
    text = plait("stats", "--workflow", "nothing-like-this")
    assert "total executions: 0" in text


async def test_each_attempt_becomes_one_span_with_the_run_and_step_ids() -> None:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    from plait.monitoring.tracing import tracing_listener

    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    listener = tracing_listener(provider)
    assert listener is not None
    result = await WorkflowEngine(listeners=[listener]).execute_workflow(pipeline(Flaky(1)))
    spans = exporter.get_finished_spans()
    attempts = [s for s in spans if s.name.startswith("step ")]
    assert sorted(
        (s.attributes["plait.step_id"], s.attributes["plait.attempt"]) for s in attempts
    ) == [("fetch", 1), ("fetch", 2), ("notify", 1), ("report", 1)]
    assert {s.attributes["plait.run_id"] for s in spans} == {result["run_id"]}
    [run_span] = [s for s in spans if s.name == "run etl"]
    assert all(s.parent.span_id == run_span.context.span_id for s in attempts)
    first = next(
        s
        for s in attempts
        if s.attributes["plait.attempt"] == 1 and s.attributes["plait.step_id"] == "fetch"
    )
    assert first.attributes["plait.outcome"] == "retrying"


def test_without_a_configured_tracer_provider_there_is_no_tracing() -> None:
    from plait.monitoring.tracing import tracing_listener

    assert tracing_listener() is None  # the default provider exports nowhere


async def test_json_log_lines_carry_run_and_step_ids() -> None:
    stream = io.StringIO()
    result = await WorkflowEngine(listeners=[JsonLines(stream)]).execute_workflow(
        pipeline(Flaky(1))
    )
    records = [json.loads(line) for line in stream.getvalue().splitlines()]
    assert {r["run_id"] for r in records} == {result["run_id"]}
    retry = next(r for r in records if r["event"] == "StepRetrying")
    assert retry["step_id"] == "fetch"
    assert retry["error"] == "ConnectionError: flaky"
    assert records[-1]["event"] == "RunFinished"
    assert records[-1]["status"] == "completed"
