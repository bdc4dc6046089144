"""examples/investment_decision.yaml: four parallel analyses, then a weighted decision."""

from __future__ import annotations

from pathlib import Path

import pytest
from example_support import EXAMPLES, direct_upstream, load_module, run_example

from plait.engine import WorkflowEngine

WORKFLOW = "investment_decision.yaml"
ANALYSES = {"financial", "market", "risk", "competitive"}
decision = load_module(EXAMPLES / "agents" / "decision.py")


def test_the_four_analyses_read_the_gathered_opportunity_side_by_side() -> None:
    for analysis in ANALYSES:
        assert direct_upstream(WORKFLOW, analysis) == {"gather"}
    assert direct_upstream(WORKFLOW, "synthesize") == ANALYSES


@pytest.mark.parametrize(
    ("opportunity", "expected"),
    [
        ("OPP-101", "invest"),  # strong returns, growing market, modest risks, two moats
        ("OPP-102", "pass"),  # shrinking market, likely regulation, crowded field
        ("OPP-103", "needs more diligence"),  # promising market, missing data, heavy risks
    ],
)
async def test_each_shipped_opportunity_gets_its_decision(
    opportunity: str, expected: str, sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW, opportunity_id=opportunity)

    assert result["status"] == "completed", result["error"]
    assert result["output"]["decision"] == expected
    confidence = result["output"]["confidence"]
    if expected == "needs more diligence":
        assert confidence < decision.MIN_CONFIDENCE
    else:
        assert confidence >= 0.8


async def test_a_clear_yes_comes_with_a_plan_and_the_top_risk_to_watch(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW, opportunity_id="OPP-101")

    assert result["output"]["recommendation"].startswith("Invest in EV charging scheduler add-on")
    assert result["results"]["financial"]["npv"] > 0
    assert result["results"]["financial"]["irr"] > 0.15  # above the hurdle rate
    assert (
        "Track the top risk from day one: Charger vendor API changes."
        in (result["output"]["next_steps"])
    )


async def test_an_unsure_result_lists_the_missing_data_to_obtain(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW, opportunity_id="OPP-103")

    assert result["results"]["synthesize"]["missing"] == [
        "financial.gross_margin",
        "market.obtainable_share",
    ]
    steps = result["output"]["next_steps"]
    assert "Obtain the missing data: financial.gross_margin." in steps
    assert "Quantify mitigation for: Safety certification delayed." in steps


async def test_an_unknown_opportunity_fails_at_once_naming_the_known_ones(
    sandbox: Path, engine: WorkflowEngine
) -> None:
    result = await run_example(engine, WORKFLOW, opportunity_id="OPP-999")

    assert result["status"] == "failed"
    assert result["failed_step"] == "gather"
    assert result["steps"]["gather"]["attempts"] == 1
    assert "known: OPP-101, OPP-102, OPP-103" in result["error"]


def test_irr_and_payback_match_hand_calculations() -> None:
    assert decision._irr([-100.0, 110.0]) == pytest.approx(0.10)
    assert decision._irr([-100.0, -10.0]) is None  # never pays back: no rate makes NPV zero
    assert decision._payback([-100.0, 40.0, 40.0, 40.0]) == pytest.approx(2.5)
