"""examples/market_research.yaml: the guide's parallel pattern over shipped market data."""

from __future__ import annotations

from pathlib import Path

import pytest
from example_support import direct_upstream, run_example

from plait.engine import WorkflowEngine

WORKFLOW = "market_research.yaml"
ANALYSES = {"competitor", "sentiment", "pricing", "trends"}


def test_the_four_analyses_start_together_and_each_synthesis_waits_for_all() -> None:
    for analysis in ANALYSES:
        assert direct_upstream(WORKFLOW, analysis) == set()
    assert direct_upstream(WORKFLOW, "synthesize_offline") == ANALYSES
    assert direct_upstream(WORKFLOW, "synthesize_llm") == ANALYSES


async def test_the_analyses_are_computed_from_the_shipped_data(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW)

    assert result["status"] == "completed", result["error"]
    results = result["results"]
    # Figures from examples/data/README.md: 8 positive, 6 negative, 1 neutral review.
    sentiment = results["sentiment"]
    assert sentiment["counts"] == {"positive": 8, "negative": 6, "neutral": 1}
    assert sentiment["average_compound"] == 0.1362
    assert {"delivery", "support", "pricing"} <= set(sentiment["complaint_themes"])
    # 3 of 4 rivals sell EV charging and fuel analytics; none has our offline mode.
    competitor = results["competitor"]
    assert competitor["gaps"] == ["fuel_analytics", "ev_charging"]
    assert competitor["differentiators"] == ["predictive_maintenance", "offline_mode"]
    assert competitor["leader"] == "RouteWise"
    # 34 against a rival median of (27 + 29) / 2 = 28.
    assert results["pricing"]["market_median"] == 28.0
    assert results["pricing"]["premium_pct"] == 21.4
    assert results["trends"]["rising"] == ["EV fleet charging", "Predictive maintenance"]


async def test_the_synthesis_crosses_trends_with_features_and_writes_the_report(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW)

    assert result["status"] == "completed", result["error"]
    assert result["steps"]["synthesize_llm"]["status"] == "skipped"
    opportunities = result["output"]["opportunities"]
    # A rising topic we lack is a gap to close; one we own is a lead to press.
    assert any(o.startswith("Close the ev_charging gap") for o in opportunities)
    assert any(o.startswith("Lead on Predictive maintenance") for o in opportunities)
    # Fuel analytics is falling, but we do not sell it: not a risk to us.
    assert not any("Fuel cost analytics" in r for r in result["output"]["risks"])
    markdown = (sandbox / ".plait/reports/market_research.md").read_text(encoding="utf-8")
    assert "## Opportunities" in markdown
    assert "| Halden Systems | 34 | 6 | 5.67 |" in markdown


async def test_use_llm_without_a_key_fails_naming_the_variable_to_set(
    sandbox: Path, engine: WorkflowEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    result = await run_example(engine, WORKFLOW, use_llm=True)

    assert result["status"] == "failed"
    assert result["failed_step"] == "synthesize_llm"
    assert "OPENAI_API_KEY" in result["error"]
    assert result["steps"]["synthesize_offline"]["status"] == "skipped"
    assert not (sandbox / ".plait/reports/market_research.md").exists()
