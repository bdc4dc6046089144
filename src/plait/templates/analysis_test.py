"""Tests for the __NAME__ analysis workflow: run it with plait's test kit, check what it found.

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


async def test_the_sample_series_has_one_spike_and_rises(
    plait_kit: WorkflowKit, tmp_path: Path
) -> None:
    report = tmp_path / "report.md"
    result = await plait_kit.run(WORKFLOW, {"output_path": str(report)})

    assert result.ok, result.error
    assert result.output["anomalies"] == [8]  # the 97 among values in the forties
    assert result.results["trend"]["direction"] == "rising"
    assert result.started[0] == "validate" and result.finished[-1] == "report"
    assert "Value 97 at position 8 is unusually high" in report.read_text()


async def test_values_that_are_not_numbers_are_dropped_and_reported(
    plait_kit: WorkflowKit, tmp_path: Path
) -> None:
    inputs = {"values": [10, "n/a", 11, None, 12, 13], "output_path": str(tmp_path / "r.md")}
    result = await plait_kit.run(WORKFLOW, inputs)

    assert result.ok, result.error
    assert result.results["validate"]["dropped"] == [
        {"index": 1, "value": "n/a"},
        {"index": 3, "value": None},
    ]
    assert result.results["describe"]["count"] == 4


async def test_a_series_too_short_to_analyse_fails_at_validation(
    plait_kit: WorkflowKit, tmp_path: Path
) -> None:
    inputs = {"values": [1, 2], "output_path": str(tmp_path / "r.md")}
    result = await plait_kit.run(WORKFLOW, inputs)

    assert result.status == "failed"
    assert result.failed_step == "validate"
    assert result.steps["validate"].attempts == 1  # retry_count: 1, bad data is not retried
    assert "at least 3 numbers" in (result.error or "")
    assert not (tmp_path / "r.md").exists()


async def test_an_analysis_that_fails_once_is_retried(
    plait_kit: WorkflowKit, tmp_path: Path
) -> None:
    flaky = faults.error("trend", ConnectionError("analysis service unavailable"))
    result = await plait_kit.run(WORKFLOW, {"output_path": str(tmp_path / "r.md")}, faults=[flaky])

    assert result.ok, result.error
    assert result.steps["trend"].attempts == 2


async def test_an_analysis_that_hangs_times_out_and_no_report_is_written(
    plait_kit: WorkflowKit, tmp_path: Path
) -> None:
    hung = faults.timeout("describe", attempt=None)  # every attempt, past timeout_seconds
    result = await plait_kit.run(WORKFLOW, {"output_path": str(tmp_path / "r.md")}, faults=[hung])

    with pytest.raises(TimeoutError):
        result.raise_for_status()
    assert result.steps["describe"].attempts == 3
    assert not (tmp_path / "r.md").exists()
