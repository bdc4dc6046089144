"""The guide's own examples, written as the guide writes them, run through `WorkflowEngine`.

The agents are small local classes with the guide's method names; each takes the
guide's `context` (the results so far) and records what it was called with.
"""

from __future__ import annotations

import asyncio
from typing import Any, ClassVar

import pytest

from plait import WorkflowDefinition, WorkflowEngine, WorkflowStatus, WorkflowStep

# --- 1. Sequential processing ------------------------------------------------------


class Log:
    def __init__(self) -> None:
        self.calls: list[str] = []


class TextExtractor:
    def __init__(self, log: Log) -> None:
        self.log = log

    async def extract(self, document_path: str, context: Any) -> str:
        self.log.calls.append("extract")
        return f"The quarterly results in {document_path} were excellent."


class SentimentAnalyzer:
    def __init__(self, log: Log) -> None:
        self.log = log

    async def analyze(self, text: str, context: Any) -> dict[str, Any]:
        self.log.calls.append("sentiment")
        assert context["extract"] == text  # the guide's context: results so far
        return {"label": "positive", "score": 0.9}


class Summarizer:
    def __init__(self, log: Log) -> None:
        self.log = log

    async def summarize(self, text: str, context: Any) -> str:
        self.log.calls.append("summarize")
        return text.split(" in ")[0]


class ReportGenerator:
    def __init__(self, log: Log) -> None:
        self.log = log

    async def create(self, sentiment: dict[str, Any], summary: str, context: Any) -> str:
        self.log.calls.append("report")
        return f"{summary} ({sentiment['label']})"


async def test_the_sequential_document_analysis_example(engine: WorkflowEngine) -> None:
    log = Log()
    text_extractor = TextExtractor(log)
    sentiment_analyzer = SentimentAnalyzer(log)
    summarizer = Summarizer(log)
    report_generator = ReportGenerator(log)
    doc_path = "q3.pdf"

    workflow = WorkflowDefinition(
        workflow_id="doc_analysis_001",
        name="Document Analysis Pipeline",
        description="Extract, analyze, and summarize documents",
        steps=[
            WorkflowStep(
                step_id="extract",
                agent=text_extractor,
                action=text_extractor.extract,
                inputs={"document_path": doc_path},
            ),
            WorkflowStep(
                step_id="sentiment",
                agent=sentiment_analyzer,
                action=sentiment_analyzer.analyze,
                inputs={"text": "{{extract.result}}"},
                dependencies=["extract"],
            ),
            WorkflowStep(
                step_id="summarize",
                agent=summarizer,
                action=summarizer.summarize,
                inputs={"text": "{{extract.result}}"},
                dependencies=["extract"],
            ),
            WorkflowStep(
                step_id="report",
                agent=report_generator,
                action=report_generator.create,
                inputs={
                    "sentiment": "{{sentiment.result}}",
                    "summary": "{{summarize.result}}",
                },
                dependencies=["sentiment", "summarize"],
            ),
        ],
    )

    result = await engine.execute_workflow(workflow)

    assert result["status"] == WorkflowStatus.COMPLETED.value
    assert result["workflow_id"] == "doc_analysis_001"
    assert result["results"]["report"] == "The quarterly results (positive)"
    assert sorted(result["completed_steps"]) == ["extract", "report", "sentiment", "summarize"]
    assert log.calls[0] == "extract"
    assert sorted(log.calls[1:3]) == ["sentiment", "summarize"]
    assert log.calls[3] == "report"


# --- 2. Parallel execution ---------------------------------------------------------


class ResearchAgent:
    """Each of the four research agents waits until all four are working at once."""

    def __init__(self, topic: str, together: asyncio.Barrier) -> None:
        self.topic = topic
        self.together = together

    async def analyze(self, query: str, context: Any) -> str:
        # If the engine ran these one at a time, the barrier would never fill.
        await asyncio.wait_for(self.together.wait(), timeout=30)
        return f"{self.topic} findings for {query}"


class SynthesisAgent:
    async def combine(
        self, competitor: str, sentiment: str, pricing: str, trends: str, context: Any
    ) -> dict[str, str]:
        return {
            "competitor": competitor,
            "sentiment": sentiment,
            "pricing": pricing,
            "trends": trends,
        }


async def test_the_parallel_market_research_example(engine: WorkflowEngine) -> None:
    together = asyncio.Barrier(4)
    competitor_agent = ResearchAgent("competitor", together)
    sentiment_agent = ResearchAgent("sentiment", together)
    pricing_agent = ResearchAgent("pricing", together)
    trend_agent = ResearchAgent("trends", together)
    synthesis_agent = SynthesisAgent()
    query = "electric bikes"

    workflow = WorkflowDefinition(
        workflow_id="market_research_001",
        name="Parallel Market Research",
        description="Gather market intelligence from multiple sources",
        steps=[
            # All these run in parallel (no dependencies)
            WorkflowStep(
                step_id="competitor",
                agent=competitor_agent,
                action=competitor_agent.analyze,
                inputs={"query": query},
            ),
            WorkflowStep(
                step_id="sentiment",
                agent=sentiment_agent,
                action=sentiment_agent.analyze,
                inputs={"query": query},
            ),
            WorkflowStep(
                step_id="pricing",
                agent=pricing_agent,
                action=pricing_agent.analyze,
                inputs={"query": query},
            ),
            WorkflowStep(
                step_id="trends",
                agent=trend_agent,
                action=trend_agent.analyze,
                inputs={"query": query},
            ),
            # Synthesis depends on all parallel steps
            WorkflowStep(
                step_id="synthesize",
                agent=synthesis_agent,
                action=synthesis_agent.combine,
                inputs={
                    "competitor": "{{competitor.result}}",
                    "sentiment": "{{sentiment.result}}",
                    "pricing": "{{pricing.result}}",
                    "trends": "{{trends.result}}",
                },
                dependencies=["competitor", "sentiment", "pricing", "trends"],
            ),
        ],
    )

    result = await engine.execute_workflow(workflow)

    assert result["status"] == "completed"
    assert result["results"]["synthesize"] == {
        "competitor": "competitor findings for electric bikes",
        "sentiment": "sentiment findings for electric bikes",
        "pricing": "pricing findings for electric bikes",
        "trends": "trends findings for electric bikes",
    }
    assert all(step["attempts"] == 1 for step in result["steps"].values())


# --- 3. Conditional workflow -------------------------------------------------------


class Analyzer:
    def __init__(self, verdict: dict[str, Any]) -> None:
        self.verdict = verdict

    async def analyze(self, content: str, context: Any) -> dict[str, Any]:
        return self.verdict


class Decider:
    def __init__(self, outcome: str) -> None:
        self.outcome = outcome

    async def approve(self, content: str, analysis: dict[str, Any], context: Any) -> str:
        return self.outcome

    reject = add = approve


class Publisher:
    async def publish(self, context: Any) -> str:
        # Whichever branch ran is in the context; the others were skipped.
        [decision] = [context[s] for s in ("approve", "reject", "human_review") if s in context]
        return f"published: {decision}"


GUIDE_CONDITIONS: dict[str, Any] = {
    "approve": lambda ctx: ctx["analyze"]["is_safe"] and ctx["analyze"]["confidence"] > 0.95,
    "reject": lambda ctx: not ctx["analyze"]["is_safe"] and ctx["analyze"]["confidence"] > 0.95,
    "human_review": lambda ctx: ctx["analyze"]["confidence"] <= 0.95,
}
"""The guide's conditions, as it writes them."""

EXPRESSION_CONDITIONS: dict[str, Any] = {
    "approve": "analyze.result.is_safe and analyze.result.confidence > 0.95",
    "reject": "not analyze.result.is_safe and analyze.result.confidence > 0.95",
    "human_review": "analyze.result.confidence <= 0.95",
}
"""The same conditions as expression strings (as a YAML file would hold them)."""


def moderation_workflow(verdict: dict[str, Any], *, expressions: bool) -> WorkflowDefinition:
    analyzer = Analyzer(verdict)
    approver, rejector, human_queue = Decider("approved"), Decider("rejected"), Decider("queued")
    publisher = Publisher()
    content = "a post"
    when = EXPRESSION_CONDITIONS if expressions else GUIDE_CONDITIONS

    return WorkflowDefinition(
        workflow_id="moderation_001",
        name="Content Moderation Pipeline",
        description="Moderate content with conditional routing",
        steps=[
            WorkflowStep(
                step_id="analyze",
                agent=analyzer,
                action=analyzer.analyze,
                inputs={"content": content},
            ),
            # Conditional steps
            WorkflowStep(
                step_id="approve",
                agent=approver,
                action=approver.approve,
                inputs={"content": content, "analysis": "{{analyze.result}}"},
                dependencies=["analyze"],
                condition=when["approve"],
            ),
            WorkflowStep(
                step_id="reject",
                agent=rejector,
                action=rejector.reject,
                inputs={"content": content, "analysis": "{{analyze.result}}"},
                dependencies=["analyze"],
                condition=when["reject"],
            ),
            WorkflowStep(
                step_id="human_review",
                agent=human_queue,
                action=human_queue.add,
                inputs={"content": content, "analysis": "{{analyze.result}}"},
                dependencies=["analyze"],
                condition=when["human_review"],
            ),
            # The join: runs after whichever branch ran.
            WorkflowStep(
                step_id="publish",
                agent=publisher,
                action=publisher.publish,
                inputs={},
                dependencies=["approve", "reject", "human_review"],
                trigger_rule="one_success",
            ),
        ],
    )


@pytest.mark.parametrize("expressions", [False, True], ids=["lambdas", "expressions"])
@pytest.mark.parametrize(
    ("verdict", "branch", "decision"),
    [
        ({"is_safe": True, "confidence": 0.99}, "approve", "approved"),
        ({"is_safe": False, "confidence": 0.99}, "reject", "rejected"),
        ({"is_safe": True, "confidence": 0.60}, "human_review", "queued"),
        ({"is_safe": False, "confidence": 0.95}, "human_review", "queued"),
    ],
)
async def test_the_conditional_moderation_example_takes_exactly_one_branch_then_publishes(
    engine: WorkflowEngine,
    verdict: dict[str, Any],
    branch: str,
    decision: str,
    expressions: bool,
) -> None:
    result = await engine.execute_workflow(moderation_workflow(verdict, expressions=expressions))

    assert result["status"] == "completed"
    branches = {s: result["steps"][s]["status"] for s in ("approve", "reject", "human_review")}
    assert branches == {s: "completed" if s == branch else "skipped" for s in branches}
    assert result["results"][branch] == decision
    assert result["results"]["publish"] == f"published: {decision}"


# --- Business intelligence ETL: the {{extract_*.result}} wildcard ------------------


class ExtractAgent:
    """Sources finish in the reverse of definition order, to show order is kept."""

    YIELDS: ClassVar[dict[str, int]] = {"salesforce": 6, "hubspot": 3, "quickbooks": 0}

    def __init__(self) -> None:
        self.finished: list[str] = []

    async def extract(self, source: str, context: Any) -> list[dict[str, Any]]:
        for _ in range(self.YIELDS[source]):
            await asyncio.sleep(0)
        self.finished.append(source)
        return [{"source": source, "amount": len(source)}]


class Cleaner:
    def __init__(self) -> None:
        self.received: Any = None

    async def clean(self, data: list[list[dict[str, Any]]], context: Any) -> list[dict[str, Any]]:
        self.received = data
        return [row for rows in data for row in rows]


class Passthrough:
    async def validate(self, data: Any, context: Any) -> Any:
        return data

    async def enrich(self, data: Any, context: Any) -> Any:
        return [{**row, "enriched": True} for row in data]

    async def load_to_warehouse(self, data: Any, context: Any) -> int:
        return len(data)


class Reporter:
    def __init__(self, name: str) -> None:
        self.name = name

    async def generate(self, data: Any, context: Any) -> str:
        return f"{self.name}: {len(data)} rows, {context['load']} loaded"


async def test_the_etl_example_gathers_every_extract_with_a_wildcard(
    engine: WorkflowEngine,
) -> None:
    extract_agent, cleaner, validator = ExtractAgent(), Cleaner(), Passthrough()
    enricher = loader = validator
    sales_reporter, marketing_reporter = Reporter("sales"), Reporter("marketing")
    finance_reporter = Reporter("finance")

    etl_workflow = WorkflowDefinition(
        workflow_id="bi_etl_001",
        name="Business Intelligence ETL",
        description="Extract, transform, and load business data",
        steps=[
            # Extract phase (parallel)
            WorkflowStep(
                step_id="extract_sales",
                agent=extract_agent,
                action=extract_agent.extract,
                inputs={"source": "salesforce"},
            ),
            WorkflowStep(
                step_id="extract_marketing",
                agent=extract_agent,
                action=extract_agent.extract,
                inputs={"source": "hubspot"},
            ),
            WorkflowStep(
                step_id="extract_finance",
                agent=extract_agent,
                action=extract_agent.extract,
                inputs={"source": "quickbooks"},
            ),
            # Transform phase (sequential)
            WorkflowStep(
                step_id="clean",
                agent=cleaner,
                action=cleaner.clean,
                inputs={"data": "{{extract_*.result}}"},
                dependencies=["extract_sales", "extract_marketing", "extract_finance"],
            ),
            WorkflowStep(
                step_id="validate",
                agent=validator,
                action=validator.validate,
                inputs={"data": "{{clean.result}}"},
                dependencies=["clean"],
            ),
            WorkflowStep(
                step_id="enrich",
                agent=enricher,
                action=enricher.enrich,
                inputs={"data": "{{validate.result}}"},
                dependencies=["validate"],
            ),
            # Load phase
            WorkflowStep(
                step_id="load",
                agent=loader,
                action=loader.load_to_warehouse,
                inputs={"data": "{{enrich.result}}"},
                dependencies=["enrich"],
            ),
            # Report phase (parallel)
            WorkflowStep(
                step_id="sales_report",
                agent=sales_reporter,
                action=sales_reporter.generate,
                inputs={"data": "{{enrich.result}}"},
                dependencies=["load"],
            ),
            WorkflowStep(
                step_id="marketing_report",
                agent=marketing_reporter,
                action=marketing_reporter.generate,
                inputs={"data": "{{enrich.result}}"},
                dependencies=["load"],
            ),
            WorkflowStep(
                step_id="finance_report",
                agent=finance_reporter,
                action=finance_reporter.generate,
                inputs={"data": "{{enrich.result}}"},
                dependencies=["load"],
            ),
        ],
    )

    result = await engine.execute_workflow(etl_workflow)

    assert result["status"] == "completed"
    assert extract_agent.finished == ["quickbooks", "hubspot", "salesforce"]
    # The wildcard lists results in definition order, not finishing order.
    assert [rows[0]["source"] for rows in cleaner.received] == [
        "salesforce",
        "hubspot",
        "quickbooks",
    ]
    assert result["results"]["load"] == 3
    assert result["results"]["finance_report"] == "finance: 3 rows, 3 loaded"


async def test_a_wildcard_reference_alone_makes_the_dependencies(engine: WorkflowEngine) -> None:
    extract_agent, cleaner = ExtractAgent(), Cleaner()
    workflow = WorkflowDefinition(
        "etl",
        "ETL",
        "",
        [
            WorkflowStep("clean", action=cleaner.clean, inputs={"data": "{{extract_*.result}}"}),
            WorkflowStep("extract_a", action=extract_agent.extract, inputs={"source": "hubspot"}),
            WorkflowStep(
                "extract_b", action=extract_agent.extract, inputs={"source": "quickbooks"}
            ),
        ],
    )
    result = await engine.execute_workflow(workflow)
    assert result["results"]["clean"] == [
        {"source": "hubspot", "amount": 7},
        {"source": "quickbooks", "amount": 10},
    ]


def test_the_guides_engine_is_used_as_the_guide_writes_it() -> None:
    # `WorkflowEngine()` with no arguments, `execute_workflow(workflow)` with one.
    async def step(context: Any) -> str:
        return "done"

    engine = WorkflowEngine()
    try:
        result = asyncio.run(
            engine.execute_workflow(
                WorkflowDefinition("w", "W", "d", [WorkflowStep("only", None, step, {})])
            )
        )
    finally:
        engine.close()
    assert {k: result[k] for k in ("workflow_id", "status", "results", "completed_steps")} == {
        "workflow_id": "w",
        "status": "completed",
        "results": {"only": "done"},
        "completed_steps": ["only"],
    }
