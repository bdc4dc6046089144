"""Reading fields of results that may be absent, and a workflow output that cannot resolve."""

from __future__ import annotations

from typing import Any

from plait import WorkflowDefinition, WorkflowEngine, WorkflowStep


async def nothing() -> None:
    return None


async def echo(value: Any) -> Any:
    return value


async def test_a_field_of_a_skipped_step_reads_as_none_after_an_all_done_join() -> None:
    result = await WorkflowEngine().execute_workflow(
        WorkflowDefinition(
            "w",
            "w",
            "",
            [
                WorkflowStep(
                    "maybe", action=echo, inputs={"value": {"id": 7}}, condition=lambda c: False
                ),
                WorkflowStep(
                    "join",
                    action=echo,
                    inputs={"value": "{{ maybe.result.id }}"},
                    trigger_rule="all_done",
                ),
            ],
            output={"id": "{{ maybe.result.id }}", "joined": "{{ join.result }}"},
        )
    )
    assert result["status"] == "completed"
    assert result["output"] == {"id": None, "joined": None}


async def test_a_missing_key_in_a_present_result_is_still_an_error() -> None:
    result = await WorkflowEngine().execute_workflow(
        WorkflowDefinition(
            "w",
            "w",
            "",
            [
                WorkflowStep("a", action=echo, inputs={"value": {"id": 7}}),
                WorkflowStep("b", action=echo, inputs={"value": "{{ a.result.idd }}"}),
            ],
        )
    )
    assert result["status"] == "failed"
    assert "has no 'idd'" in result["error"]


async def test_an_output_that_cannot_resolve_is_reported_not_raised() -> None:
    result = await WorkflowEngine().execute_workflow(
        WorkflowDefinition(
            "w",
            "w",
            "",
            [
                WorkflowStep("a", action=echo, inputs={"value": [1, 2]}),
            ],
            output="{{ a.result[5] }}",
        )
    )
    assert result["status"] == "completed"
    assert result["output"] is None
    assert "the workflow's output cannot be resolved" in result["error"]
