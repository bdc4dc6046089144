"""Running any workflow with the kit, and the result a test asserts on."""

from __future__ import annotations

from pathlib import Path

import pytest
from kit_workflows import CALLS, ORDER, ORDERS, pipeline

from plait.testing import WorkflowKit
from plait.types import StepStatus, WorkflowStatus

DOUBLE = Path(__file__).with_name("flows") / "double.yaml"


async def test_a_declared_workflow_runs_and_its_result_reads_per_step(plait_kit: WorkflowKit):
    result = await plait_kit.run(ORDERS, {"order": ORDER})

    assert result.ok and result.status is WorkflowStatus.COMPLETED
    assert result.output == {"total": 10.0, "shipped": True}
    assert result.results["price"] == 10.0
    stock = result.steps["stock"]
    assert stock.status is StepStatus.COMPLETED
    assert (stock.attempts, stock.executions, stock.strategies) == (1, 1, ())
    assert stock.inputs == {"order": {"sku": "A-1", "quantity": 4}}
    assert result.executions == {"validate": 1, "price": 1, "stock": 1, "confirm": 1}


async def test_steps_start_and_finish_in_dependency_order(plait_kit: WorkflowKit):
    result = await plait_kit.run(ORDERS, {"order": ORDER})

    assert result.started[0] == "validate" and result.started[-1] == "confirm"
    assert set(result.started[1:3]) == {"price", "stock"}  # released together
    assert result.finished[0] == "validate" and result.finished[-1] == "confirm"


async def test_a_workflow_file_is_loaded_by_path(plait_kit: WorkflowKit):
    result = await plait_kit.run(DOUBLE, {"n": 21})

    assert result.output == "the answer is 42"
    assert result.started == ("double", "describe")


async def test_a_code_first_workflow_runs_with_its_calls_as_steps(plait_kit: WorkflowKit):
    CALLS.clear()
    result = await plait_kit.run(pipeline, {"source": "db"})

    assert result.output == 60
    assert list(result.steps) == ["load", "score", "score#2", "score#3", "total"]
    assert result.executions == {"load": 1, "score": 1, "score#2": 1, "score#3": 1, "total": 1}
    assert CALLS[0] == "load:db" and CALLS[-1] == "total"


async def test_a_failed_run_raises_its_error_on_demand(plait_kit: WorkflowKit):
    result = await plait_kit.run(ORDERS, {"order": {"sku": "A-1", "quantity": 0}})

    assert result.status == "failed" and result.failed_step == "validate"
    assert result.error == "ValueError: quantity must be positive"
    assert result.steps["confirm"].status == "cancelled"
    with pytest.raises(Exception, match="quantity must be positive"):
        result.raise_for_status()


async def test_the_sqlite_kit_keeps_runs_in_a_file(plait_sqlite_kit: WorkflowKit, tmp_path: Path):
    result = await plait_sqlite_kit.run(ORDERS, {"order": ORDER})

    assert result.ok
    stored = await plait_sqlite_kit.store.get_run(result.run_id)
    assert stored.status == "completed"
    assert (tmp_path / "plait.db").exists()


async def test_a_kit_can_be_used_without_the_fixture():
    async with WorkflowKit(store="sqlite") as kit:
        result = await kit.run(ORDERS, {"order": ORDER})
    assert result.ok
