"""Tests for the __NAME__ analysis workflow: run it, then check what it found.

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


def test_the_sample_series_has_one_spike_and_rises(tmp_path: Path) -> None:
    report = tmp_path / "report.md"
    result = run(output_path=str(report))

    assert result["status"] == "completed", result["error"]
    assert result["output"]["anomalies"] == [8]  # the 97 among values in the forties
    assert result["results"]["trend"]["direction"] == "rising"
    assert "Value 97 at position 8 is unusually high" in report.read_text()


def test_values_that_are_not_numbers_are_dropped_and_reported(tmp_path: Path) -> None:
    result = run(values=[10, "n/a", 11, None, 12, 13], output_path=str(tmp_path / "r.md"))

    assert result["status"] == "completed", result["error"]
    assert result["results"]["validate"]["dropped"] == [
        {"index": 1, "value": "n/a"},
        {"index": 3, "value": None},
    ]
    assert result["results"]["describe"]["count"] == 4


def test_a_series_too_short_to_analyse_fails_at_validation(tmp_path: Path) -> None:
    result = run(values=[1, 2], output_path=str(tmp_path / "r.md"))

    assert result["status"] == "failed"
    assert result["failed_step"] == "validate"
    assert "at least 3 numbers" in result["error"]
    assert not (tmp_path / "r.md").exists()
