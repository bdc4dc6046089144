"""Typed results through an SQLite file: what a step returns is what its dependents get back.

A run is paused after its typed steps finished, the engine closed, and a new
engine resumes it from the file, so the typed values can only come from the
stored JSON (through `plait.jsonable.restore` and the actions' annotations).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from plait import WorkflowDefinition, WorkflowEngine, WorkflowStep
from plait.context import StepContext
from plait.store.sqlite import SQLiteStore


class Verdict(BaseModel):
    label: str
    score: float
    tags: list[str]
    at: dt.datetime


@dataclass
class Summary:
    title: str
    words: int


VERDICT = Verdict(label="safe ✓", score=0.25, tags=["a", "b"], at=dt.datetime(2024, 5, 1, 12, 30))
SUMMARY = Summary(title="Größe", words=3)


async def judge() -> Verdict:
    return VERDICT


def summarize() -> Summary:
    return SUMMARY


def inspect(verdict: Any, summary: Any) -> dict[str, Any]:
    return {
        "verdict": type(verdict).__name__,
        "summary": type(summary).__name__,
        "equal": verdict == VERDICT and summary == SUMMARY,
    }


class PauseTheRun:
    """An action that asks its engine to pause the run (no new steps after this one)."""

    engine: WorkflowEngine | None = None

    async def __call__(self, context: StepContext) -> str:
        assert self.engine is not None
        self.engine.pause(context.run_id)
        return "paused"


def typed_workflow(pause: PauseTheRun) -> WorkflowDefinition:
    return WorkflowDefinition(
        "typed",
        "Typed results",
        "",
        [
            WorkflowStep("judge", action=judge),
            WorkflowStep("summarize", action=summarize),
            WorkflowStep("hold", action=pause, dependencies=["judge", "summarize"]),
            WorkflowStep(
                "inspect",
                action=inspect,
                dependencies=["hold"],
                inputs={"verdict": "{{ judge.result }}", "summary": "{{ summarize.result }}"},
            ),
        ],
    )


async def test_models_and_dataclasses_come_back_as_their_types_after_a_resume(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'plait.db'}"
    pause = PauseTheRun()
    workflow = typed_workflow(pause)
    async with WorkflowEngine(store=url) as first:
        pause.engine = first
        paused = await first.execute_workflow(workflow)
    assert paused["status"] == "paused"
    assert "inspect" not in paused["results"]

    async with WorkflowEngine(store=url) as second:
        resumed = await second.resume(paused["run_id"], workflow)

    assert resumed["status"] == "completed"
    assert resumed["results"]["inspect"] == {
        "verdict": "Verdict",
        "summary": "Summary",
        "equal": True,
    }
    assert resumed["results"]["judge"] == VERDICT
    assert isinstance(resumed["results"]["summarize"], Summary)


async def test_results_are_stored_as_plain_json(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'plait.db'}"
    pause = PauseTheRun()
    async with WorkflowEngine(store=url) as engine:
        pause.engine = engine
        summary = await engine.execute_workflow(typed_workflow(pause))
    store = SQLiteStore(tmp_path / "plait.db")
    await store.open()
    try:
        steps = {s.step_id: s for s in await store.get_steps(summary["run_id"])}
    finally:
        await store.close()

    assert steps["judge"].result == {
        "label": "safe ✓",
        "score": 0.25,
        "tags": ["a", "b"],
        "at": "2024-05-01T12:30:00",
    }
    assert steps["summarize"].result == {"title": "Größe", "words": 3}


def opaque() -> object:
    return object()


def after(value: Any) -> str:
    return "never"


async def test_a_result_that_cannot_be_stored_fails_its_step_naming_the_type(
    tmp_path: Path,
) -> None:
    workflow = WorkflowDefinition(
        "opaque",
        "Opaque",
        "",
        [
            WorkflowStep("opaque", action=opaque, retry_count=1),
            WorkflowStep("after", action=after, inputs={"value": "{{ opaque.result }}"}),
        ],
    )
    async with WorkflowEngine(store=f"sqlite:///{tmp_path / 'plait.db'}") as engine:
        summary = await engine.execute_workflow(workflow)
        assert engine.store is not None
        rows = {s.step_id: s for s in await engine.store.get_steps(summary["run_id"])}

    assert summary["status"] == "failed"
    assert summary["failed_step"] == "opaque"
    error = summary["steps"]["opaque"]["error"]
    assert "builtins.object" in error
    assert "cannot be stored as JSON" in error
    assert rows["opaque"].status == "failed"
    assert rows["opaque"].error_type == "ResultNotSerializableError"
    assert "builtins.object" in (rows["opaque"].error or "")
    assert "after" not in rows
