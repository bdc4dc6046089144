"""Compiling reuses what it learned about a callable, without changing any verdict."""

from __future__ import annotations

from typing import Any

import pytest

from plait import DefinitionError, WorkflowDefinition, WorkflowStep


async def act(text: str, mode: dict[str, Any] = {}) -> str:  # noqa: B006 - unhashable default
    return text


def test_an_action_with_an_unhashable_default_still_compiles_and_is_checked() -> None:
    good = WorkflowDefinition("w", "w", "", [WorkflowStep("a", action=act, inputs={"text": "x"})])
    assert len(good.compile().steps) == 1
    bad = WorkflowDefinition("w", "w", "", [WorkflowStep("a", action=act, inputs={"txt": "x"})])
    with pytest.raises(DefinitionError, match="takes no input named 'txt'"):
        bad.compile()


def test_the_same_callable_in_many_steps_is_checked_for_each_step() -> None:
    steps = [WorkflowStep(f"s{k}", action=act, inputs={"text": "x"}) for k in range(3)]
    steps.append(WorkflowStep("s3", action=act, inputs={}))
    with pytest.raises(DefinitionError) as raised:
        WorkflowDefinition("w", "w", "", steps).compile()
    assert [p.location.field for p in raised.value.problems] == ["steps[3].inputs"]
