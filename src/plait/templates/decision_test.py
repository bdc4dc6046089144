"""Tests for the __NAME__ decision workflow: run it with plait's test kit, check what it decided.

pytest test___NAME__.py

The `plait_kit` fixture comes with plait (pip install 'plait[testing]'): it runs the
workflow as `plait run` does, lets a test inject failures and timeouts, and puts the
run on virtual time, so retries and timeouts take no wall time.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from plait.testing import WorkflowKit, faults

WORKFLOW = Path(__file__).with_name("__NAME__.yaml")

pytestmark = pytest.mark.asyncio


async def test_the_sample_question_picks_the_best_option_within_budget(
    plait_kit: WorkflowKit,
) -> None:
    result = await plait_kit.run(WORKFLOW)

    assert result.ok, result.error
    ranking = [entry["option"] for entry in result.output["ranking"]]
    # The most benefit that fits the budget wins, but only narrowly over cheap Beacon Maps.
    assert result.output["decision"] == "Atlas Routing"
    assert ranking[1] == "Beacon Maps"
    assert "Dromo" not in ranking  # 61,000 is over the 50,000 budget
    assert any("short trial" in line for line in result.output["recommendations"])


async def test_a_bigger_budget_brings_the_expensive_option_into_play(
    plait_kit: WorkflowKit,
) -> None:
    result = await plait_kit.run(WORKFLOW, {"budget": 100_000})

    assert result.ok, result.error
    assert "Dromo" in [entry["option"] for entry in result.output["ranking"]]


async def test_a_budget_nothing_fits_fails_with_a_clear_reason(plait_kit: WorkflowKit) -> None:
    result = await plait_kit.run(WORKFLOW, {"budget": 1_000})

    assert result.status == "failed"
    assert result.failed_step == "generate_options"
    assert result.steps["generate_options"].attempts == 1  # retry_count: 1
    assert "no option fits the budget" in (result.error or "")


async def test_an_evaluation_that_fails_once_is_retried(plait_kit: WorkflowKit) -> None:
    flaky = faults.error("evaluate_risk", ConnectionError("risk service unavailable"))
    result = await plait_kit.run(WORKFLOW, faults=[flaky])

    assert result.ok, result.error
    assert result.steps["evaluate_risk"].attempts == 2
    assert result.output["decision"] == "Atlas Routing"


async def test_an_evaluation_that_hangs_times_out_and_nothing_is_decided(
    plait_kit: WorkflowKit,
) -> None:
    hung = faults.timeout("evaluate_cost", attempt=None)  # every attempt, past timeout_seconds
    result = await plait_kit.run(WORKFLOW, faults=[hung])

    with pytest.raises(TimeoutError):
        result.raise_for_status()
    assert result.steps["decide"].status == "cancelled"
