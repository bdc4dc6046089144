"""Built-in offline agents: real work with shipped libraries, no network, no API keys.

They sit beside the engine, not inside it: each is a plain module-level function called
with keyword arguments and returning JSON-serialisable data, so a workflow names one as
``action: "plait.agents.sentiment:analyze"`` exactly as it would name user code. Nothing
here imports the engine. Heavy libraries (VADER, pypdf, BeautifulSoup, markdown-it) are
imported inside the functions that use them, so importing these modules stays cheap.

``BUILTIN_AGENTS`` maps short names to the functions, for discovery and for tests.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from plait.agents.anomaly import detect_against_history, detect_anomalies
from plait.agents.classify import classify, moderate
from plait.agents.keywords import extract_keywords
from plait.agents.report import generate_report
from plait.agents.sentiment import analyze, analyze_many
from plait.agents.summarize import summarize
from plait.agents.text import extract_text, split_sentences

BUILTIN_AGENTS: dict[str, Callable[..., Any]] = {
    "extract_text": extract_text,
    "analyze_sentiment": analyze,
    "analyze_sentiment_many": analyze_many,
    "summarize": summarize,
    "extract_keywords": extract_keywords,
    "moderate": moderate,
    "classify": classify,
    "detect_anomalies": detect_anomalies,
    "detect_against_history": detect_against_history,
    "generate_report": generate_report,
}

__all__ = [
    "BUILTIN_AGENTS",
    "analyze",
    "analyze_many",
    "classify",
    "detect_against_history",
    "detect_anomalies",
    "extract_keywords",
    "extract_text",
    "generate_report",
    "moderate",
    "split_sentences",
    "summarize",
]
