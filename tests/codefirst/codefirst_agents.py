"""Small local agents shaped like the guide's, with `@plait.step` on their methods."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import plait
from plait.agents import sentiment
from plait.agents.summarize import summarize as summarize_text


class CallLog:
    """Counts executions per step name, so tests can tell replays from real runs."""

    def __init__(self) -> None:
        self.calls: list[str] = []

    def hit(self, name: str) -> None:
        self.calls.append(name)


LOG = CallLog()


class TextExtractor:
    @plait.step
    async def extract(self, document_path: str) -> str:
        LOG.hit("extract")
        return Path(document_path).read_text(encoding="utf-8")


class SentimentAnalyzer:
    @plait.step
    async def analyze(self, text: str) -> dict[str, Any]:
        LOG.hit("analyze")
        return {"label": sentiment.analyze(text=text)["label"]}


class Summarizer:
    @plait.step
    async def summarize(self, text: str) -> str:
        LOG.hit("summarize")
        return summarize_text(text=text, num_sentences=1)["summary"][0]


class ReportGenerator:
    @plait.step
    async def create(self, parts: dict[str, Any]) -> dict[str, Any]:
        LOG.hit("create")
        return {
            "sentiment": parts["sentiment"]["label"],
            "summary": parts["summary"],
            "characters": len(parts["text"]),
        }


class ResearchAgent:
    def __init__(self, topic: str, delay: float) -> None:
        self.topic = topic
        self.delay = delay

    @plait.step(name="research")
    async def analyze(self, query: str) -> dict[str, Any]:
        LOG.hit(f"research:{self.topic}")
        await asyncio.sleep(self.delay)  # later calls finish first: keys must not care
        return {"topic": self.topic, "query": query}


class SynthesisAgent:
    @plait.step
    async def combine(self, findings: dict[str, Any]) -> list[str]:
        LOG.hit("combine")
        return sorted(f"{k}={v['topic']}" for k, v in findings.items())


class ExtractAgent:
    @plait.step
    async def extract(self, source: str) -> list[dict[str, Any]]:
        LOG.hit(f"extract:{source}")
        return [{"source": source, "amount": len(source) * 10}, {"source": source, "amount": -1}]


class Cleaner:
    @plait.step
    async def clean(self, raw: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
        return [row for rows in raw for row in rows if row["amount"] >= 0]


class Validator:
    @plait.step
    async def validate(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        if not rows:
            raise ValueError("nothing to load")
        return rows


class Enricher:
    @plait.step
    async def enrich(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, "amount_k": row["amount"] / 1000} for row in rows]


class Loader:
    def __init__(self) -> None:
        self.warehouse: list[dict[str, Any]] = []

    @plait.step
    async def load_to_warehouse(self, rows: list[dict[str, Any]]) -> int:
        self.warehouse = list(rows)
        return len(rows)


class Reporter:
    def __init__(self, kind: str) -> None:
        self.kind = kind

    @plait.step(name="report")
    async def generate(self, rows: list[dict[str, Any]]) -> dict[str, Any]:
        return {"kind": self.kind, "total": sum(r["amount"] for r in rows)}


class Notifier:
    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    @plait.step(name="notify")
    async def send(self, channel: str, data: dict[str, Any]) -> str:
        self.sent.append((channel, data))
        return f"{channel}:{data.get('email') or data.get('order_id')}"


@dataclass
class Decision:
    choice: str
    confidence: float


class Scorer:
    def __init__(self, name: str, weight: float) -> None:
        self.name = name
        self.weight = weight

    @plait.step(name="analysis")
    async def analyze(self, opportunity: dict[str, Any]) -> dict[str, Any]:
        return {"criterion": self.name, "score": opportunity[self.name] * self.weight}

    async def assess(self, opportunity: dict[str, Any]) -> dict[str, Any]:
        return await self.analyze(opportunity)


class DecisionAgent:
    @plait.step
    async def synthesize(self, analyses: dict[str, Any]) -> Decision:
        total = sum(a["score"] for a in analyses.values())
        return Decision("invest" if total >= 2.0 else "pass", min(1.0, abs(total - 2.0) + 0.5))


class Recommender:
    @plait.step
    async def generate(self, decision: Decision) -> str:
        return f"Recommendation: {decision.choice} (confidence {decision.confidence:.2f})"
