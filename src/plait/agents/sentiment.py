"""Sentiment analysis with VADER, whose lexicon ships inside the vaderSentiment wheel.

Labels use VADER's documented cut-offs: compound >= 0.05 is positive, <= -0.05 negative.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from plait.agents._validate import require_str
from plait.agents.text import split_sentences

POSITIVE_THRESHOLD = 0.05
NEGATIVE_THRESHOLD = -0.05

_analyzer: Any = None
_analyzer_lock = threading.Lock()


def _get_analyzer() -> Any:
    """Build the analyzer once: loading the lexicon costs tens of milliseconds."""
    global _analyzer
    if _analyzer is None:
        with _analyzer_lock:
            if _analyzer is None:
                from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

                _analyzer = SentimentIntensityAnalyzer()
    return _analyzer


def polarity(text: str) -> dict[str, float]:
    """VADER's scores for one text: ``{"compound", "positive", "negative", "neutral"}``."""
    scores = _get_analyzer().polarity_scores(text)
    return {
        "compound": round(float(scores["compound"]), 4),
        "positive": round(float(scores["pos"]), 4),
        "negative": round(float(scores["neg"]), 4),
        "neutral": round(float(scores["neu"]), 4),
    }


def label_for(compound: float) -> str:
    if compound >= POSITIVE_THRESHOLD:
        return "positive"
    if compound <= NEGATIVE_THRESHOLD:
        return "negative"
    return "neutral"


def analyze(*, text: str) -> dict[str, Any]:
    """Score a document sentence by sentence.

    The overall ``compound`` is the word-weighted mean of the sentence compounds rather than
    VADER run on the whole text: VADER's normalisation saturates towards +/-1 on long inputs,
    so a mixed report would otherwise look uniformly glowing or dire. Weighting by words keeps
    headings and fragments from diluting the score.

    Returns ``{"label", "compound", "positive", "negative", "neutral", "sentence_count",
    "counts": {label: n}, "sentences": [{"text", "compound", "label"}], "most_positive",
    "most_negative"}``; the last two are ``{"text", "compound"}``, or ``None`` when no sentence
    carries that polarity.
    """
    require_str(text, "text")
    sentences: list[dict[str, Any]] = []
    totals = {"compound": 0.0, "positive": 0.0, "negative": 0.0, "neutral": 0.0}
    total_weight = 0
    for sentence in split_sentences(text):
        scores = polarity(sentence)
        weight = max(1, len(sentence.split()))
        total_weight += weight
        for key in totals:
            totals[key] += scores[key] * weight
        sentences.append(
            {
                "text": sentence,
                "compound": scores["compound"],
                "label": label_for(scores["compound"]),
            }
        )
    if total_weight:
        overall = {key: round(value / total_weight, 4) for key, value in totals.items()}
    else:
        overall = {"compound": 0.0, "positive": 0.0, "negative": 0.0, "neutral": 1.0}

    best = max(sentences, key=lambda s: s["compound"], default=None)
    worst = min(sentences, key=lambda s: s["compound"], default=None)
    return {
        "label": label_for(overall["compound"]),
        **overall,
        "sentence_count": len(sentences),
        "counts": _counts(sentences),
        "sentences": sentences,
        "most_positive": _pick(best, lambda c: c >= POSITIVE_THRESHOLD),
        "most_negative": _pick(worst, lambda c: c <= NEGATIVE_THRESHOLD),
    }


def analyze_many(*, texts: list[str]) -> dict[str, Any]:
    """Score short independent texts (reviews, comments), each as a whole.

    Returns ``{"label", "average_compound", "counts": {label: n},
    "results": [{"index", "text", "compound", "label"}]}``; ``label`` is that of the average.
    """
    if isinstance(texts, str) or not isinstance(texts, list):
        raise TypeError(f"texts must be a list of strings, got {type(texts).__name__}")
    results: list[dict[str, Any]] = []
    for index, item in enumerate(texts):
        require_str(item, f"texts[{index}]")
        compound = polarity(item)["compound"]
        results.append(
            {"index": index, "text": item, "compound": compound, "label": label_for(compound)}
        )
    average = round(sum(r["compound"] for r in results) / len(results), 4) if results else 0.0
    return {
        "label": label_for(average),
        "average_compound": average,
        "counts": _counts(results),
        "results": results,
    }


def _counts(items: list[dict[str, Any]]) -> dict[str, int]:
    counts = {"positive": 0, "negative": 0, "neutral": 0}
    for item in items:
        counts[item["label"]] += 1
    return counts


def _pick(sentence: dict[str, Any] | None, keep: Callable[[float], bool]) -> dict[str, Any] | None:
    if sentence is None or not keep(sentence["compound"]):
        return None
    return {"text": sentence["text"], "compound": sentence["compound"]}
