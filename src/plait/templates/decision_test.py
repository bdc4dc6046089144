"""Tests for the __NAME__ decision workflow: run it, then check what it decided.

pytest test___NAME__.py
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from plait.engine import WorkflowEngine
from plait.loader import load_workflow

WORKFLOW = Path(__file__).with_name("__NAME__.yaml")


def run(**inputs: Any) -> dict[str, Any]:
    engine = WorkflowEngine()
    try:
        return engine.run_sync(load_workflow(WORKFLOW), inputs)
    finally:
        engine.close()


def test_the_sample_question_picks_the_best_option_within_budget() -> None:
    result = run()

    assert result["status"] == "completed", result["error"]
    ranking = [entry["option"] for entry in result["output"]["ranking"]]
    # The most benefit that fits the budget wins, but only narrowly over cheap Beacon Maps.
    assert result["output"]["decision"] == "Atlas Routing"
    assert ranking[1] == "Beacon Maps"
    assert "Dromo" not in ranking  # 61,000 is over the 50,000 budget
    assert any("short trial" in line for line in result["output"]["recommendations"])


def test_a_bigger_budget_brings_the_expensive_option_into_play() -> None:
    result = run(budget=100_000)

    assert result["status"] == "completed", result["error"]
    assert "Dromo" in [entry["option"] for entry in result["output"]["ranking"]]


def test_a_budget_nothing_fits_fails_with_a_clear_reason() -> None:
    result = run(budget=1_000)

    assert result["status"] == "failed"
    assert result["failed_step"] == "generate_options"
    assert "no option fits the budget" in result["error"]
