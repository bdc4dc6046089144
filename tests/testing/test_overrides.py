"""Overriding steps: a value, a function, or one outcome per call."""

from __future__ import annotations

from typing import Any

import pytest
from kit_workflows import CALLS, ORDER, ORDERS, pipeline, score

from plait.errors import PlaitError
from plait.testing import Returns, WorkflowKit
from plait.testing.overrides import exception_from


async def test_a_value_replaces_the_action(plait_kit: WorkflowKit):
    result = await plait_kit.run(ORDERS, {"order": ORDER}, overrides={"price": 99.0})

    assert result.output == {"total": 99.0, "shipped": True}
    assert result.executions["price"] == 1  # the engine still called the (overridden) step


async def test_a_function_replaces_the_action_and_gets_the_inputs(plait_kit: WorkflowKit):
    seen: list[Any] = []

    def fake_stock(order: dict[str, Any], context: Any) -> dict[str, Any]:
        seen.append((order["sku"], context.attempt))
        return {"available": False}

    result = await plait_kit.run(ORDERS, {"order": ORDER}, overrides={"stock": fake_stock})

    assert result.output == {"total": 10.0, "shipped": False}
    assert seen == [("A-1", 1)]


async def test_a_sequence_gives_one_outcome_per_call(plait_kit: WorkflowKit):
    outcomes = ["raise ConnectionError", "raise ConnectionError", {"available": True}]
    result = await plait_kit.run(ORDERS, {"order": ORDER}, overrides={"stock": outcomes})

    stock = result.steps["stock"]
    assert (stock.status, stock.attempts, stock.executions) == ("completed", 3, 3)
    assert plait_kit.clock.slept == [1.0, 2.0]  # the backoffs between the attempts


async def test_the_last_outcome_repeats(plait_kit: WorkflowKit):
    result = await plait_kit.run(
        ORDERS, {"order": ORDER}, overrides={"price": ["raise ValueError: bad total"]}
    )

    assert result.failed_step == "price"
    assert result.error == "ValueError: bad total"
    assert result.steps["price"].executions == 3  # every attempt raised


@pytest.mark.parametrize(
    ("spec", "kind", "message"),
    [
        ("raise ConnectionError", ConnectionError, "injected by plait.testing"),  # builtin
        ("raise ValueError: bad total", ValueError, "bad total"),  # with a message
        ("raise plait.errors.BudgetExceededError: over", PlaitError, "over"),  # a dotted path
        ("json.JSONDecodeError: bad", ValueError, "bad"),  # whose __init__ wants more
        ("json:JSONDecodeError", ValueError, "injected by plait.testing"),  # module:name
        (TimeoutError, TimeoutError, "injected by plait.testing"),  # a type
        (KeyError("k"), KeyError, "'k'"),  # an instance, copied
    ],
)
def test_exceptions_are_named_as_in_a_traceback(spec: Any, kind: type, message: str | None):
    error = exception_from(spec)
    assert isinstance(error, kind)
    if message is not None:
        assert str(error) == message


def test_a_name_that_is_not_an_exception_is_refused():
    with pytest.raises(ValueError, match="not an exception type"):
        exception_from("raise print")


async def test_returns_keeps_a_string_or_list_as_a_value(plait_kit: WorkflowKit):
    result = await plait_kit.run(
        ORDERS,
        {"order": ORDER},
        overrides={"price": Returns("raise the price"), "stock": Returns([1, 2])},
        faults=[],
    )

    assert result.results["price"] == "raise the price"
    assert result.results["stock"] == [1, 2]


async def test_code_first_steps_are_overridden_by_name(plait_kit: WorkflowKit):
    CALLS.clear()
    result = await plait_kit.run(pipeline, overrides={"score": [1, "raise OSError", 5]})

    assert result.output == 1 + 5 + 5  # the second call failed once, then got the last outcome
    assert result.steps["score#2"].attempts == 2
    assert [c for c in CALLS if c.startswith("score")] == []  # never ran for real
    assert score.compiled.fn.__name__ == "score"  # put back afterwards
    assert (await plait_kit.run(pipeline)).output == 60


async def test_a_step_function_can_be_the_key(plait_kit: WorkflowKit):
    result = await plait_kit.run(pipeline, overrides={score: 0})
    assert result.output == 0


async def test_an_unknown_step_is_reported_with_the_real_ones(plait_kit: WorkflowKit):
    expected = "'prise' is not a step of workflow 'orders' .*; its steps: validate, price"
    with pytest.raises(KeyError, match=expected):
        await plait_kit.run(ORDERS, {"order": ORDER}, overrides={"prise": 1})
