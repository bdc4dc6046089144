"""examples/document_analysis.yaml: the guide's sequential pattern, and the first demo."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

from example_support import DATA, PLAIT, direct_upstream, run_example

from plait.engine import WorkflowEngine

WORKFLOW = "document_analysis.yaml"


def test_the_three_analyses_wait_only_for_extract_and_the_report_for_all_three() -> None:
    for analysis in ("sentiment", "summarize", "keywords"):
        assert direct_upstream(WORKFLOW, analysis) == {"extract"}
    assert direct_upstream(WORKFLOW, "report") == {"extract", "sentiment", "summarize", "keywords"}


async def test_the_quarterly_report_is_scored_summarised_and_written_up(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW)

    assert result["status"] == "completed", result["error"]
    output = result["output"]
    # Mostly good news with a real problem in the West: positive, but far from glowing.
    assert output["sentiment"] == "positive"
    assert 0.05 < output["compound"] < 0.5
    document = result["results"]["extract"]["text"]
    assert len(output["summary"]) == 3
    assert all(sentence in document for sentence in output["summary"])
    assert "subscription revenue" in output["keywords"]

    report = sandbox / ".plait" / "reports" / "document_analysis.md"
    assert Path(output["report"]) == report.resolve()
    markdown = report.read_text(encoding="utf-8")
    assert "- title: Halden Systems: Q3 2024 Quarterly Update" in markdown
    assert all(sentence in markdown for sentence in output["summary"])
    assert "| recurring subscription revenue |" in markdown
    counts = result["results"]["sentiment"]["counts"]
    assert f"{counts['positive']} positive, {counts['negative']} negative" in markdown


async def test_any_supported_document_and_report_location_can_be_given(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    target = sandbox / "deeper" / "still" / "brief.md"

    result = await run_example(
        engine,
        WORKFLOW,
        document_path=str(DATA / "product_brief.html"),
        output_path=str(target),
        summary_sentences=2,
    )

    assert result["status"] == "completed", result["error"]
    assert len(result["output"]["summary"]) == 2
    markdown = target.read_text(encoding="utf-8")
    assert "- title: Fleet Insights Product Brief" in markdown
    assert "analytics snippet" not in markdown  # the page's <script> is not text


def test_plait_run_json_prints_the_outcome_with_the_short_summary(sandbox: Path) -> None:
    completed = subprocess.run(
        [str(PLAIT), "run", f"examples/{WORKFLOW}", "--json", "--quiet"],
        cwd=sandbox,
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode == 0, completed.stderr
    outcome = json.loads(completed.stdout)
    assert outcome["status"] == "completed"
    assert set(outcome["output"]) == {"sentiment", "compound", "summary", "keywords", "report"}
    assert Path(outcome["output"]["report"]).is_relative_to(sandbox.resolve())
    assert all(step["status"] == "completed" for step in outcome["steps"].values())
