"""Small workflows the kit's tests run: declared (the guide's shapes) and code-first."""

from __future__ import annotations

import asyncio
from typing import Any

import plait
from plait import RecoveryStrategy, RetryPolicy, WorkflowDefinition, WorkflowStep

NO_JITTER = RetryPolicy(initial_delay=1.0, jitter=0.0)
"""Backoffs of 1 s, 2 s, 4 s ... exactly, so virtual time is exact too."""


# --- a declared order workflow: validate, then price and stock at once, then confirm -------


def validate(order: dict[str, Any]) -> dict[str, Any]:
    if order["quantity"] <= 0:
        raise ValueError("quantity must be positive")
    return {"sku": order["sku"], "quantity": order["quantity"]}


async def price(order: dict[str, Any]) -> float:
    return 2.5 * order["quantity"]


async def stock(order: dict[str, Any], context: Any) -> dict[str, Any]:
    return {"sku": order["sku"], "available": True, "attempt": context.attempt}


def confirm(total: float, stock: dict[str, Any]) -> dict[str, Any]:
    return {"total": total, "shipped": stock["available"]}


ORDERS = WorkflowDefinition(
    workflow_id="orders",
    name="Orders",
    description="Validate an order, price it and check stock at once, then confirm it.",
    steps=[
        WorkflowStep(
            "validate", agent="clerk", action=validate, inputs={"order": "{{ inputs.order }}"}
        ),
        WorkflowStep(
            "price",
            agent="pricing_api",
            action=price,
            inputs={"order": "{{ validate.result }}"},
            retry=NO_JITTER,
        ),
        WorkflowStep(
            "stock",
            agent="warehouse_api",
            action=stock,
            inputs={"order": "{{ validate.result }}"},
            timeout_seconds=30,
            retry=NO_JITTER,
        ),
        WorkflowStep(
            "confirm",
            agent="clerk",
            action=confirm,
            inputs={"total": "{{ price.result }}", "stock": "{{ stock.result }}"},
        ),
    ],
    inputs=["order"],
    output="{{ confirm.result }}",
)
ORDER = {"sku": "A-1", "quantity": 4}


# --- a code-first pipeline with a fan-out ------------------------------------------------

CALLS: list[str] = []
"""Every real execution of a code-first step below, in order."""


@plait.step(retry=NO_JITTER)
async def load(source: str) -> list[int]:
    CALLS.append(f"load:{source}")
    return [1, 2, 3]


@plait.step(retry=NO_JITTER, timeout_seconds=10, agent="llm")
async def score(item: int) -> int:
    CALLS.append(f"score:{item}")
    await asyncio.sleep(0)
    return item * 10


@plait.step
def total(scores: list[int]) -> int:
    CALLS.append("total")
    return sum(scores)


@plait.workflow
async def pipeline(source: str = "db") -> int:
    items = await load(source)
    scores = await asyncio.gather(*(score(item) for item in items))
    return await total(list(scores))


@plait.workflow
async def nightly(hours: float) -> str:
    await load("morning")
    await plait.sleep(hours * 3600)
    return "woke up"


@plait.workflow
async def signed(amount: int) -> dict[str, Any]:
    answer = await plait.wait_for_approval(
        "Pay this?", data={"amount": amount}, timeout_seconds=3600, default="approve"
    )
    return {"paid": amount, "timed_out": answer["timed_out"]}


# --- recovery shapes ---------------------------------------------------------------------


async def slow_report(text: str) -> str:
    return text.upper()


def with_recovery(*strategies: RecoveryStrategy, timeout: float = 10) -> WorkflowDefinition:
    """One step that reports `inputs.text`, with these recovery strategies."""
    return WorkflowDefinition(
        "report",
        "Report",
        "",
        [
            WorkflowStep(
                "report",
                agent="writer",
                action=slow_report,
                inputs={"text": "{{ inputs.text }}"},
                retry_count=1,
                timeout_seconds=timeout,
                recovery=strategies,
            )
        ],
        inputs=["text"],
    )
