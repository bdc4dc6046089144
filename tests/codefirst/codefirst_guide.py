"""The guide's class-based workflows, as written there, with `@plait.workflow` added.

Only the decorators and the agents' construction are ours; the method bodies follow
the guide (its print statements included).
"""

from __future__ import annotations

import asyncio
from typing import Any

import codefirst_agents as agents

import plait


class SequentialWorkflow:
    def __init__(self) -> None:
        self.text_extractor = agents.TextExtractor()
        self.sentiment_analyzer = agents.SentimentAnalyzer()
        self.summarizer = agents.Summarizer()
        self.report_generator = agents.ReportGenerator()

    @plait.workflow(workflow_id="document_analysis")
    async def document_analysis_workflow(self, document_path: str) -> dict[str, Any]:
        """Complete document analysis workflow"""
        print("Step 1: Extracting text...")
        text = await self.text_extractor.extract(document_path)
        print("Step 2: Analyzing sentiment...")
        sentiment = await self.sentiment_analyzer.analyze(text)
        print("Step 3: Generating summary...")
        summary = await self.summarizer.summarize(text)
        print("Step 4: Creating report...")
        report = await self.report_generator.create(
            {"text": text, "sentiment": sentiment, "summary": summary}
        )
        return report


class ParallelWorkflow:
    def __init__(self) -> None:
        # The slowest agent is called first: completion order is the reverse of call order.
        self.competitor_agent = agents.ResearchAgent("competitor", 0.04)
        self.sentiment_agent = agents.ResearchAgent("sentiment", 0.03)
        self.pricing_agent = agents.ResearchAgent("pricing", 0.02)
        self.trend_agent = agents.ResearchAgent("trends", 0.01)
        self.synthesis_agent = agents.SynthesisAgent()

    @plait.workflow(workflow_id="market_research")
    async def market_research_workflow(self, query: str) -> list[str]:
        """Parallel market research workflow"""
        print("🚀 Starting parallel market research...")
        results = await asyncio.gather(
            self.competitor_agent.analyze(query),
            self.sentiment_agent.analyze(query),
            self.pricing_agent.analyze(query),
            self.trend_agent.analyze(query),
        )
        competitor_data, sentiment_data, pricing_data, trend_data = results
        print("📊 Synthesizing research findings...")
        synthesis = await self.synthesis_agent.combine(
            {
                "competitor": competitor_data,
                "sentiment": sentiment_data,
                "pricing": pricing_data,
                "trends": trend_data,
            }
        )
        return synthesis


class ETLWorkflow:
    def __init__(self) -> None:
        self.extract_agent = agents.ExtractAgent()
        self.cleaner = agents.Cleaner()
        self.validator = agents.Validator()
        self.enricher = agents.Enricher()
        self.loader = agents.Loader()
        self.sales_reporter = agents.Reporter("sales")
        self.marketing_reporter = agents.Reporter("marketing")
        self.finance_reporter = agents.Reporter("finance")

    @plait.workflow(workflow_id="bi_etl")
    async def bi_etl_workflow(self, sources: list[str]) -> dict[str, Any]:
        print("📥 Phase 1: Extracting data...")
        extract_tasks = [self.extract_agent.extract(source) for source in sources]
        raw_data = await asyncio.gather(*extract_tasks)
        print("🔄 Phase 2: Transforming data...")
        cleaned_data = await self.cleaner.clean(raw_data)
        validated_data = await self.validator.validate(cleaned_data)
        enriched_data = await self.enricher.enrich(validated_data)
        print("💾 Phase 3: Loading data...")
        await self.loader.load_to_warehouse(enriched_data)
        print("📊 Phase 4: Generating reports...")
        report_tasks = [
            self.sales_reporter.generate(enriched_data),
            self.marketing_reporter.generate(enriched_data),
            self.finance_reporter.generate(enriched_data),
        ]
        reports = await asyncio.gather(*report_tasks)
        return {
            "status": "success",
            "records_processed": len(enriched_data),
            "reports_generated": len(reports),
        }


class EventDrivenWorkflow:
    def __init__(self) -> None:
        self.email_agent = agents.Notifier()
        self.event_handlers = {
            "customer_signup": self.handle_signup,
            "purchase_completed": self.handle_purchase,
        }

    @plait.workflow(workflow_id="process_event")
    async def process_event(self, event: dict[str, Any]) -> None:
        """Route event to appropriate handler"""
        event_type = event.get("type")
        handler = self.event_handlers.get(event_type)  # type: ignore[arg-type]
        if handler:
            await handler(event)
        else:
            print(f"⚠️ No handler for event type: {event_type}")

    async def handle_signup(self, event: dict[str, Any]) -> None:
        customer_data = event["data"]
        await asyncio.gather(
            self.email_agent.send("welcome", customer_data),
            self.email_agent.send("onboarding", customer_data),
            self.email_agent.send("assign_rep", customer_data),
            self.email_agent.send("checkin", customer_data),
        )

    async def handle_purchase(self, event: dict[str, Any]) -> None:
        purchase_data = event["data"]
        await asyncio.gather(
            self.email_agent.send("receipt", purchase_data),
            self.email_agent.send("crm", purchase_data),
            self.email_agent.send("fulfillment", purchase_data),
            self.email_agent.send("analytics", purchase_data),
        )


class DecisionWorkflow:
    def __init__(self) -> None:
        self.financial_agent = agents.Scorer("financial", 1.0)
        self.market_agent = agents.Scorer("market", 0.5)
        self.risk_agent = agents.Scorer("risk", -0.5)
        self.competitive_agent = agents.Scorer("competitive", 0.5)
        self.decision_agent = agents.DecisionAgent()
        self.recommender = agents.Recommender()

    @plait.workflow(workflow_id="investment_decision")
    async def investment_decision_workflow(self, opportunity: dict[str, Any]) -> dict[str, Any]:
        print("🎯 Evaluating investment opportunity...")
        analyses = await asyncio.gather(
            self.financial_agent.analyze(opportunity),
            self.market_agent.analyze(opportunity),
            self.risk_agent.assess(opportunity),
            self.competitive_agent.analyze(opportunity),
        )
        financial, market, risk, competitive = analyses
        print("⚖️ Synthesizing decision...")
        decision = await self.decision_agent.synthesize(
            {"financial": financial, "market": market, "risk": risk, "competitive": competitive}
        )
        print("📝 Generating recommendation...")
        recommendation = await self.recommender.generate(decision)
        return {
            "decision": decision,
            "recommendation": recommendation,
            "confidence": decision.confidence,
            "analyses": {
                "financial": financial,
                "market": market,
                "risk": risk,
                "competitive": competitive,
            },
        }
